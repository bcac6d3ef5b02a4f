package dev.tamp.quantizers.awq;

import java.util.List;

/**
 * AWQ settings (algorithms.md §2.3). Defaults follow the paper and llm-awq: 4-bit, group 128, asymmetric, a
 * 20-point grid s = mean|x|^r for r = 0, 1/20, …, 19/20 (r = 0 is plain RTN), clipping search on all but
 * the query/key projections.
 *
 * @param propagate how each block's calibration inputs are produced: {@code COMPRESSED} runs the calibration
 *                  set through the model whose earlier blocks are already quantized (what this issue asks,
 *                  and llm-compressor's default); {@code FP} uses the FP32 model's activations for every block
 *                  (llm-awq and AutoAWQ), one calibration pass instead of one per block.
 */
public record AwqOptions(int bits, int groupSize, boolean symmetric, int grid, boolean clip, Propagation propagate, List<String> ignore) {
    public enum Propagation { FP, COMPRESSED }

    public AwqOptions {
        if (bits != 4 && bits != 8) throw new IllegalArgumentException("--bits must be 4 or 8, not " + bits);
        if (groupSize < 0) throw new IllegalArgumentException("--group must be ≥ 0 (0 = per output channel)");
        if (grid < 1) throw new IllegalArgumentException("--grid must be ≥ 1, not " + grid);
        ignore = List.copyOf(ignore);
    }

    public static AwqOptions defaults() {
        return new AwqOptions(4, 128, false, 20, true, Propagation.COMPRESSED, List.of());
    }
}
