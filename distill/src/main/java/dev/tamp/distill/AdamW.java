package dev.tamp.distill;

/**
 * AdamW (Loshchilov and Hutter 2019) on float arrays: Adam moments with bias correction, and weight decay applied to
 * the weight directly (decoupled), scaled by the learning rate. Sequential float arithmetic, so updates are bitwise
 * reproducible.
 */
public final class AdamW {
    public static final float BETA1 = 0.9f, BETA2 = 0.999f, EPS = 1e-8f;

    private AdamW() {}

    /** One update of {@code w} from gradient {@code g}; {@code t} is the 1-based step count; m and v are updated in place. */
    public static void step(float[] w, float[] g, float[] m, float[] v, int t, float lr, float weightDecay) {
        double c1 = 1 - Math.pow(BETA1, t), c2 = 1 - Math.pow(BETA2, t);
        float a = (float) (lr / c1);
        float s = (float) Math.sqrt(c2);
        float decay = 1f - lr * weightDecay;
        for (int i = 0; i < w.length; i++) {
            m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
            v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] * g[i];
            w[i] = w[i] * decay - a * m[i] / ((float) Math.sqrt(v[i]) / s + EPS);
        }
    }

    /** Linear warm-up over {@code warmup} steps to {@code peak}, then cosine decay to 0 at {@code total}; {@code t} is 1-based. */
    public static float learningRate(int t, int total, int warmup, float peak) {
        if (warmup > 0 && t <= warmup) return peak * t / warmup;
        double p = total <= warmup ? 1 : (double) (t - warmup) / (total - warmup);
        return (float) (peak * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p))));
    }
}
