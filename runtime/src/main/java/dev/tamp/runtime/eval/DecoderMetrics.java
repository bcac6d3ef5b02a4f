package dev.tamp.runtime.eval;

/**
 * Decoder metrics over next-token logits at the same positions of a reference and a candidate model:
 * KL(reference ‖ candidate) per token, top-1 agreement, and negative log-likelihood of given targets
 * (perplexity = exp(mean NLL)). Accumulates streaming; computed in double with log-sum-exp.
 */
public final class DecoderMetrics {
    private double klSum;
    private long agree;
    private double nllRef;
    private double nllCand;
    private long positions;

    /** Adds one position: both models' logits over the vocabulary and the actual next token (or -1). */
    public void add(float[] refLogits, float[] candLogits, int target) {
        double[] p = logSoftmax(refLogits);
        double[] q = logSoftmax(candLogits);
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            double pi = Math.exp(p[i]);
            if (pi > 0) kl += pi * (p[i] - q[i]);
        }
        klSum += Math.max(0, kl);
        if (argmax(refLogits) == argmax(candLogits)) agree++;
        if (target >= 0) {
            nllRef -= p[target];
            nllCand -= q[target];
        }
        positions++;
    }

    public long positions() { return positions; }

    public double meanKl() { return klSum / Math.max(1, positions); }

    public double top1Agreement() { return (double) agree / Math.max(1, positions); }

    public double referencePerplexity() { return Math.exp(nllRef / Math.max(1, positions)); }

    public double candidatePerplexity() { return Math.exp(nllCand / Math.max(1, positions)); }

    static double[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        double sum = 0;
        for (float v : x) sum += Math.exp(v - max);
        double lse = max + Math.log(sum);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - lse;
        return out;
    }

    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
