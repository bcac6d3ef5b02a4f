package dev.tamp.runtime.kernels;

/**
 * Symmetric integer fake-quantization of activation rows, as W8A8 executes it: per token Δ = max|x_row| / qmax
 * (dynamic), or one calibrated static Δ; q = clamp(RNE(x/Δ), ±qmax), x̂ = q·Δ. Shared by the executing kernel
 * and by searches that must predict its error (SmoothQuant's α search).
 */
public final class ActivationQuantization {
    private ActivationQuantization() {}

    /** Quantizes rows [from, to) of x [rows][k] in place; {@code staticScale} ≤ 0 means per token. */
    public static void quantizeRows(float[] x, int from, int to, int k, int qmax, float staticScale) {
        for (int r = from; r < to; r++) {
            int o = r * k;
            float amax = 0;
            for (int j = 0; j < k; j++) amax = Math.max(amax, Math.abs(x[o + j]));
            float d = staticScale > 0 ? staticScale : (amax == 0 ? 1f : amax / qmax);
            for (int j = 0; j < k; j++) x[o + j] = (float) Math.max(-qmax, Math.min(qmax, Math.rint(x[o + j] / d))) * d;
        }
    }
}
