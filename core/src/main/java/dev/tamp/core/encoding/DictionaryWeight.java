package dev.tamp.core.encoding;

import dev.tamp.core.tensor.Tensor;

/**
 * COMPOT's factorisation of W[N][K] ≈ codes[N][k] · dictionary[k][K], where each row of the code matrix
 * keeps exactly {@code sparsity} = s of the k atoms. Stored as the paper counts it (its Eq. 11): the
 * values {@code codeValues} [N][s] in ascending atom order, and which atoms they belong to as a bit mask
 * {@code codeMask} U8 [N][⌈k/8⌉] (bit a % 8 of byte a / 8 set when atom a is used) — k/8 bytes per row,
 * against 2s bytes for int16 indices at the usual k = 2s. The dictionary already includes the de-whitening
 * (L^{-T} D), so execution is two products.
 */
public record DictionaryWeight(long[] shape, int kAxis, EncodedTensor dictionary, EncodedTensor codeValues, Tensor codeMask,
                               int sparsity) implements EncodedTensor {

    /** Atoms k in the dictionary. */
    public int atoms() { return Math.toIntExact(dictionary.shape()[0]); }

    /** The s atoms used by output row {@code row}, ascending. */
    public int[] support(int row) {
        int bytesPerRow = Math.toIntExact(codeMask.shape()[1]);
        java.nio.ByteBuffer mask = codeMask.data();
        int[] out = new int[sparsity];
        int found = 0;
        for (int b = 0; b < bytesPerRow; b++) {
            int bits = mask.get((int) ((long) row * bytesPerRow + b)) & 0xFF;
            for (int bit = 0; bits != 0; bit++, bits >>>= 1) {
                if ((bits & 1) == 0) continue;
                if (found == sparsity) throw new IllegalStateException("row " + row + " of the code mask has more than " + sparsity + " atoms");
                out[found++] = b * 8 + bit;
            }
        }
        if (found != sparsity) throw new IllegalStateException("row " + row + " of the code mask has " + found + " atoms, expected " + sparsity);
        return out;
    }

    @Override public long storageBytes() {
        return dictionary.storageBytes() + codeValues.storageBytes() + codeMask.byteSize();
    }

    @Override public String describe() {
        return "dict(k=" + dictionary.shape()[0] + ",s=" + sparsity + "," + dictionary.describe() + ")";
    }
}
