package dev.tamp.core.ir;

import dev.tamp.core.tensor.Tensor;
import java.util.List;

/** A node attribute, ONNX-style: one of a closed set of value kinds. */
public sealed interface Attribute {
    record Float(float value) implements Attribute {}
    record Int(long value) implements Attribute {}
    record Str(String value) implements Attribute {}
    record TensorValue(Tensor value) implements Attribute {}
    record Floats(float[] values) implements Attribute {}
    record Ints(long[] values) implements Attribute {}
    record Strs(List<String> values) implements Attribute {}
    record GraphValue(Graph value) implements Attribute {}
}
