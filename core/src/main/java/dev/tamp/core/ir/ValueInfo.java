package dev.tamp.core.ir;

import dev.tamp.core.tensor.DType;
import java.util.List;

/**
 * A graph input or output: name, element type and dimensions. A dimension is either a fixed size
 * (dimValue ≥ 0) or symbolic (dimParam, e.g. "batch"), as in ONNX.
 */
public record ValueInfo(String name, DType dtype, List<Dim> dims) {
    public ValueInfo {
        dims = dims == null ? null : List.copyOf(dims);
    }

    public record Dim(long value, String param) {
        public static Dim fixed(long v) { return new Dim(v, null); }

        public static Dim symbolic(String p) { return new Dim(-1, p); }

        public boolean isFixed() { return param == null && value >= 0; }

        @Override public String toString() { return isFixed() ? Long.toString(value) : (param == null ? "?" : param); }
    }
}
