package dev.tamp.core.encoding;

import dev.tamp.core.tensor.Tensor;

/** A weight kept as a plain dense tensor (any dtype). */
public record DenseWeight(Tensor tensor) implements EncodedTensor {
    @Override public long[] shape() { return tensor.shape(); }

    @Override public long storageBytes() { return tensor.byteSize(); }

    @Override public String describe() { return tensor.dtype().displayName(); }
}
