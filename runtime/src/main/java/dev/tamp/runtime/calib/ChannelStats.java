package dev.tamp.runtime.calib;

import dev.tamp.runtime.kernels.OpenBlas;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.VectorGemm;

/**
 * Streaming statistics of one linear layer's input X (rows = tokens, columns = the K input channels):
 * per-channel absmax, sum of |x| and of x² (for AWQ's mean |x| and Wanda's ‖X_j‖₂), and optionally the Gram
 * matrix XᵀX in float64 (SparseGPT, COMPOT). Padding rows are skipped. Batches add up; memory is O(K²).
 */
public final class ChannelStats {
    public final int k;
    public final float[] absMax;
    public final double[] sumAbs;
    public final double[] sumSq;
    public final double[] gram; // [K][K] row-major, or null
    /** The first {@code sample.length / k} unmasked rows seen, kept as they are (searches that need real tokens). */
    public final float[] sample;
    public int sampled;
    public long rows;

    public ChannelStats(int k, boolean withGram) {
        this(k, withGram, 0);
    }

    public ChannelStats(int k, boolean withGram, int sampleRows) {
        this.k = k;
        absMax = new float[k];
        sumAbs = new double[k];
        sumSq = new double[k];
        gram = withGram ? new double[k * k] : null;
        sample = new float[Math.multiplyExact(sampleRows, k)];
    }

    /** Adds the rows of x [n][k] whose mask entry is true (mask null: all rows). */
    public void add(float[] x, int n, boolean[] mask, Parallel parallel) {
        int kept = 0;
        float[] sel = new float[n * k];
        for (int r = 0; r < n; r++) {
            if (mask != null && !mask[r]) continue;
            System.arraycopy(x, r * k, sel, kept * k, k);
            kept++;
        }
        if (kept == 0) return;
        int take = Math.min(kept, sample.length / k - sampled);
        if (take > 0) {
            System.arraycopy(sel, 0, sample, sampled * k, take * k);
            sampled += take;
        }
        for (int r = 0; r < kept; r++) {
            int base = r * k;
            for (int j = 0; j < k; j++) {
                float v = sel[base + j];
                float a = Math.abs(v);
                if (a > absMax[j]) absMax[j] = a;
                sumAbs[j] += a;
                sumSq[j] += (double) v * v;
            }
        }
        if (gram != null && OpenBlas.available()) {
            OpenBlas.addGram(sel, kept, k, gram, parallel);
        } else if (gram != null) {
            // XᵀX of this batch with the FP32 kernel (Xᵀ as [K][rows] in both operands), accumulated in float64.
            float[] xt = new float[k * kept];
            for (int r = 0; r < kept; r++) for (int j = 0; j < k; j++) xt[j * kept + r] = sel[r * k + j];
            float[] g = new float[k * k];
            VectorGemm.gemm(xt, xt, g, k, k, kept, parallel);
            for (int i = 0; i < g.length; i++) gram[i] += g[i];
        }
        rows += kept;
    }

    public float[] meanAbs() {
        float[] m = new float[k];
        for (int j = 0; j < k; j++) m[j] = (float) (sumAbs[j] / Math.max(1, rows));
        return m;
    }

    /** ‖X_j‖₂ per channel. */
    public float[] norms() {
        float[] m = new float[k];
        for (int j = 0; j < k; j++) m[j] = (float) Math.sqrt(sumSq[j]);
        return m;
    }
}
