package dev.tamp.core.ir;

import dev.tamp.core.tensor.Tensor;
import java.util.List;

/** A node attribute, ONNX-style: one of a closed set of value kinds. */
public sealed interface Attribute {
    record Float(float value) implements Attribute {}
    record Int(long value) implements Attribute {}
    record Str(String value) implements Attribute {}
    record TensorValue(Tensor value) implements Attribute {}
    record Floats(float[] values) implements Attribute {
        @Override public boolean equals(Object o) { return o instanceof Floats f && java.util.Arrays.equals(values, f.values); }

        @Override public int hashCode() { return java.util.Arrays.hashCode(values); }

        @Override public String toString() { return "Floats" + java.util.Arrays.toString(values); }
    }

    record Ints(long[] values) implements Attribute {
        @Override public boolean equals(Object o) { return o instanceof Ints i && java.util.Arrays.equals(values, i.values); }

        @Override public int hashCode() { return java.util.Arrays.hashCode(values); }

        @Override public String toString() { return "Ints" + java.util.Arrays.toString(values); }
    }
    record Strs(List<String> values) implements Attribute {}
    record GraphValue(Graph value) implements Attribute {}
}
