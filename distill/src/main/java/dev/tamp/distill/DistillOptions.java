package dev.tamp.distill;

import dev.tamp.core.encoding.MxFormat;
import java.nio.file.Path;
import java.util.List;

/**
 * Settings of one distillation run. {@code mxFormats} non-empty selects multi-format QAT (one format sampled per step,
 * output saved as {@code anchor}); {@code checkpointDir} receives a checkpoint every {@code checkpointEvery} steps (0 =
 * never); {@code resume} names a checkpoint directory to continue from. {@code featureWeight} &gt; 0 adds the per-layer feature
 * loss (the teacher's intermediate activations as extra targets) with that weight.
 */
public record DistillOptions(int steps, float lr, int batch, int seq, int warmup, long seed, float weightDecay, Loss loss,
        float temperature, float featureWeight, List<MxFormat> mxFormats, MxFormat anchor, int checkpointEvery, Path checkpointDir, Path resume) {

    public enum Loss { MSE, COSINE, KL }

    public DistillOptions {
        mxFormats = List.copyOf(mxFormats);
        if (steps < 1) throw new IllegalArgumentException("--steps must be ≥ 1");
        if (batch < 1) throw new IllegalArgumentException("--batch must be ≥ 1");
        if (seq < 4) throw new IllegalArgumentException("--seq must be ≥ 4");
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be > 0");
        if (!(temperature > 0)) throw new IllegalArgumentException("--temperature must be > 0");
        if (!(featureWeight >= 0) || Float.isInfinite(featureWeight)) throw new IllegalArgumentException("--feature-loss must be a finite weight ≥ 0");
    }

    /** What the optimisation trajectory depends on (a checkpoint only resumes a run with the same value). */
    String fingerprint() {
        return steps + "|" + lr + "|" + batch + "|" + seq + "|" + warmup + "|" + seed + "|" + weightDecay + "|" + loss + "|" + temperature
                + "|" + featureWeight + "|" + mxFormats + "|" + anchor;
    }
}
