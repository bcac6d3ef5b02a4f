package dev.tamp.formats.tpk;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.DType;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.core.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;

/**
 * Validation of what a .tpk's checksums cannot vouch for: a file written by another (or a buggy) tool is
 * internally consistent in its checksums yet may describe encodings the kernels would index out of bounds.
 * The per-tensor encoding parameters in the metadata are checked for type before they are read, and every
 * decoded weight is checked against the sizes its encoding documents (K axis, bit width, group and block
 * sizes, plane sizes, factor shapes) before it is handed on.
 */
final class EncodingChecks {
    private EncodingChecks() {}

    /** The "encodings" metadata object: per tensor an object whose known keys have the types the decoder reads. */
    static void parameters(Path file, JsonNode encodings) {
        if (encodings.isMissingNode()) return;
        if (!encodings.isObject()) throw bad(file, "encodings metadata is not a JSON object");
        for (Iterator<Map.Entry<String, JsonNode>> it = encodings.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode p = e.getValue();
            if (!p.isObject()) throw bad(file, "encoding parameters of " + name + " are not a JSON object");
            for (String dims : new String[] {"shape", "scales_shape"}) {
                JsonNode a = p.get(dims);
                if (a == null) continue;
                if (!a.isArray()) throw bad(file, "tensor " + name + " has a " + dims + " that is not an array");
                for (JsonNode d : a) {
                    if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                        throw bad(file, "tensor " + name + " has an invalid " + dims + " dimension " + d);
                    }
                }
            }
            for (String i : new String[] {"activation_bits", "sparsity"}) {
                JsonNode v = p.get(i);
                if (v != null && (!v.isIntegralNumber() || !v.canConvertToInt())) throw bad(file, "tensor " + name + " has an invalid " + i + " " + v);
            }
            JsonNode scale = p.get("activation_scale");
            if (scale != null && !scale.isNumber()) throw bad(file, "tensor " + name + " has an invalid activation_scale " + scale);
            JsonNode anchor = p.get("anchor");
            if (anchor != null && !anchor.isTextual()) throw bad(file, "tensor " + name + " has an invalid anchor " + anchor);
        }
    }

    /** Returns {@code t} when its planes and parts fit its shape; otherwise a BadInputException naming the tensor. */
    static EncodedTensor consistent(Path file, String name, EncodedTensor t) {
        String problem;
        try {
            problem = problem(t);
        } catch (ArithmeticException e) {
            problem = "its sizes overflow 64 bits";
        }
        if (problem != null) throw bad(file, "tensor " + name + " is inconsistent: " + problem);
        return t;
    }

    private static String problem(EncodedTensor t) {
        if (t instanceof DenseWeight) return null; // Tensor.of already matched bytes to shape
        long[] shape = t.shape();
        if (shape.length != 2) return "an encoded weight of rank " + shape.length;
        int kAxis = t instanceof IntGroupedWeight w ? w.kAxis() : t instanceof MxWeight w ? w.kAxis()
                : t instanceof Sparse24Weight w ? w.kAxis() : t instanceof LowRankWeight w ? w.kAxis()
                : ((DictionaryWeight) t).kAxis();
        if (kAxis != 0 && kAxis != 1) return "K axis " + kAxis + " of a matrix";
        long n = shape[1 - kAxis], k = shape[kAxis];
        Layout layout = PackLayouts.layoutOf(t);
        if (!PackLayouts.supported(layout)) return "layout " + layout + " is not supported";
        if (t instanceof IntGroupedWeight w) return intGroups(w, n, k);
        if (t instanceof MxWeight w) return mx(w, n, k);
        if (t instanceof Sparse24Weight w) {
            if (k % 4 != 0) return "2:4 sparsity over K " + k + ", not a multiple of 4";
            long[] vs = w.values().shape();
            if (vs.length != 2 || vs[0] != n || vs[1] != k / 2) return "values " + Arrays.toString(vs) + " for " + n + "x" + k;
            long indices = PackLayouts.indexPlaneBytes(w);
            if (w.indices().capacity() < indices || layout != Layout.GENERIC && w.indices().capacity() != indices) {
                return "indices plane of " + w.indices().capacity() + " bytes, " + layout + " needs " + indices;
            }
            return part("values", w.values());
        }
        if (t instanceof LowRankWeight w) {
            long[] l = w.left().shape(), r = w.right().shape();
            if (l.length != 2 || r.length != 2 || l[0] != n || r[1] != k || l[1] != r[0]) {
                return "factors " + Arrays.toString(l) + " x " + Arrays.toString(r) + " for " + n + "x" + k;
            }
            String p = part("left factor", w.left());
            return p != null ? p : part("right factor", w.right());
        }
        DictionaryWeight w = (DictionaryWeight) t; // the code plane's layout is the decoder's to check
        String p = part("dictionary", w.dictionary());
        return p != null ? p : part("code values", w.codeValues());
    }

    private static String part(String what, EncodedTensor t) {
        String p = problem(t);
        return p == null ? null : what + ": " + p;
    }

    private static String intGroups(IntGroupedWeight w, long n, long k) {
        if (w.bits() != 4 && w.bits() != 8) return w.bits() + "-bit codes";
        if (w.groupSize() <= 0) return "group size " + w.groupSize();
        long groups = (k + w.groupSize() - 1) / w.groupSize();
        Math.multiplyExact(k, (long) w.bits());
        String c = codePlane(w, w.codes().capacity(), n, k);
        if (c != null) return c;
        long[] groupShape = {n, groups};
        if (w.scales().dtype() != DType.F32 || !Arrays.equals(w.scales().shape(), groupShape)) {
            return "scales " + Arrays.toString(w.scales().shape()) + ", expected F32 " + Arrays.toString(groupShape);
        }
        if (w.zeroPoints() != null && !Arrays.equals(w.zeroPoints().shape(), groupShape)) {
            return "zero points " + Arrays.toString(w.zeroPoints().shape()) + ", expected " + Arrays.toString(groupShape);
        }
        Tensor in = w.inputScale();
        if (in != null && (in.dtype() != DType.F32 || Tensor.numel(in.shape()) != k)) return "input scale of " + Arrays.toString(in.shape()) + " for K " + k;
        return null;
    }

    private static String mx(MxWeight w, long n, long k) {
        if (w.blockSize() <= 0) return "block size " + w.blockSize();
        long blocks = (k + w.blockSize() - 1) / w.blockSize();
        long scales = Math.multiplyExact(n, blocks);
        long padded = Math.multiplyExact(blocks, (long) w.blockSize());
        Math.multiplyExact(padded, (long) w.format().bits()); // packedBytes multiplies unchecked
        if (w.scales().capacity() != scales) return "scales plane of " + w.scales().capacity() + " bytes for " + scales + " blocks";
        return codePlane(w, w.codes().capacity(), n, k);
    }

    /** GENERIC planes may carry slack (older writers); device layouts must have exactly their documented size. */
    private static String codePlane(EncodedTensor w, long have, long n, long k) {
        Layout layout = PackLayouts.layoutOf(w);
        long codes = PackLayouts.codePlaneBytes(w);
        if (have < codes || layout != Layout.GENERIC && have != codes) {
            return "codes plane of " + have + " bytes, " + n + "x" + k + " in layout " + layout + " needs " + codes;
        }
        return null;
    }

    private static BadInputException bad(Path file, String problem) {
        return BadInputException.inFile(file, "corrupt .tpk: " + problem);
    }
}
