package dev.tamp.runtime.linalg;

/**
 * Eigen-decomposition of a symmetric n×n matrix, {@code A = V · diag(values) · Vᵀ}: values in ascending
 * order, the eigenvector of {@code values[j]} in column j of {@code vectors}.
 */
public record Eigh(double[] values, Matrix vectors) {}
