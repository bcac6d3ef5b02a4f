package dev.tamp.runtime.linalg;

import java.util.Arrays;

/**
 * A dense float64 matrix stored row-major: element (i, j) is {@code data[i * cols + j]}.
 * The record shares its array; methods that return a new matrix never alias their inputs.
 */
public record Matrix(int rows, int cols, double[] data) {

    public Matrix {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative matrix dims " + rows + "x" + cols);
        if (data.length != (long) rows * cols) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " needs " + (long) rows * cols
                    + " values, got " + data.length);
        }
    }

    public static Matrix zeros(int rows, int cols) {
        return new Matrix(rows, cols, new double[Math.multiplyExact(rows, cols)]);
    }

    public static Matrix identity(int n) {
        Matrix m = zeros(n, n);
        for (int i = 0; i < n; i++) m.data[i * n + i] = 1;
        return m;
    }

    /** Widens a row-major float matrix. */
    public static Matrix ofFloats(int rows, int cols, float[] values) {
        if (values.length != (long) rows * cols) {
            throw new IllegalArgumentException("matrix " + rows + "x" + cols + " needs " + (long) rows * cols
                    + " values, got " + values.length);
        }
        double[] d = new double[values.length];
        for (int i = 0; i < d.length; i++) d[i] = values[i];
        return new Matrix(rows, cols, d);
    }

    public double get(int i, int j) { return data[i * cols + j]; }

    public void set(int i, int j, double v) { data[i * cols + j] = v; }

    public Matrix copy() { return new Matrix(rows, cols, data.clone()); }

    public Matrix transpose() {
        double[] t = new double[data.length];
        // Blocked so that neither side strides through memory column by column for long.
        final int b = 32;
        for (int i0 = 0; i0 < rows; i0 += b) {
            int i1 = Math.min(rows, i0 + b);
            for (int j0 = 0; j0 < cols; j0 += b) {
                int j1 = Math.min(cols, j0 + b);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) t[j * rows + i] = data[i * cols + j];
                }
            }
        }
        return new Matrix(cols, rows, t);
    }

    /** Columns [from, to) as a new matrix. */
    public Matrix columns(int from, int to) {
        if (from < 0 || to > cols || from > to) throw new IllegalArgumentException("columns [" + from + "," + to + ") of " + cols);
        Matrix m = zeros(rows, to - from);
        for (int i = 0; i < rows; i++) System.arraycopy(data, i * cols + from, m.data, i * m.cols, to - from);
        return m;
    }

    /** Rows [from, to) as a new matrix. */
    public Matrix rowRange(int from, int to) {
        if (from < 0 || to > rows || from > to) throw new IllegalArgumentException("rows [" + from + "," + to + ") of " + rows);
        return new Matrix(to - from, cols, Arrays.copyOfRange(data, from * cols, to * cols));
    }

    public double frobeniusNorm() {
        // Scaled sum of squares: safe against overflow for huge entries.
        double scale = 0, ssq = 1;
        for (double v : data) {
            if (v != 0) {
                double a = Math.abs(v);
                if (scale < a) { ssq = 1 + ssq * (scale / a) * (scale / a); scale = a; }
                else ssq += (a / scale) * (a / scale);
            }
        }
        return scale * Math.sqrt(ssq);
    }

    public Matrix minus(Matrix o) {
        requireSameShape(o);
        double[] d = new double[data.length];
        for (int i = 0; i < d.length; i++) d[i] = data[i] - o.data[i];
        return new Matrix(rows, cols, d);
    }

    public Matrix plus(Matrix o) {
        requireSameShape(o);
        double[] d = new double[data.length];
        for (int i = 0; i < d.length; i++) d[i] = data[i] + o.data[i];
        return new Matrix(rows, cols, d);
    }

    public Matrix scale(double f) {
        double[] d = new double[data.length];
        for (int i = 0; i < d.length; i++) d[i] = data[i] * f;
        return new Matrix(rows, cols, d);
    }

    /** Largest absolute entry. */
    public double maxAbs() {
        double m = 0;
        for (double v : data) m = Math.max(m, Math.abs(v));
        return m;
    }

    /** True when no entry is NaN or infinite. */
    public boolean allFinite() {
        for (double v : data) if (!Double.isFinite(v)) return false;
        return true;
    }

    public boolean isSquare() { return rows == cols; }

    public float[] toFloats() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) data[i];
        return f;
    }

    private void requireSameShape(Matrix o) {
        if (o.rows != rows || o.cols != cols) {
            throw new IllegalArgumentException("shape mismatch " + rows + "x" + cols + " vs " + o.rows + "x" + o.cols);
        }
    }

    @Override public boolean equals(Object o) {
        return o instanceof Matrix m && m.rows == rows && m.cols == cols && Arrays.equals(m.data, data);
    }

    @Override public int hashCode() { return 31 * (31 * rows + cols) + Arrays.hashCode(data); }

    @Override public String toString() { return "Matrix[" + rows + "x" + cols + "]"; }
}
