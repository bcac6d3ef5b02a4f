package dev.tamp.runtime.decode;

import dev.tamp.runtime.arch.LlamaConfig;

/**
 * Rotary position embedding applied in place to the heads of one token, in the two layouts Llama checkpoints
 * come in: HF halves (dimension i pairs with i + hd/2) and Meta's interleaved pairs (2i, 2i+1). The cos/sin of a
 * position are computed when the position is first reached, in double then rounded to float, the way the
 * graph's tables hold them, so both paths rotate by identical factors.
 */
final class Rotary {
    private final LlamaConfig c;
    private final int half;
    private float[] cos = new float[0], sin = new float[0];
    private int positions;

    Rotary(LlamaConfig c) {
        this.c = c;
        this.half = c.headDim() / 2;
    }

    /** Makes the tables cover positions [0, n). */
    void ensure(int n) {
        if (n <= positions) return;
        int grown = Math.max(n, Math.min(c.maxPositions(), 2 * positions));
        cos = java.util.Arrays.copyOf(cos, grown * half);
        sin = java.util.Arrays.copyOf(sin, grown * half);
        for (int p = positions; p < grown; p++) {
            for (int i = 0; i < half; i++) {
                double a = c.ropeAngle(p, i);
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
        positions = grown;
    }

    /** Rotates {@code heads} heads stored at x[off ..] (heads × head dim) for {@code position}. */
    void apply(float[] x, int off, int heads, int position) {
        int hd = c.headDim(), t = position * half;
        for (int h = 0; h < heads; h++) {
            int b = off + h * hd;
            for (int i = 0; i < half; i++) {
                float cs = cos[t + i], sn = sin[t + i];
                // the graph's float arithmetic: pairs get the 2×2 rotation, halves x·cos + rotate_half(x)·sin
                if (c.ropeInterleaved()) {
                    int i0 = b + 2 * i, i1 = i0 + 1;
                    float x0 = x[i0], x1 = x[i1];
                    x[i0] = x0 * cs - x1 * sn;
                    x[i1] = x0 * sn + x1 * cs;
                } else {
                    int i0 = b + i, i1 = i0 + half;
                    float x0 = x[i0], x1 = x[i1];
                    x[i0] = x0 * cs + -x1 * sn;
                    x[i1] = x1 * cs + x0 * sn;
                }
            }
        }
    }
}
