package dev.tamp.formats.fuzz;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.util.Arrays;

/**
 * What an accepted encoded weight must satisfy for the kernels to index it safely (the sizes its record
 * documents). A reader that returns a weight violating these has passed a lying file on to code that will
 * fail far from the cause. Returns the first violation, or null.
 */
final class EncodedInvariants {
    private EncodedInvariants() {}

    static String violation(String name, EncodedTensor t) {
        try {
            return check(name, t);
        } catch (RuntimeException e) {
            return name + ": checking it threw " + e;
        }
    }

    private static String check(String name, EncodedTensor t) {
        long[] shape = t.shape();
        for (long d : shape) if (d < 0) return name + ": negative dimension " + Arrays.toString(shape);
        if (t instanceof DenseWeight d) {
            Tensor x = d.tensor();
            return x.byteSize() == Tensor.numel(x.shape()) * x.dtype().byteSize() ? null : name + ": dense byte size mismatch";
        }
        if (shape.length != 2) return name + ": encoded weight of rank " + shape.length;
        int kAxis = t instanceof IntGroupedWeight w ? w.kAxis() : t instanceof MxWeight w ? w.kAxis()
                : t instanceof Sparse24Weight w ? w.kAxis() : t instanceof LowRankWeight w ? w.kAxis() : 1;
        if (kAxis != 0 && kAxis != 1) return name + ": K axis " + kAxis;
        long n = shape[1 - kAxis], k = shape[kAxis];
        if (t instanceof IntGroupedWeight w) {
            if (w.bits() != 4 && w.bits() != 8) return name + ": " + w.bits() + "-bit codes";
            if (w.groupSize() <= 0) return name + ": group size " + w.groupSize();
            long groups = (k + w.groupSize() - 1) / w.groupSize();
            if (w.codes().capacity() < n * ((k * w.bits() + 7) / 8)) return name + ": codes hold " + w.codes().capacity() + " bytes";
            if (!Arrays.equals(w.scales().shape(), new long[] {n, groups}) || w.scales().dtype() != DType.F32) {
                return name + ": scales " + Arrays.toString(w.scales().shape()) + " for " + n + "x" + groups + " groups";
            }
            if (w.zeroPoints() != null && !Arrays.equals(w.zeroPoints().shape(), new long[] {n, groups})) return name + ": zero points shape";
            if (w.inputScale() != null && w.inputScale().numel() != k) return name + ": input scale of " + w.inputScale().numel();
            return null;
        }
        if (t instanceof MxWeight w) {
            if (w.blockSize() <= 0) return name + ": block size " + w.blockSize();
            long blocks = (k + w.blockSize() - 1) / w.blockSize();
            if (w.scales().capacity() != n * blocks) return name + ": " + w.scales().capacity() + " scales for " + n * blocks + " blocks";
            if (w.codes().capacity() < n * w.format().packedBytes(blocks * w.blockSize())) return name + ": codes hold " + w.codes().capacity();
            return null;
        }
        if (t instanceof Sparse24Weight w) {
            if (k % 4 != 0) return name + ": K " + k + " is not a multiple of 4";
            long[] vs = w.values().shape();
            if (vs.length != 2 || vs[0] != n || vs[1] != k / 2) return name + ": values " + Arrays.toString(vs);
            if (w.indices().capacity() < n * ((k / 4 + 1) / 2)) return name + ": indices hold " + w.indices().capacity();
            return violation(name + "#values", w.values());
        }
        if (t instanceof LowRankWeight w) {
            long[] l = w.left().shape(), r = w.right().shape();
            if (l.length != 2 || r.length != 2 || l[0] != n || r[1] != k || l[1] != r[0]) {
                return name + ": factors " + Arrays.toString(l) + " x " + Arrays.toString(r) + " for " + n + "x" + k;
            }
            String a = violation(name + "#left", w.left());
            return a != null ? a : violation(name + "#right", w.right());
        }
        return null; // dictionary weights: parts are checked by the reader (their layout is being revised)
    }
}
