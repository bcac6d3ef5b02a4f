package dev.tamp.runtime.linalg;

/**
 * Thin SVD {@code A = U · diag(s) · Vt} of an m×n matrix, p = min(m, n): U is m×p with orthonormal
 * columns, s holds p singular values in descending order, Vt is p×n with orthonormal rows.
 */
public record Svd(Matrix u, double[] s, Matrix vt) {
    public int rank() { return s.length; }
}
