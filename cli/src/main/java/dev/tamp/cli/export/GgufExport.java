package dev.tamp.cli.export;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.tensor.Half;
import dev.tamp.formats.family.FusedProjections;
import dev.tamp.formats.family.ModelFamily;
import dev.tamp.formats.gguf.GgmlBlocks;
import dev.tamp.formats.gguf.GgmlType;
import dev.tamp.formats.gguf.GgufNames;
import dev.tamp.formats.gguf.GgufWriter;
import dev.tamp.formats.gguf.GgufWriter.TensorData;
import dev.tamp.runtime.arch.GemmaStyle;
import dev.tamp.runtime.arch.LlamaConfig;
import dev.tamp.runtime.arch.RopeScaling;
import dev.tamp.runtime.kernels.WeightDecoders;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A Llama-family model as GGUF (formats.md §4.2, §6.3): llama.cpp's tensor names and {@code llama.*}
 * hyper-parameters; Q/K rows permuted into Meta's interleaved RoPE order when the model uses rotate-half.
 * <ul>
 *   <li>symmetric int8 with groups that are multiples of 32 → Q8_0, codes kept (per-channel is a special case);</li>
 *   <li>symmetric int4 (offset-8 nibbles) in groups that are multiples of 32 → Q4_0, codes kept: Q4_0's math;</li>
 *   <li>MXFP4 → ggml MXFP4 (E8M0 byte + the same E2M1 codes, nibble order changed); MXINT8 → Q8_0 with
 *       d = 2^(e−133) when that is an fp16 value;</li>
 *   <li>other encodings are re-quantized from the decoded floats to Q8_0 (8-bit) or Q4_0 (4-bit) with ggml's
 *       reference rules, or written F32; dense tensors are F32.</li>
 * </ul>
 * Q8_0/Q4_0 store the scale as fp16; a float32 scale that fp16 cannot hold is rounded and the report says by how
 * much. The tokenizer goes in as {@code tokenizer.ggml.*} ({@link GgufVocab}).
 */
public final class GgufExport {
    private GgufExport() {}

    /** The per-tensor report and the vocabulary written. */
    public record Result(List<ExportedTensor> lines, GgufVocab.Written vocab) {}

    public static Result write(Model model, Path out) {
        return write(model, out, null);
    }

