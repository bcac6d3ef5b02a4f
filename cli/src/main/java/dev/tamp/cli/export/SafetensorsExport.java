package dev.tamp.cli.export;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Half;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.AtomicFiles;
import dev.tamp.formats.safetensors.SafetensorsWriter;
import dev.tamp.runtime.kernels.WeightDecoders;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model as safetensors plus a {@code config.json} beside it whose {@code quantization_config} follows
 * compressed-tensors (formats.md §4.6), so vLLM-style loaders understand the quantized layers:
 * <ul>
 *   <li>4-bit grouped weights: {@code pack-quantized} — {@code <layer>.weight_packed} int32 {@code [N][ceil(K/8)]}
 *       (eight offset-unsigned codes per word, element i at bits 4i), {@code weight_scale [N][groups]},
 *       {@code weight_zero_point} int32 {@code [ceil(N/8)][groups]} packed along dim 0 when asymmetric,
 *       {@code weight_shape} int64 {@code [N, K]}. Our nibbles are already offset by 8, low first, so the words
 *       are the codes' bytes.</li>
 *   <li>8-bit grouped weights: {@code naive-quantized} — {@code <layer>.weight} int8 {@code [N][K]} (asymmetric
 *       uint8 codes shifted by −128, zero points likewise), {@code weight_scale}, {@code weight_zero_point}.</li>
 *   <li>2:4 weights: dense decoded values (the zeros included) with a {@code sparsity_config}
 *       ({@code format: dense}, {@code sparsity_structure: 2:4}) naming them.</li>
 *   <li>everything else: decoded to float32 or float16.</li>
 * </ul>
 * Quantized planes are [N][K] (PyTorch Linear order) whatever the source layout; dense tensors keep the
 * source's shapes.
 */
public final class SafetensorsExport {
    public enum FloatType { F32, F16 }

    private SafetensorsExport() {}

