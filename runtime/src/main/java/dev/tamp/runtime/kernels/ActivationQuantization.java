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
        quantizeBlocks(x, from, to, k, k, qmax, staticScale);
    }

    /**
     * The same with one Δ per block of {@code block} consecutive elements of a row (the last one maybe shorter): the
     * int8 activations of W4A8 (block 32, llama.cpp's Q8_0), which the native kernels compute bit for bit.
     */
    public static void quantizeBlocks(float[] x, int from, int to, int k, int block, int qmax, float staticScale) {
        for (int r = from; r < to; r++) {
            for (int b0 = r * k, end = r * k + k; b0 < end; b0 += block) {
                int b1 = Math.min(end, b0 + block);
                float amax = 0;
                for (int j = b0; j < b1; j++) amax = Math.max(amax, Math.abs(x[j]));
                float d = staticScale > 0 ? staticScale : (amax == 0 ? 1f : amax / qmax);
                for (int j = b0; j < b1; j++) x[j] = (float) Math.max(-qmax, Math.min(qmax, Math.rint(x[j] / d))) * d;
            }
        }
    }
}