    /** @param embeddingType Q8_0 / Q4_0: the float token embedding quantized to it (llama.cpp's quantize does); null keeps it */
    public static Result write(Model model, Path out, GgmlType embeddingType) {
        Map<String, Object> c = model.config();
        ModelFamily family = ModelFamily.of(model.architecture());
        if (family == null || !family.llamaGraph) family = ModelFamily.of(String.valueOf(c.get("model_type")));
        if (family == null || !family.llamaGraph) {
            throw new UnsupportedModelException(model.source() + ": GGUF export supports the Llama-family models (" + ModelFamily.names().replace(", bert", "") + "); this one is "
                    + c.getOrDefault("model_type", model.architecture()));
        }
        String arch = family.ggufArch;
        long hidden = num(c, "hidden_size"), heads = num(c, "num_attention_heads");
        long kvHeads = c.containsKey("num_key_value_heads") ? num(c, "num_key_value_heads") : heads;
        // Q/K rows go into llama.cpp's order for the family: permuted to interleaved pairs for Llama unless they
        // already are (read from a GGUF), as they are for Qwen2, whose GGUF keeps rotate-half
        boolean permute = family.ggufInterleavedRope && !Boolean.TRUE.equals(c.get("rope_interleaved"));
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", arch);
        meta.put("general.name", String.valueOf(c.getOrDefault("general.name", fileStem(model.source()))));
        meta.put("general.quantization_version", 2);
        meta.put(arch + ".context_length", (int) num(c, "max_position_embeddings"));
        meta.put(arch + ".embedding_length", (int) hidden);
        meta.put(arch + ".block_count", (int) num(c, "num_hidden_layers"));
        meta.put(arch + ".feed_forward_length", (int) num(c, "intermediate_size"));
        LlamaConfig lc = LlamaConfig.of(model);
        meta.put(arch + ".rope.dimension_count", lc.headDim());
        if (lc.headDim() != hidden / heads) {
            meta.put(arch + ".attention.key_length", lc.headDim());
            meta.put(arch + ".attention.value_length", lc.headDim());
        }
        meta.put(arch + ".attention.head_count", (int) heads);
        meta.put(arch + ".attention.head_count_kv", (int) kvHeads);
        meta.put(arch + ".attention.layer_norm_rms_epsilon", ((Number) c.getOrDefault("rms_norm_eps", 1e-5)).floatValue());
        meta.put(arch + ".rope.freq_base", ((Number) c.getOrDefault("rope_theta", 10000.0)).floatValue());
        if (c.get("vocab_size") instanceof Number v) meta.put(arch + ".vocab_size", v.intValue());
        if (lc.gemma() != null) {
            GemmaStyle gs = lc.gemma();
            if (gs.slidingWindow() > 0) {
                meta.put(arch + ".attention.sliding_window", gs.slidingWindow());
                meta.put(arch + ".attention.sliding_window_pattern", gs.slidingPeriod());
            }
            if (gs.localRopeTheta() > 0) meta.put(arch + ".rope.freq_base_swa", (float) gs.localRopeTheta());
            if (gs.attnSoftcap() > 0) meta.put(arch + ".attn_logit_softcapping", gs.attnSoftcap());
            if (gs.finalSoftcap() > 0) meta.put(arch + ".final_logit_softcapping", gs.finalSoftcap());
            if (Math.abs(gs.queryScale() * Math.sqrt(lc.headDim()) - 1) > 1e-6) {
                // llama.cpp scales queries by 1/√head_dim (1/√(hidden/heads) for its 27B types), nothing else
                throw new UnsupportedModelException(model.source() + ": query_pre_attn_scalar ≠ head_dim has no GGUF key llama.cpp reads");
            }
        }
        EncodedTensor embedding = model.weights().get("model.embed_tokens.weight");
        int vocabSize = c.get("vocab_size") instanceof Number v ? v.intValue() : embedding != null ? (int) embedding.shape()[0] : 0;
        GgufVocab.Written vocab = GgufVocab.put(model, vocabSize, meta);
        List<TensorData> tensors = new ArrayList<>();
        // report lines in model order, filled in as the writer encodes each tensor
        Map<String, ExportedTensor> lines = new LinkedHashMap<>();
        Map<String, List<String>> pending = new LinkedHashMap<>();
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            String name = e.getKey();
            EncodedTensor w = e.getValue();
            if (!(w instanceof DenseWeight)) lines.put(name, null);
            if (embeddingType != null && name.equals("model.embed_tokens.weight") && w instanceof DenseWeight && w.shape().length == 2) {
                if (w.shape()[1] % 32 != 0) throw new UnsupportedModelException(model.source() + ": the embedding width " + w.shape()[1] + " is not a whole number of 32-element blocks");
                lines.put(name, new ExportedTensor(name, w.describe(), "token_embd.weight " + embeddingType,
                        "quantized at export from the float embedding (--gguf-embeddings), ggml's reference rounding"));
                tensors.add(new TensorData("token_embd.weight", embeddingType, w.shape(), () -> {
                    float[] v = WeightDecoders.decodeAsStored(name, w);
                    return embeddingType == GgmlType.Q8_0 ? GgmlBlocks.quantizeQ8_0(v) : GgmlBlocks.quantizeQ4_0(v);
                }));
                continue;
            }
            String fused = FusedProjections.fused(family) ? FusedProjections.fusedNameOf(name) : null;
            if (fused == null) {
                String gname = GgufNames.fromHf(family, name);
                tensors.add(new TensorData(gname, plan(w), w.shape(), encoder(name, gname, w, permuteHeads(name, permute, heads, kvHeads), lines)));
                continue;
            }
            List<String> have = pending.computeIfAbsent(fused, k -> new ArrayList<>());
            have.add(name);
            FusedProjections.Parts parts = FusedProjections.parts(fused, c);
            if (have.size() == parts.names().size()) {
                pending.remove(fused);
                tensors.add(stacked(model, fused, parts, lines, permute, heads, kvHeads));
            }
        }
        if (lc.ropeFreqFactors() != null && !model.weights().containsKey(RopeScaling.GGUF_TENSOR)) {
            // llama.cpp reads Llama 3's RoPE scaling as per-pair frequency divisors, as its converter writes them
            ByteBuffer f = ByteBuffer.allocate(lc.headDim() / 2 * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : lc.ropeFreqFactors()) f.putFloat((float) v);
            tensors.add(new TensorData(RopeScaling.GGUF_TENSOR, GgmlType.F32, new long[] {lc.headDim() / 2}, f.array()));
        }
        if (!pending.isEmpty()) {
            throw new UnsupportedModelException(model.source() + ": " + pending.keySet().iterator().next() + " lacks some of its parts for GGUF");
        }
        GgufWriter.write(out, meta, tensors);
        return new Result(new ArrayList<>(lines.values()), vocab);
    }

    record Encoded(GgmlType type, long[] shape, byte[] bytes, String note) {}

    /** The heads whose Q/K rows the tensor's permutation moves: 0 for every other tensor, or when none is permuted. */
    private static int permuteHeads(String name, boolean permute, long heads, long kvHeads) {
        if (!permute) return 0;
        return name.endsWith("self_attn.q_proj.weight") ? (int) heads : name.endsWith("self_attn.k_proj.weight") ? (int) kvHeads : 0;
    }

    /** The bytes of one tensor, encoded (and its Q/K rows permuted) only when the writer asks; records its report line. */
    private static Supplier<byte[]> encoder(String name, String ggufName, EncodedTensor w, int permuteHeads, Map<String, ExportedTensor> lines) {
        return () -> {
            Encoded enc = encode(name, w);
            if (lines.containsKey(name)) lines.put(name, new ExportedTensor(name, w.describe(), ggufName + " " + enc.type, enc.note));
            return permuteHeads > 0 ? permuteRows(enc.bytes, enc.shape, permuteHeads, enc.type) : enc.bytes;
        };
    }

    /**
     * One fused projection (Phi-3's qkv, gate_up) as a GGUF tensor with its parts' rows stacked in order. ggml
     * blocks never span rows, so stacking the encoded bytes is exact — when the parts share a type; parts
     * quantized differently cannot share one ggml tensor and are refused by name.
     */
    private static TensorData stacked(Model model, String fused, FusedProjections.Parts parts, Map<String, ExportedTensor> lines, boolean permute,
                                      long heads, long kvHeads) {
        GgmlType type = null;
        long rows = 0, cols = 0;
        for (String n : parts.names()) {
            EncodedTensor w = model.weights().get(n);
            GgmlType t = plan(w);
            if (type != null && t != type) {
                throw new UnsupportedModelException(model.source() + ": " + fused + " is one tensor in GGUF, but its parts are stored as "
                        + type + " and " + t + "; quantize them alike");
            }
            type = t;
            rows += w.shape()[0];
            cols = w.shape()[1];
        }
        return new TensorData(GgufNames.fusedToGguf(fused), type, new long[] {rows, cols}, () -> {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (String n : parts.names()) {
                bytes.writeBytes(encoder(n, GgufNames.fusedToGguf(fused), model.weights().get(n), permuteHeads(n, permute, heads, kvHeads), lines).get());
            }
            return bytes.toByteArray();
        });
    }

    /** The ggml type {@link #encode} gives {@code w}, decided from its encoding alone (the header is written first). */
    static GgmlType plan(EncodedTensor w) {
        if (w instanceof IntGroupedWeight q && generic(q.layout()) && q.shape().length == 2 && q.kAxis() == 1
                && q.inputScale() == null && q.activationBits() == 0 && q.cols() % 32 == 0 && (q.bits() == 8 || q.bits() == 4)) {
            return q.bits() == 8 ? GgmlType.Q8_0 : GgmlType.Q4_0;
        }
        if (w instanceof MxWeight m && generic(m.layout()) && m.shape().length == 2 && m.kAxis() == 1 && m.blockSize() == 32
                && m.cols() % 32 == 0) {
            if (m.format() == MxFormat.MXFP4_E2M1) return GgmlType.MXFP4;
            if (m.format() == MxFormat.MXINT8 && mxint8Exact(m)) return GgmlType.Q8_0;
        }
        GgmlType half = sixteenBit(w);
        return half != null ? half : GgmlType.F32;
    }

    /**
     * BF16 / F16 for a dense matrix stored so (ggml has both types), else null. Vectors (norms, biases) stay F32 as
     * llama.cpp's converter writes them: its CPU element-wise ops take no 16-bit second operand (found here: a BF16
     * RMSNorm weight aborts llama_decode in binary_op).
     */
    private static GgmlType sixteenBit(EncodedTensor w) {
        if (!(w instanceof DenseWeight d) || d.tensor().rank() < 2) return null;
        return switch (d.tensor().dtype()) {
            case BF16 -> GgmlType.BF16;
            case F16 -> GgmlType.F16;
            default -> null;
        };
    }

    /** The tensor in the ggml type {@link #plan} chose for it. */
    static Encoded encode(String name, EncodedTensor w) {
        long[] shape = w.shape();
        GgmlType t = plan(w);
        if (w instanceof IntGroupedWeight q && (t == GgmlType.Q8_0 || t == GgmlType.Q4_0)) {
            int k = Math.toIntExact(q.cols());
            if (q.symmetric() && (q.groupSize() % 32 == 0 || q.groupSize() >= k)) return keepCodes(q, shape);
            float[] v = WeightDecoders.decode(name, w);
            return new Encoded(t, shape, t == GgmlType.Q8_0 ? GgmlBlocks.quantizeQ8_0(v) : GgmlBlocks.quantizeQ4_0(v),
                    "re-quantized from decoded floats (" + q.describe() + " has no exact " + t + " form: "
                            + (q.symmetric() ? "groups are not multiples of 32" : "zero points") + ")");
        }
        if (w instanceof MxWeight m && t == GgmlType.MXFP4) return mxfp4(m, shape);
        if (w instanceof MxWeight m && t == GgmlType.Q8_0) return mxint8(m, shape);
        if (t == GgmlType.BF16 || t == GgmlType.F16) {
            // a 16-bit float matrix goes in as it is stored (bits unchanged): half the bytes of F32, nothing rounded
            return new Encoded(t, shape, ((DenseWeight) w).tensor().toByteArray(), null);
        }
        float[] v = WeightDecoders.decodeAsStored(name, w);
        String note = null;
        if (!(w instanceof DenseWeight)) {
            long k = EncodedTensor.cols(shape, w instanceof IntGroupedWeight q ? q.kAxis() : w instanceof MxWeight m ? m.kAxis() : 1);
            note = "decoded to F32 (" + (shape.length == 2 && k % 32 != 0 ? "K=" + k + " is not a whole number of ggml's 32-element blocks"
                    : w.describe() + " has no exact ggml type here") + ")";
        }
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return new Encoded(GgmlType.F32, shape, b.array(), note);
    }

    private static boolean generic(Layout l) {
        return l == null || l == Layout.GENERIC;
    }

    /** Q8_0 / Q4_0 blocks holding our codes; each block's fp16 d is its group's float32 scale, rounded if need be. */
    private static Encoded keepCodes(IntGroupedWeight q, long[] shape) {
        int n = Math.toIntExact(q.rows()), k = Math.toIntExact(q.cols()), groups = q.groupsPerRow(), g = Math.min(q.groupSize(), k);
        GgmlType t = q.bits() == 8 ? GgmlType.Q8_0 : GgmlType.Q4_0;
        int per = k / 32, rowBytes = q.rowBytes();
        float[] scales = q.scales().toFloatArray();
        ByteBuffer out = ByteBuffer.allocate(n * per * t.blockBytes).order(ByteOrder.LITTLE_ENDIAN);
        double worst = 0;
        for (int r = 0; r < n; r++) {
            for (int blk = 0; blk < per; blk++) {
                int base = (r * per + blk) * t.blockBytes;
                float s = scales[r * groups + blk * 32 / g];
                short h = Half.floatToF16(s);
                if (s != 0) worst = Math.max(worst, Math.abs(Half.f16ToFloat(h) - s) / Math.abs(s));
                out.putShort(base, h);
                int c0 = blk * 32;
                if (t == GgmlType.Q8_0) {
                    for (int i = 0; i < 32; i++) out.put(base + 2 + i, q.codes().get(r * rowBytes + c0 + i));
                } else {
                    for (int j = 0; j < 16; j++) out.put(base + 2 + j, (byte) (nibble(q, r, rowBytes, c0 + j) | nibble(q, r, rowBytes, c0 + j + 16) << 4));
                }
            }
        }
        String note = worst == 0 ? null : String.format(java.util.Locale.ROOT,
                "codes kept; float32 scales rounded to fp16 (largest relative change %.2e)", worst);
        return new Encoded(t, shape, out.array(), note);
    }

    private static int nibble(IntGroupedWeight q, int row, int rowBytes, int col) {
        int b = q.codes().get(row * rowBytes + col / 2) & 0xFF;
        return (col & 1) == 0 ? b & 0x0F : b >>> 4;
    }

    /** ggml MXFP4: E8M0 byte, then byte j = code j (low) | code j+16 (high); our codes are pairs, low nibble first. */
    private static Encoded mxfp4(MxWeight m, long[] shape) {
        int n = Math.toIntExact(m.rows()), k = Math.toIntExact(m.cols()), per = k / 32;
        int rowBytes = Math.toIntExact(m.paddedCols() / 2), scalesPerRow = Math.toIntExact(m.blocksPerRow());
        ByteBuffer out = ByteBuffer.allocate(n * per * GgmlType.MXFP4.blockBytes);
        for (int r = 0; r < n; r++) {
            for (int blk = 0; blk < per; blk++) {
                int base = (r * per + blk) * GgmlType.MXFP4.blockBytes;
                out.put(base, m.scales().get(r * scalesPerRow + blk));
                for (int j = 0; j < 16; j++) {
                    int lo = code4(m, r * rowBytes, blk * 32 + j), hi = code4(m, r * rowBytes, blk * 32 + j + 16);
                    out.put(base + 1 + j, (byte) (lo | hi << 4));
                }
            }
        }
        return new Encoded(GgmlType.MXFP4, shape, out.array(), null);
    }

    private static int code4(MxWeight m, int rowStart, int col) {
        int b = m.codes().get(rowStart + col / 2) & 0xFF;
        return (col & 1) == 0 ? b & 0x0F : b >>> 4;
    }

    /** Whether every block scale 2^(e−133) of an MXINT8 weight is an fp16 value (then it is Q8_0 exactly). */
    private static boolean mxint8Exact(MxWeight m) {
        int n = Math.toIntExact(m.rows()), per = Math.toIntExact(m.cols() / 32), scalesPerRow = Math.toIntExact(m.blocksPerRow());
        for (int r = 0; r < n; r++) {
            for (int blk = 0; blk < per; blk++) {
                int e = m.scales().get(r * scalesPerRow + blk) & 0xFF;
                float d = Math.scalb(1f, e - 133);
                if (e == 0xFF || Half.f16ToFloat(Half.floatToF16(d)) != d) return false;
            }
        }
        return true;
    }

    /**
     * MXINT8 element q/64 · 2^(e−127) = q · 2^(e−133): Q8_0 with the same codes; {@link #plan} chose this only when
     * every 2^(e−133) is an fp16 value ({@link #mxint8Exact}).
     */
    private static Encoded mxint8(MxWeight m, long[] shape) {
        int n = Math.toIntExact(m.rows()), k = Math.toIntExact(m.cols()), per = k / 32;
        int rowBytes = Math.toIntExact(m.paddedCols()), scalesPerRow = Math.toIntExact(m.blocksPerRow());
        ByteBuffer out = ByteBuffer.allocate(n * per * GgmlType.Q8_0.blockBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < n; r++) {
            for (int blk = 0; blk < per; blk++) {
                int e = m.scales().get(r * scalesPerRow + blk) & 0xFF;
                int base = (r * per + blk) * GgmlType.Q8_0.blockBytes;
                out.putShort(base, Half.floatToF16(Math.scalb(1f, e - 133)));
                for (int i = 0; i < 32; i++) out.put(base + 2 + i, m.codes().get(r * rowBytes + blk * 32 + i));
            }
        }
        return new Encoded(GgmlType.Q8_0, shape, out.array(), null);
    }

    /**
     * llama.cpp's converter permutation of Q/K rows from rotate-half to interleaved RoPE pairs: within each head,
     * new row 2i+j is old row j·(d/2)+i. Rows move whole, so block-quantized bytes stay exact.
     */
    static byte[] permuteRows(byte[] bytes, long[] shape, int heads, GgmlType t) {
        int rows = Math.toIntExact(shape[0]);
        int rowBytes = Math.toIntExact(t.bytes(shape[1]));
        int d = rows / heads, half = d / 2;
        byte[] out = new byte[bytes.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    System.arraycopy(bytes, (h * d + j * half + i) * rowBytes, out, (h * d + 2 * i + j) * rowBytes, rowBytes);
                }
            }
        }
        return out;
    }

    private static long num(Map<String, Object> c, String key) {
        if (c.get(key) instanceof Number v) return v.longValue();
        throw new UnsupportedModelException("GGUF export needs the model config's " + key);
    }

    private static String fileStem(String source) {
        String s = source == null ? "model" : source.replace('\\', '/');
        s = s.substring(s.lastIndexOf('/') + 1);
        int dot = s.lastIndexOf('.');
        return dot > 0 ? s.substring(0, dot) : s;
    }
}
