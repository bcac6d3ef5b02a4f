package dev.tamp.pruning;

import java.util.List;

/**
 * Pruning settings.
 *
 * @param dampening  SparseGPT: λ in H + λ·mean(diag H)·I (0.01, the reference default)
 * @param blockSize  SparseGPT: columns per lazy-update block (128); a multiple of the pattern's M
 * @param weightBits 0 to keep the kept values in FP32; 4 or 8 to round them to symmetric integers (RTN) afterwards
 *                   — symmetric so that 0 stays exactly 0 (algorithms.md §4.6)
 * @param groupSize  quantization group along the dense K (formats.md §5.2: 2:4 stores half of them); 0 = per row
 * @param propagate  COMPRESSED: each block is calibrated on the outputs of the already-pruned earlier blocks (the
 *                   SparseGPT and Wanda references); FP: every block on the FP32 model's activations
 * @param ignore     --ignore patterns, on top of {@link #DEFAULT_IGNORE}
 */
public record PruneOptions(PruneMethod method, NmPattern pattern, double dampening, int blockSize, int weightBits, int groupSize,
                           Propagation propagate, List<String> ignore) {
    public enum Propagation { FP, COMPRESSED }

    /** Never pruned: embeddings (also excluded as Gather operands), the pooler and the LM head. */
    public static final List<String> DEFAULT_IGNORE = List.of("*embed*", "*pooler*", "*lm_head*");

    public PruneOptions {
        if (!(dampening >= 0 && dampening < 1e3)) throw new IllegalArgumentException("--dampening must be ≥ 0, not " + dampening);
        if (blockSize < 1 || blockSize % pattern.group() != 0) {
            throw new IllegalArgumentException("--block-size must be a positive multiple of M = " + pattern.group() + ", not " + blockSize);
        }
        if (weightBits != 0 && weightBits != 4 && weightBits != 8) throw new IllegalArgumentException("--weights must be int4 or int8");
        if (groupSize < 0 || (groupSize > 0 && groupSize % 4 != 0)) {
            throw new IllegalArgumentException("--group must be 0 (per row) or a multiple of 4, not " + groupSize);
        }
        if (weightBits != 0 && !pattern.fits24()) throw new IllegalArgumentException("--weights needs a pattern storable as 2:4, not " + pattern);
        ignore = List.copyOf(ignore);
    }

    public static PruneOptions defaults(PruneMethod method) {
        return new PruneOptions(method, NmPattern.TWO_FOUR, 0.01, 128, 0, 0, Propagation.COMPRESSED, List.of());
    }
}
