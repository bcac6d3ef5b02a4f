package dev.tamp.core.encoding;

import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;

/**
 * Integer codes with a float scale (and optionally an integer zero point) per group of {@code groupSize}
 * consecutive K columns of each row; {@code groupSize == K} is per-output-channel. Value = (q − zero) · scale.
 * <ul>
 *   <li>codes: N rows, each ceil(K/8·bits) bytes. 8-bit codes are signed int8 (symmetric) or uint8
 *       (asymmetric); 4-bit codes are unsigned nibbles, low nibble first, symmetric ones offset by 8.</li>
 *   <li>scales: F32 [N][groups]; zeroPoints: U8 [N][groups] (asymmetric only, else null).</li>
 *   <li>The last group of a row may be shorter when groupSize does not divide K.</li>
 *   <li>inputScale: optional F32 [K] per-input-channel multiplier applied to activations before the
 *       product (SmoothQuant's explicit smoothing where no producer can absorb it), else null.</li>
 *   <li>activationBits: 0 for weight-only; 8 for W8A8 with dynamic per-token activations;
 *       activationScale: > 0 for static per-tensor activation quantization.</li>
 * </ul>
 */
public record IntGroupedWeight(
        long[] shape, int kAxis, int bits, boolean symmetric, int groupSize,
        ByteBuffer codes, Tensor scales, Tensor zeroPoints, Tensor inputScale,
        int activationBits, float activationScale, Layout layout) implements EncodedTensor {

    public long rows() { return EncodedTensor.rows(shape, kAxis); }

    public long cols() { return EncodedTensor.cols(shape, kAxis); }

    public int groupsPerRow() { return (int) ((cols() + groupSize - 1) / groupSize); }

    public int rowBytes() { return (int) ((cols() * bits + 7) / 8); }

    @Override public long storageBytes() {
        return codes.capacity() + scales.byteSize() + (zeroPoints == null ? 0 : zeroPoints.byteSize())
                + (inputScale == null ? 0 : inputScale.byteSize());
    }

    @Override public String describe() {
        String g = groupSize >= cols() ? "ch" : "g" + groupSize;
        String a = activationBits > 0 ? "a" + activationBits : "";
        return "int" + bits + a + "-" + (symmetric ? "sym" : "asym") + "-" + g;
    }
}
