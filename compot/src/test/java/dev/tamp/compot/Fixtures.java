package dev.tamp.compot;

import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import java.util.Random;

/** Synthetic weights and calibration inputs with a fixed seed. */
final class Fixtures {
    private Fixtures() {}

    static Matrix gaussian(int rows, int cols, long seed) {
        Random r = new Random(seed);
        double[] d = new double[rows * cols];
        for (int i = 0; i < d.length; i++) d[i] = r.nextGaussian();
        return new Matrix(rows, cols, d);
    }

    /**
     * Correlated inputs [tokens][k]: a low-dimensional latent mix plus noise, with a few outlier channels
     * ×8, the way transformer activations look (strongly non-isotropic Gram).
     */
    static Matrix correlatedInputs(int tokens, int k, long seed) {
        Random r = new Random(seed);
        int latent = Math.max(2, k / 8);
        Matrix mix = gaussian(latent, k, seed + 1);
        for (int j = 0; j < latent; j++) {
            double scale = 1 / Math.sqrt(j + 1.0);
            for (int c = 0; c < k; c++) mix.set(j, c, mix.get(j, c) * scale);
        }
        Matrix x = Linalg.multiply(gaussian(tokens, latent, seed + 2), mix);
        for (int t = 0; t < tokens; t++) {
            for (int c = 0; c < k; c++) {
                double v = x.get(t, c) + 0.3 * r.nextGaussian();
                x.set(t, c, c % 29 == 3 ? 8 * v : v);
            }
        }
        return x;
    }

    static Matrix gram(Matrix x) { return Linalg.multiply(x, true, x, false); }

    /** A PyTorch-orientation layer [n][k] with a decaying spectrum. */
    static LayerInput layer(int n, int k, long seed) {
        Matrix w = Linalg.multiply(gaussian(n, k, seed), diagonalDecay(k, 0.02));
        Matrix g = gram(correlatedInputs(Math.max(2 * k, 256), k, seed + 10));
        return new LayerInput(Tensor.ofFloats(w.toFloats(), n, k), 1, g);
    }

    static Matrix diagonalDecay(int k, double rate) {
        Matrix d = Matrix.zeros(k, k);
        for (int i = 0; i < k; i++) d.set(i, i, Math.exp(-rate * i));
        return d;
    }

    /** Round-trips through float32 the way the layer's stored weight does. */
    static Matrix asStored(Matrix m) { return Matrix.ofFloats(m.rows(), m.cols(), m.toFloats()); }
}
