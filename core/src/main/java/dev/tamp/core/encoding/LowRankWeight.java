package dev.tamp.core.encoding;

/**
 * W[N][K] ≈ left[N][r] · right[r][K] (truncated SVD baselines). Factors may themselves be encoded
 * (quantized), which is how COMPOT/SVD outputs compose with quantization.
 */
public record LowRankWeight(long[] shape, int kAxis, EncodedTensor left, EncodedTensor right) implements EncodedTensor {
    @Override public long storageBytes() { return left.storageBytes() + right.storageBytes(); }

    @Override public String describe() { return "lowrank(r=" + right.shape()[0] + "," + left.describe() + ")"; }
}
