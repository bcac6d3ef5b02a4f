package dev.tamp.formats.tpk;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@link EncodedTensor} ↔ table entries. Simple encodings use one entry whose fixed fields and three planes
 * (data, scales, aux) say everything, as formats.md §6.2 lays out. Parameters the entry has no field for
 * (activation quantization, Slice-and-Scale anchor, long shapes, COMPOT sparsity) go into the metadata's
 * {@code "tensors"} object under the tensor's name. Composite encodings (2:4 values, low-rank and dictionary
 * factors, SmoothQuant input scales) store their parts as companion entries named {@code <name>#<part>},
 * flagged DERIVED, each encoded the same way (recursively).
 */
final class TensorEntries {
    private TensorEntries() {}

    /** Appends the entries for one tensor and records its extra parameters in {@code meta}. */
    static void encode(String name, EncodedTensor t, List<TpkEntry> out, ObjectNode meta, boolean derived) {
        int flags = derived ? TpkFormat.ENTRY_DERIVED : 0;
        long[] shape = t.shape();
        ObjectNode extra = Json.object();
        if (shape.length > 4) {
            ArrayNode a = extra.putArray("shape");
            for (long d : shape) a.add(d);
        }
        if (t instanceof DenseWeight d) {
            Tensor x = d.tensor();
            out.add(new TpkEntry(name, TpkFormat.denseTag(x.dtype()), Layout.GENERIC.tag(), shape, TpkFormat.SCALE_NONE,
                    TpkFormat.AUX_NONE, flags, 0, 0, x.data(), TpkEntry.empty(), TpkEntry.empty()));
        } else if (t instanceof IntGroupedWeight w) {
            int tag = w.bits() == 4 ? (w.symmetric() ? TpkFormat.INT4_SYM : TpkFormat.INT4_ASYM)
                    : (w.symmetric() ? TpkFormat.INT8_SYM : TpkFormat.INT8_ASYM);
            if (w.bits() != 4 && w.bits() != 8) throw new IllegalArgumentException(name + ": " + w.bits() + "-bit groups are not storable");
            out.add(new TpkEntry(name, tag, w.layout().tag(), shape, TpkFormat.SCALE_F32,
                    w.zeroPoints() == null ? TpkFormat.AUX_NONE : TpkFormat.AUX_U8_ZERO_POINTS, flags, w.groupSize(), w.kAxis(),
                    w.codes().duplicate(), w.scales().data(), w.zeroPoints() == null ? TpkEntry.empty() : w.zeroPoints().data()));
            if (w.activationBits() != 0) extra.put("activation_bits", w.activationBits());
            if (w.activationScale() != 0f) extra.put("activation_scale", w.activationScale());
            ArrayNode ss = extra.putArray("scales_shape");
            for (long d : w.scales().shape()) ss.add(d);
            if (w.inputScale() != null) encode(name + "#input_scale", new DenseWeight(w.inputScale()), out, meta, true);
        } else if (t instanceof MxWeight w) {
            out.add(new TpkEntry(name, w.format().tag(), w.layout().tag(), shape, TpkFormat.SCALE_E8M0, TpkFormat.AUX_NONE,
                    flags, w.blockSize(), w.kAxis(), w.codes().duplicate(), w.scales().duplicate(), TpkEntry.empty()));
            if (w.anchor() != null) extra.put("anchor", w.anchor().name());
        } else if (t instanceof Sparse24Weight w) {
            out.add(new TpkEntry(name, TpkFormat.SPARSE, w.layout().tag(), shape, TpkFormat.SCALE_NONE, TpkFormat.AUX_SPARSE24,
                    flags | TpkFormat.ENTRY_SPARSE24, 4, w.kAxis(), TpkEntry.empty(), TpkEntry.empty(), w.indices().duplicate()));
            encode(name + "#values", w.values(), out, meta, true);
        } else if (t instanceof LowRankWeight w) {
            out.add(new TpkEntry(name, TpkFormat.LOW_RANK, Layout.GENERIC.tag(), shape, TpkFormat.SCALE_NONE, TpkFormat.AUX_NONE,
                    flags, 0, w.kAxis(), TpkEntry.empty(), TpkEntry.empty(), TpkEntry.empty()));
            encode(name + "#left", w.left(), out, meta, true);
            encode(name + "#right", w.right(), out, meta, true);
        } else if (t instanceof DictionaryWeight w) {
            out.add(new TpkEntry(name, TpkFormat.DICTIONARY, Layout.GENERIC.tag(), shape, TpkFormat.SCALE_NONE, TpkFormat.AUX_NONE,
                    flags, 0, w.kAxis(), TpkEntry.empty(), TpkEntry.empty(), TpkEntry.empty()));
            extra.put("sparsity", w.sparsity());
            encode(name + "#dictionary", w.dictionary(), out, meta, true);
            encode(name + "#code_values", w.codeValues(), out, meta, true);
            encode(name + "#code_mask", new DenseWeight(w.codeMask()), out, meta, true);
        }
        if (extra.size() > 0) meta.set(name, extra);
    }

    /** Rebuilds the tensor stored under {@code name} from the entries (by name) and metadata. */
    static EncodedTensor decode(Path file, String name, Map<String, TpkEntry> entries, JsonNode meta) {
        TpkEntry e = entries.get(name);
        if (e == null) throw BadInputException.inFile(file, "tensor " + name + " is missing a part");
        JsonNode extra = meta.path(name);
        long[] shape = e.dims();
        if (extra.has("shape")) {
            shape = new long[extra.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = extra.get("shape").get(i).asLong();
        }
        Layout layout = Layout.fromTag(e.layout());
        if (layout == null) throw BadInputException.inFile(file, "tensor " + name + " has unknown layout tag 0x" + Integer.toHexString(e.layout()));
        int f = e.format();
        try {
            DType dense = TpkFormat.denseType(f);
            boolean laidOut = f == TpkFormat.SPARSE || MxFormat.fromTag(f) != null || f == TpkFormat.INT4_SYM || f == TpkFormat.INT4_ASYM
                    || f == TpkFormat.INT8_SYM || f == TpkFormat.INT8_ASYM;
            if (!laidOut && layout != Layout.GENERIC) {
                throw BadInputException.inFile(file, "tensor " + name + " has layout " + layout + ", but its encoding has no code plane to lay out");
            }
            if (dense != null) return new DenseWeight(Tensor.of(dense, shape, e.data()));
            MxFormat mx = MxFormat.fromTag(f);
            if (mx != null) {
                MxFormat anchor = extra.has("anchor") ? MxFormat.valueOf(extra.get("anchor").asText()) : null;
                return new MxWeight(shape, e.blockAxis(), mx, e.blockSize(), e.data(), e.scales(), anchor, layout);
            }
            switch (f) {
                case TpkFormat.INT4_SYM, TpkFormat.INT4_ASYM, TpkFormat.INT8_SYM, TpkFormat.INT8_ASYM -> {
                    int bits = f == TpkFormat.INT4_SYM || f == TpkFormat.INT4_ASYM ? 4 : 8;
                    boolean sym = f == TpkFormat.INT4_SYM || f == TpkFormat.INT8_SYM;
                    long[] ss = new long[extra.path("scales_shape").size()];
                    for (int i = 0; i < ss.length; i++) ss[i] = extra.get("scales_shape").get(i).asLong();
                    Tensor scales = Tensor.of(DType.F32, ss, e.scales());
                    Tensor zeros = e.auxType() == TpkFormat.AUX_U8_ZERO_POINTS ? Tensor.of(DType.U8, ss, e.aux()) : null;
                    Tensor inputScale = entries.containsKey(name + "#input_scale")
                            ? ((DenseWeight) decode(file, name + "#input_scale", entries, meta)).tensor() : null;
                    return new IntGroupedWeight(shape, e.blockAxis(), bits, sym, e.blockSize(), e.data(), scales, zeros, inputScale,
                            extra.path("activation_bits").asInt(0), (float) extra.path("activation_scale").asDouble(0), layout);
                }
                case TpkFormat.SPARSE -> {
                    return new Sparse24Weight(shape, e.blockAxis(), decode(file, name + "#values", entries, meta), e.aux(), layout);
                }
                case TpkFormat.LOW_RANK -> {
                    return new LowRankWeight(shape, e.blockAxis(), decode(file, name + "#left", entries, meta),
                            decode(file, name + "#right", entries, meta));
                }
                case TpkFormat.DICTIONARY -> {
                    Tensor mask = ((DenseWeight) decode(file, name + "#code_mask", entries, meta)).tensor();
                    EncodedTensor dict = decode(file, name + "#dictionary", entries, meta);
                    EncodedTensor values = decode(file, name + "#code_values", entries, meta);
                    int sparsity = extra.path("sparsity").asInt();
                    long rows = EncodedTensor.rows(shape, e.blockAxis());
                    if (mask.dtype() != DType.U8 || mask.rank() != 2 || dict.shape().length != 2 || mask.dim(0) != rows
                            || mask.dim(1) != (dict.shape()[0] + 7) / 8 || values.shape().length != 2 || values.shape()[0] != rows
                            || values.shape()[1] != sparsity || sparsity < 1 || sparsity > dict.shape()[0]) {
                        throw BadInputException.inFile(file, "dictionary tensor " + name + " has inconsistent parts");
                    }
                    return new DictionaryWeight(shape, e.blockAxis(), dict, values, mask, sparsity);
                }
                default -> throw BadInputException.inFile(file, "tensor " + name + " has unknown format tag 0x" + Integer.toHexString(f));
            }
        } catch (IllegalArgumentException | ClassCastException e2) {
            throw BadInputException.inFile(file, "tensor " + name + " is inconsistent: " + e2.getMessage(), e2);
        }
    }

    static ByteBuffer le(ByteBuffer b) {
        return b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }
}
