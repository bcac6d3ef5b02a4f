package dev.tamp.runtime.kernels;

/**
 * W8A8 execution: the activations entering a quantized weight are multiplied by the optional per-channel input
 * scale (SmoothQuant's explicit smoothing when nothing upstream absorbs it), then quantized to signed integers
 * — per token (dynamic: Δ = max|x_row| / 127), per block of 32 (W4A8: 4-bit weight-only packs by default) or per tensor with a
 * calibrated static Δ — and the product runs on
 * the quantized values. Products are formed in float on the dequantized integers (q_x·Δ)·(q_w·s_w): equal to the
 * integer kernel's Σ q_x·q_w scaled once, up to float summation order.
 */
final class ActivationQuantizingKernel implements LinearKernel {
    private final LinearKernel weights;
    private final int qmax; // 0: no activation quantization (input scale only)
    private final float staticScale;
    private final float[] inputScale;
    private final int block; // 0: per token (or static); else one Δ per block of this many elements

    ActivationQuantizingKernel(LinearKernel weights, int bits, float staticScale, float[] inputScale, int block) {
        this.weights = weights;
        this.block = block;
        this.qmax = bits == 0 ? 0 : (1 << (bits - 1)) - 1;
        this.staticScale = staticScale;
        this.inputScale = inputScale;
    }

    /** The kernel that applies the weight to the quantized activations. */
    LinearKernel weightsKernel() { return weights; }

    @Override public int inFeatures() { return weights.inFeatures(); }

    @Override public int outFeatures() { return weights.outFeatures(); }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        int k = inFeatures();
        float[] q = new float[rows * k];
        parallel.forRange(rows, 16, (from, to) -> {
            for (int r = from; r < to; r++) {
                int o = r * k;
                for (int j = 0; j < k; j++) q[o + j] = inputScale == null ? x[o + j] : x[o + j] * inputScale[j];
            }
            if (qmax != 0) ActivationQuantization.quantizeBlocks(q, from, to, k, block > 0 ? block : k, qmax, staticScale);
        });
        weights.forward(q, rows, out, parallel);
    }

    @Override
    public float[] denseWeight() {
        return weights.denseWeight();
    }
}
