package dev.tamp.core.encoding;

/**
 * COMPOT's factorisation of W[N][K] ≈ codes[N][k] · dictionary[k][K], where each row of the sparse
 * code matrix keeps at most {@code sparsity} non-zeros:
 * {@code codeValues} [N][s] and {@code codeIndices} [N][s] (I16/I32 atom indices, ascending).
 * dictionary already includes the de-whitening (L^{-T} D), so execution is two products.
 */
public record DictionaryWeight(long[] shape, int kAxis, EncodedTensor dictionary,
                               EncodedTensor codeValues, dev.tamp.core.tensor.Tensor codeIndices, int sparsity)
        implements EncodedTensor {
    @Override public long storageBytes() {
        return dictionary.storageBytes() + codeValues.storageBytes() + codeIndices.byteSize();
    }

    @Override public String describe() {
        return "dict(k=" + dictionary.shape()[0] + ",s=" + sparsity + "," + dictionary.describe() + ")";
    }
}
