package dev.tamp.pruning;

import dev.tamp.runtime.calib.ChannelStats;

/** One linear layer pruned to an N:M pattern by the chosen method, from its [n][k] rows and input statistics. */
public final class LayerPruner {
    /** The pruned rows (zero wherever {@code keep} is false) and a note on what the method did, or null. */
    public record Pruned(float[] weights, boolean[] keep, String detail) {}

    private LayerPruner() {}

    /** @param stats this layer's input statistics (Σx² per channel for Wanda, XᵀX for SparseGPT); unused by magnitude */
    public static Pruned prune(float[] rows, int n, int k, ChannelStats stats, PruneOptions o) {
        NmPattern p = o.pattern();
        return switch (o.method()) {
            case MAGNITUDE -> masked(rows, MaskSelection.magnitude(rows, n, k, p), null);
            case WANDA -> masked(rows, MaskSelection.wanda(rows, n, k, stats.sumSq, p), null);
            case SPARSEGPT -> {
                if (stats.gram == null) throw new IllegalArgumentException("SparseGPT needs the Gram matrix of the layer input");
                SparseGpt.Result r = SparseGpt.prune(rows, n, k, stats.gram, p, o.dampening(), o.blockSize());
                String d = (r.deadColumns() > 0 ? r.deadColumns() + " dead inputs zeroed" : "")
                        + (r.fellBack() ? (r.deadColumns() > 0 ? "; " : "") + "H⁻¹ not positive definite: U = I (magnitude)" : "");
                yield new Pruned(r.weights(), r.keep(), d.isEmpty() ? null : d);
            }
        };
    }

    static Pruned masked(float[] rows, boolean[] keep, String detail) {
        float[] out = new float[rows.length];
        for (int i = 0; i < out.length; i++) out[i] = keep[i] ? rows[i] : 0f;
        return new Pruned(out, keep, detail);
    }
}