    public static List<ExportedTensor> write(Model model, FloatType ft, Path out) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<ExportedTensor> lines = new ArrayList<>();
        Map<String, List<String>> groups = new TreeMap<>();
        Map<String, ObjectNode> schemes = new TreeMap<>();
        List<String> sparse = new ArrayList<>();
        boolean metaRope = Boolean.TRUE.equals(model.config().get("rope_interleaved"));
        dev.tamp.formats.family.ModelFamily family = dev.tamp.formats.family.ModelFamily.of(model.architecture());
        Map<String, EncodedTensor> weights = family != null && family.offsetNorms()
                ? dev.tamp.formats.family.OffsetNorms.toOffsets(model.weights()) : model.weights();   // Gemma checkpoints hold w of (1 + w)
        for (Map.Entry<String, EncodedTensor> e : weights.entrySet()) {
            String name = e.getKey();
            EncodedTensor w = e.getValue();
            int[] perm = metaRope ? ropePermutation(model, name, w) : null;
            String source = w.describe();
            boolean twoFour = w instanceof Sparse24Weight;
            if (perm != null) w = permuted(name, w, perm);
            if (w instanceof DenseWeight d && !twoFour && (perm == null || e.getValue() instanceof DenseWeight)) {
                tensors.put(name, d.tensor().dtype() == DType.F32 && ft == FloatType.F16 ? f16(d.tensor().toFloatArray(), d.tensor().shape()) : d.tensor());
                continue;
            }
            String base = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : name;
            if (w instanceof IntGroupedWeight q && weightOnly(q) && (q.bits() == 4 || q.bits() == 8) && q.shape().length == 2) {
                String format = q.bits() == 4 ? "pack-quantized" : "naive-quantized";
                if (q.bits() == 4) pack4(base, q, ft, tensors);
                else int8(base, q, ft, tensors);
                int k = Math.toIntExact(q.cols());
                String key = format + "/" + q.bits() + "/" + q.symmetric() + "/" + (q.groupSize() >= k ? "channel" : q.groupSize());
                groups.computeIfAbsent(key, x -> new ArrayList<>()).add(base);
                schemes.putIfAbsent(key, scheme(q, format, k));
                lines.add(new ExportedTensor(name, w.describe(), format, perm == null ? null : "rows reordered for rotate-half RoPE"));
                continue;
            }
            float[] v = WeightDecoders.decodeAsStored(name, w);
            tensors.put(name, ft == FloatType.F16 ? f16(v, w.shape()) : Tensor.ofFloats(v, w.shape()));
            String note = null;
            if (twoFour) {
                sparse.add(base);
                note = "2:4 pattern kept in the dense values (sparsity_config format dense)";
            } else if (w instanceof IntGroupedWeight q && !weightOnly(q)) {
                note = "activation quantization or smoothing has no compressed-tensors weight-only form; decoded";
            } else {
                note = source + " has no compressed-tensors form here; decoded";
            }
            if (perm != null) note = note + "; rows reordered for rotate-half RoPE";
            lines.add(new ExportedTensor(name, source, ft == FloatType.F16 ? "float16" : "float32", note));
        }
        if (dev.tamp.formats.family.FusedProjections.fused(dev.tamp.formats.family.ModelFamily.of(model.architecture()))) tensors = stackFused(model, tensors, groups);
        Map<String, String> meta = new TreeMap<>();
        meta.put("format", "pt");
        meta.put("producer", "tamp");
        byte[] config = Json.canonicalBytes(config(model, groups, schemes, sparse));
        SafetensorsWriter.write(out, tensors, meta);
        AtomicFiles.writeStream(out.toAbsolutePath().resolveSibling("config.json"), o -> o.write(config));
        return lines;
    }

    /**
     * Phi-3's loaders want qkv_proj and gate_up_proj: the split parts (float tensors, one dtype) stacked again by
     * rows. Quantized parts would need their scale planes stacked as well; refused by name rather than written wrong.
     */
    private static Map<String, Tensor> stackFused(Model model, Map<String, Tensor> tensors, Map<String, List<String>> groups) {
        for (List<String> bases : groups.values()) {
            for (String base : bases) {
                if (dev.tamp.formats.family.FusedProjections.fusedNameOf(base + ".weight") != null) {
                    throw new UnsupportedModelException(model.source() + ": " + base + " is quantized, but Phi-3 checkpoints hold it inside a fused "
                            + "projection that compressed-tensors cannot express here; export to GGUF instead");
                }
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String fused = dev.tamp.formats.family.FusedProjections.fusedNameOf(e.getKey());
            if (fused == null) {
                out.put(e.getKey(), e.getValue());
                continue;
            }
            if (out.containsKey(fused)) continue;
            dev.tamp.formats.family.FusedProjections.Parts parts = dev.tamp.formats.family.FusedProjections.parts(fused, model.config());
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            long rows = 0;
            Tensor first = tensors.get(parts.names().get(0));
            for (String n : parts.names()) {
                Tensor t = tensors.get(n);
                if (t == null || first == null || t.dtype() != first.dtype() || t.rank() != 2) {
                    throw new UnsupportedModelException(model.source() + ": " + fused + " is one tensor in a Phi-3 checkpoint; its parts must be "
                            + "float tensors of one dtype to stack (quantized Phi-3 projections export to GGUF, not to compressed-tensors)");
                }
                bytes.writeBytes(t.toByteArray());
                rows += t.dim(0);
            }
            out.put(fused, Tensor.of(first.dtype(), new long[] {rows, first.dim(1)},
                    java.nio.ByteBuffer.wrap(bytes.toByteArray()).order(java.nio.ByteOrder.LITTLE_ENDIAN)));
        }
        return out;
    }

    /**
     * Rows of a Q or K projection stored with Meta's interleaved RoPE pairs (llama2c, GGUF sources), in the
     * order Hugging Face's rotate-half RoPE expects: within each head, new row j·(d/2)+i is old row 2i+j.
     * Null for other tensors.
     */
    public static int[] ropePermutation(Model model, String name, EncodedTensor w) {
        Object heads = name.endsWith("self_attn.q_proj.weight") ? model.config().get("num_attention_heads")
                : name.endsWith("self_attn.k_proj.weight") ? model.config().getOrDefault("num_key_value_heads", model.config().get("num_attention_heads")) : null;
        if (!(heads instanceof Number h) || w.shape().length != 2) return null;
        int rows = (int) w.shape()[0], d = rows / h.intValue(), half = d / 2;
        int[] from = new int[rows];
        for (int hd = 0; hd < h.intValue(); hd++) {
            for (int i = 0; i < half; i++) for (int j = 0; j < 2; j++) from[hd * d + j * half + i] = hd * d + 2 * i + j;
        }
        return from;
    }

    /** The tensor with its [N][K] rows reordered (new row r = old row from[r]); codes, scales and zero points move whole. */
    static EncodedTensor permuted(String name, EncodedTensor w, int[] from) {
        if (w instanceof IntGroupedWeight q && q.kAxis() == 1 && (q.layout() == null || q.layout() == dev.tamp.core.encoding.Layout.GENERIC)) {
            ByteBuffer codes = ByteBuffer.wrap(rows(bytes(q.codes()), from, q.rowBytes()));
            Tensor scales = Tensor.of(DType.F32, q.scales().shape(), ByteBuffer.wrap(rows(bytes(q.scales().data()), from, q.groupsPerRow() * 4)));
            Tensor zp = q.zeroPoints() == null ? null
                    : Tensor.of(DType.U8, q.zeroPoints().shape(), ByteBuffer.wrap(rows(bytes(q.zeroPoints().data()), from, q.groupsPerRow())));
            return new IntGroupedWeight(q.shape(), q.kAxis(), q.bits(), q.symmetric(), q.groupSize(), codes, scales, zp,
                    q.inputScale(), q.activationBits(), q.activationScale(), q.layout());
        }
        float[] v = WeightDecoders.decodeAsStored(name, w);
        int k = (int) w.shape()[1];
        float[] out = new float[v.length];
        for (int r = 0; r < from.length; r++) System.arraycopy(v, from[r] * k, out, r * k, k);
        return new DenseWeight(Tensor.ofFloats(out, w.shape()));
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        d.position(0);
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    private static byte[] rows(byte[] src, int[] from, int rowBytes) {
        byte[] out = new byte[src.length];
        for (int r = 0; r < from.length; r++) System.arraycopy(src, from[r] * rowBytes, out, r * rowBytes, rowBytes);
        return out;
    }

    private static boolean weightOnly(IntGroupedWeight q) {
        return q.inputScale() == null && q.activationBits() == 0 && q.activationScale() <= 0;
    }

    private static void pack4(String base, IntGroupedWeight q, FloatType ft, Map<String, Tensor> out) {
        int n = Math.toIntExact(q.rows()), k = Math.toIntExact(q.cols()), g = q.groupsPerRow(), rowBytes = q.rowBytes();
        int words = (k + 7) / 8;
        ByteBuffer packed = ByteBuffer.allocate(n * words * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < rowBytes; i++) packed.put(r * words * 4 + i, q.codes().get(r * rowBytes + i));
        }
        out.put(base + ".weight_packed", Tensor.of(DType.I32, new long[] {n, words}, packed.rewind()));
        out.put(base + ".weight_scale", scale(q, ft, n, g));
        if (!q.symmetric()) {
            // compressed-tensors keeps signed codes q − 8 and zero points z − 8, packed offset by 8: our raw nibbles.
            byte[] z = new byte[n * g];
            q.zeroPoints().data().get(z);
            int zr = (n + 7) / 8;
            int[] zw = new int[zr * g];
            for (int r = 0; r < n; r++) for (int j = 0; j < g; j++) zw[(r / 8) * g + j] |= (z[r * g + j] & 0x0F) << (4 * (r % 8));
            out.put(base + ".weight_zero_point", Tensor.ofInts(zw, zr, g));
        }
        out.put(base + ".weight_shape", Tensor.ofLongs(new long[] {n, k}, 2));
    }

    private static void int8(String base, IntGroupedWeight q, FloatType ft, Map<String, Tensor> out) {
        int n = Math.toIntExact(q.rows()), k = Math.toIntExact(q.cols()), g = q.groupsPerRow();
        byte[] codes = new byte[n * k];
        q.codes().duplicate().position(0).get(codes);
        if (!q.symmetric()) for (int i = 0; i < codes.length; i++) codes[i] = (byte) ((codes[i] & 0xFF) - 128);
        out.put(base + ".weight", Tensor.ofBytes(DType.I8, codes, n, k));
        out.put(base + ".weight_scale", scale(q, ft, n, g));
        if (!q.symmetric()) {
            byte[] z = new byte[n * g];
            q.zeroPoints().data().get(z);
            for (int i = 0; i < z.length; i++) z[i] = (byte) ((z[i] & 0xFF) - 128);
            out.put(base + ".weight_zero_point", Tensor.ofBytes(DType.I8, z, n, g));
        }
    }

    private static Tensor scale(IntGroupedWeight q, FloatType ft, int n, int g) {
        float[] s = q.scales().toFloatArray();
        return ft == FloatType.F16 ? f16(s, new long[] {n, g}) : Tensor.ofFloats(s, n, g);
    }

    static Tensor f16(float[] v, long[] shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putShort(Half.floatToF16(f));
        return Tensor.of(DType.F16, shape, b.rewind());
    }

    private static ObjectNode scheme(IntGroupedWeight q, String format, int k) {
        ObjectNode s = Json.object();
        s.put("format", format);
        ObjectNode w = s.putObject("weights");
        w.put("num_bits", q.bits());
        w.put("type", "int");
        w.put("symmetric", q.symmetric());
        boolean channel = q.groupSize() >= k;
        w.put("strategy", channel ? "channel" : "group");
        if (channel) w.putNull("group_size");
        else w.put("group_size", q.groupSize());
        w.put("dynamic", false);
        w.put("observer", "minmax");
        s.putNull("input_activations");
        s.putNull("output_activations");
        return s;
    }

    /** The model's own config values (when it has them) plus quantization_config. */
    private static ObjectNode config(Model model, Map<String, List<String>> groups, Map<String, ObjectNode> schemes, List<String> sparse) {
        ObjectNode c = Json.object();
        for (Map.Entry<String, Object> e : new TreeMap<>(model.config()).entrySet()) {
            if (e.getKey().startsWith("metadata.")) continue;
            Object v = e.getValue();
            if (!(v instanceof Number || v instanceof String || v instanceof Boolean)) continue;
            int dot = e.getKey().indexOf('.');
            if (e.getKey().startsWith("rope_scaling.")) {   // read flattened (HfConfig), nested again for HF loaders
                ObjectNode sub = c.has("rope_scaling") ? (ObjectNode) c.get("rope_scaling") : c.putObject("rope_scaling");
                sub.putPOJO(e.getKey().substring(dot + 1), v);
            } else {
                c.putPOJO(e.getKey(), v);
            }
        }
        c.put("model_type", model.architecture());
        if (c.has("rope_interleaved")) c.put("rope_interleaved", false);   // Q/K rows were reordered for rotate-half RoPE
        dev.tamp.formats.family.ModelFamily family = dev.tamp.formats.family.ModelFamily.of(model.architecture());
        if (family != null && family.llamaGraph) c.putArray("architectures").add(family.hfClass);
        if (groups.isEmpty() && sparse.isEmpty()) return c;
        ObjectNode qc = c.putObject("quantization_config");
        qc.put("quant_method", "compressed-tensors");
        java.util.Set<String> formats = new java.util.TreeSet<>();
        ObjectNode cg = qc.putObject("config_groups");
        int i = 0;
        for (Map.Entry<String, List<String>> e : groups.entrySet()) {
            ObjectNode s = schemes.get(e.getKey()).deepCopy();
            formats.add(s.get("format").asText());
            ArrayNode t = s.putArray("targets");
            for (String name : e.getValue()) t.add(name);
            cg.set("group_" + i++, s);
        }
        qc.put("format", formats.isEmpty() ? "dense" : formats.size() == 1 ? formats.iterator().next() : "mixed-precision");
        qc.putArray("ignore");
        qc.put("quantization_status", "compressed");
        if (!sparse.isEmpty()) {
            ObjectNode sc = qc.putObject("sparsity_config");
            sc.put("format", "dense");
            sc.put("sparsity_structure", "2:4");
            ArrayNode t = sc.putArray("targets");
            for (String s : sparse) t.add(s);
            sc.putArray("ignore");
        } else {
            qc.putNull("sparsity_config");
        }
        return c;
    }
}
