package dev.tamp.formats.gguf;

import static dev.tamp.formats.ReaderAssertions.assertBadInput;
import static dev.tamp.formats.ReaderAssertions.assertUnsupported;
import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Half;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.ReaderAssertions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GGUF: hand-built files (v2/v3, every metadata type), ggml block oracles, writer round trips, bad input. */
class GgufReaderTest {
    @TempDir Path tmp;
    final GgufReader reader = new GgufReader();

    /** Little-endian byte builder for hand-made files, independent of GgufWriter. */
    static final class Le {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        Le u8(int v) { out.write(v); return this; }
        Le i16(int v) { return raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array()); }
        Le i32(int v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); }
        Le i64(long v) { return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }
        Le f32(float v) { return i32(Float.floatToIntBits(v)); }
        Le str(String s) { byte[] b = s.getBytes(StandardCharsets.UTF_8); i64(b.length); return raw(b); }
        Le raw(byte[] b) { out.writeBytes(b); return this; }
        Le padTo(int align) { while (out.size() % align != 0) out.write(0); return this; }
        int size() { return out.size(); }
        byte[] bytes() { return out.toByteArray(); }
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    static Tensor tensor(Model m, String name) {
        EncodedTensor t = m.weights().get(name);
        assertNotNull(t, name + " in " + m.weights().keySet());
        return ((DenseWeight) t).tensor();
    }

    @Test
    void handBuiltV2FileWithEveryMetadataTypeCustomAlignmentAndInnermostFirstDims() throws IOException {
        Le f = new Le().i32(0x46554747).i32(2).i64(2).i64(15);
        f.str("general.architecture").i32(8).str("bert");
        f.str("general.alignment").i32(4).i32(64);
        f.str("k.u8").i32(0).u8(200);
        f.str("k.i8").i32(1).u8(0xFE);
        f.str("k.u16").i32(2).i16(0xFFFF);
        f.str("k.i16").i32(3).i16(-300);
        f.str("k.u32").i32(4).i32(0xFFFFFFFF);
        f.str("k.i32").i32(5).i32(-70000);
        f.str("k.f32").i32(6).f32(0.25f);
        f.str("k.bool").i32(7).u8(1);
        f.str("k.u64").i32(10).i64(1L << 40);
        f.str("k.i64").i32(11).i64(-5);
        f.str("k.f64").i32(12).i64(Double.doubleToLongBits(-1.5));
        f.str("k.strings").i32(9).i32(8).i64(3).str("a").str("").str("ü");
        f.str("k.nested").i32(9).i32(9).i64(2).i32(5).i64(2).i32(1).i32(2).i32(5).i64(1).i32(-3);
        // tensor "w": F16, ne = [3, 2] (innermost first) → row-major [2][3]; tensor "v": F32 [4] at offset 64
        f.str("w").i32(2).i64(3).i64(2).i32(1).i64(0);
        f.str("v").i32(1).i64(4).i32(0).i64(64);
        f.padTo(64);
        int dataStart = f.size();
        for (float v : new float[] {1, -2, 0.5f, 3, 0, -0.25f}) f.i16(Half.floatToF16(v));
        f.padTo(64);
        assertEquals(dataStart + 64, f.size());
        for (float v : new float[] {10, 20, 30, 40}) f.f32(v);
        Path p = write("hand.gguf", f.bytes());

        GgufReader.Header h = GgufReader.readHeader(p);
        assertEquals(2, h.version());
        assertEquals(64, h.alignment());
        assertEquals(dataStart, h.dataStart());
        Map<String, Object> m = h.metadata();
        assertEquals(200L, m.get("k.u8"));
        assertEquals(-2L, m.get("k.i8"));
        assertEquals(65535L, m.get("k.u16"));
        assertEquals(-300L, m.get("k.i16"));
        assertEquals(4294967295L, m.get("k.u32"));
        assertEquals(-70000L, m.get("k.i32"));
        assertEquals(0.25, m.get("k.f32"));
        assertEquals(true, m.get("k.bool"));
        assertEquals(1L << 40, m.get("k.u64"));
        assertEquals(-5L, m.get("k.i64"));
        assertEquals(-1.5, m.get("k.f64"));
        assertEquals(List.of("a", "", "ü"), m.get("k.strings"));
        assertEquals(List.of(List.of(1L, 2L), List.of(-3L)), m.get("k.nested"));

        Model model = reader.read(p, Progress.NONE);
        assertEquals("bert", model.architecture());
        assertNull(model.graph());
        assertEquals(List.of("w", "v"), List.copyOf(model.weights().keySet()));
        Tensor w = tensor(model, "w");
        assertEquals(DType.F16, w.dtype());
        assertArrayEquals(new long[] {2, 3}, w.shape());
        assertArrayEquals(new float[] {1, -2, 0.5f, 3, 0, -0.25f}, w.toFloatArray());
        assertArrayEquals(new float[] {10, 20, 30, 40}, tensor(model, "v").toFloatArray());
        assertEquals("bert", model.config().get("general.architecture"));
    }

    // Block A of formats.md §1.9 and its ggml encodings from §4.1
    static final float[] BLOCK_A = {
            -0.582733273506f, -0.256973713636f, 0.506033003330f, 0.400039970875f, -0.437093466520f, 1.275019764900f, -2.123294353485f, 1.514909625053f,
            -2.660086154938f, -0.200791791081f, -0.060985822231f, -0.209203109145f, 2.385987281799f, 0.062245476991f, 0.217003762722f, -0.857734560966f,
            0.507945835590f, 0.896152675152f, -0.751049160957f, -0.488164335489f, 0.805381953716f, -0.172028362751f, 0.271137863398f, -0.503807783127f,
            1.879478693008f, -0.294227510691f, 0.968807995319f, 0.670037031174f, -0.871595799923f, 0.304561793804f, -0.567594051361f, -1.265962004662f};

    @Test
    void quantizersReproduceTheSpecBlockAVectors() {
        assertEquals(0xbf152e02, Float.floatToIntBits(BLOCK_A[0]));
        assertEquals(0x3eccd20a, Float.floatToIntBits(BLOCK_A[3]));
        HexFormat hex = HexFormat.ofDelimiter(" ");
        assertEquals("52 35 a6 b7 6a 79 a7 7c 92 6d e0 77 b8 a7 5f 98 69 45", hex.formatHex(GgmlBlocks.quantizeQ4_0(BLOCK_A)));
        assertEquals("5d 25 e4 f4 18 13 eb 3d 9b 48 81 f6 fd f6 72 03 0a d7 18 2b dc e9 26 f8 0d e8 5a f2 2e 20 d6 0f e5 c4",
                hex.formatHex(GgmlBlocks.quantizeQ8_0(BLOCK_A)));
        // roundf ties away from zero: a block [127, -63.5, ...] has d = 1 and codes 127, -64 (Math.round would give -63)
        float[] tie = new float[32];
        tie[0] = 127f;
        tie[1] = -63.5f;
        tie[2] = 0.5f;
        byte[] q = GgmlBlocks.quantizeQ8_0(tie);
        assertEquals(127, q[2]);
        assertEquals(-64, q[3]);
        assertEquals(1, q[4]);
    }

    /** The ggml block definitions (§4.1), restated here independently of GgmlBlocks. */
    static float[] decode(GgmlType type, byte[] raw, int n) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        int bytesPerBlock = type == GgmlType.Q8_0 ? 34 : 18;
        for (int i = 0; i < n; i++) {
            int blk = i / 32, e = i % 32, base = blk * bytesPerBlock;
            float d = Half.f16ToFloat(b.getShort(base));
            if (type == GgmlType.Q8_0) {
                out[i] = b.get(base + 2 + e) * d;
            } else {
                int packed = b.get(base + 2 + e % 16) & 0xFF;
                int nib = e < 16 ? packed & 0x0F : packed >>> 4;
                out[i] = (nib - 8) * d;
            }
        }
        return out;
    }

    @Test
    void writerRoundTripWithQuantizedBlocksDecodedByTheGgmlDefinition() throws IOException {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = new float[3 * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 0.3);
        byte[] q8 = GgmlBlocks.quantizeQ8_0(x), q4 = GgmlBlocks.quantizeQ4_0(x);
        ByteBuffer fb = ByteBuffer.allocate(64 * 4).order(ByteOrder.LITTLE_ENDIAN), hb = ByteBuffer.allocate(64 * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 64; i++) { fb.putFloat(x[i]); hb.putShort(Half.floatToF16(x[i])); }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", "llama");
        meta.put("general.name", "tiny");
        meta.put("llama.block_count", 1);
        meta.put("llama.embedding_length", 64L);
        meta.put("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        meta.put("tokenizer.ggml.tokens", List.of("<s>", "</s>", "a"));
        meta.put("tokenizer.ggml.scores", List.of(0f, 0f, -1.5f));
        List<GgufWriter.TensorData> tensors = List.of(
                new GgufWriter.TensorData("blk.0.attn_q.weight", GgmlType.Q8_0, new long[] {3, 64}, q8),
                new GgufWriter.TensorData("blk.0.ffn_up.weight", GgmlType.Q4_0, new long[] {3, 64}, q4),
                new GgufWriter.TensorData("output_norm.weight", GgmlType.F32, new long[] {64}, fb.array()),
                new GgufWriter.TensorData("token_embd.weight", GgmlType.F16, new long[] {1, 64}, hb.array()));
        Path p = tmp.resolve("m.gguf"), again = tmp.resolve("again.gguf");
        GgufWriter.write(p, meta, tensors);
        GgufWriter.write(again, meta, tensors);
        assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(again), "deterministic bytes");

        Model m = ModelLoader.load(p, Progress.NONE);
        assertEquals("llama", m.architecture());
        assertEquals(1L, m.config().get("num_hidden_layers"));
        assertEquals(64L, m.config().get("hidden_size"));
        assertEquals(1e-5, (Double) m.config().get("rms_norm_eps"), 1e-12);
        assertEquals(1L, m.config().get("vocab_size"), "from token_embd's rows");
        assertEquals(true, m.config().get("rope_interleaved"));
        assertEquals(true, m.config().get("tie_word_embeddings"));
        assertEquals(List.of("<s>", "</s>", "a"), GgufReader.readHeader(p).metadata().get("tokenizer.ggml.tokens"));
        assertEquals(List.of(0.0, 0.0, -1.5), GgufReader.readHeader(p).metadata().get("tokenizer.ggml.scores"));

        float[] g8 = tensor(m, "model.layers.0.self_attn.q_proj.weight").toFloatArray();
        float[] g4 = tensor(m, "model.layers.0.mlp.up_proj.weight").toFloatArray();
        assertArrayEquals(new long[] {3, 64}, m.weights().get("model.layers.0.mlp.up_proj.weight").shape());
        assertArrayEquals(decode(GgmlType.Q8_0, q8, x.length), g8, 0f);
        assertArrayEquals(decode(GgmlType.Q4_0, q4, x.length), g4, 0f);
        double max8 = 0, max4 = 0;
        for (int i = 0; i < x.length; i++) {
            float d8 = Half.f16ToFloat(ByteBuffer.wrap(q8).order(ByteOrder.LITTLE_ENDIAN).getShort(i / 32 * 34));
            float d4 = Half.f16ToFloat(ByteBuffer.wrap(q4).order(ByteOrder.LITTLE_ENDIAN).getShort(i / 32 * 18));
            max8 = Math.max(max8, Math.abs(x[i] - g8[i]) / Math.abs(d8));
            max4 = Math.max(max4, Math.abs(x[i] - g4[i]) / Math.abs(d4));
        }
        assertTrue(max8 <= 0.51, "Q8_0 error within half a step (fp16 scale rounding aside): " + max8);
        assertTrue(max4 <= 1.01, "Q4_0 error within a step: " + max4);
        float[] f = new float[64];
        System.arraycopy(x, 0, f, 0, 64);
        assertArrayEquals(f, tensor(m, "model.norm.weight").toFloatArray());
        assertEquals(DType.F16, tensor(m, "model.embed_tokens.weight").dtype());
        assertArrayEquals(new long[] {1, 64}, tensor(m, "model.embed_tokens.weight").shape());

        // Qwen2 GGUFs keep HF's rotate-half layout
        meta.put("general.architecture", "qwen2");
        Path qwen = tmp.resolve("qwen.gguf");
        GgufWriter.write(qwen, meta, tensors);
        assertEquals(false, reader.read(qwen, Progress.NONE).config().get("rope_interleaved"));
        // writer refuses inconsistent tensors
        assertThrows(IllegalArgumentException.class, () -> GgufWriter.write(tmp.resolve("x.gguf"), Map.of(),
                List.of(new GgufWriter.TensorData("a", GgmlType.Q8_0, new long[] {2, 64}, q8))));
        assertThrows(IllegalArgumentException.class, () -> GgufWriter.write(tmp.resolve("x.gguf"), Map.of(),
                List.of(new GgufWriter.TensorData("a", GgmlType.Q4_0, new long[] {4, 48}, new byte[4 * 48 / 32 * 18]))));
    }

    @Test
    void unsupportedTypesAndVersionsAreNamed() throws IOException {
        Le f = new Le().i32(0x46554747).i32(3).i64(1).i64(0);
        f.str("blk.0.attn_q.weight").i32(2).i64(256).i64(2).i32(16).i64(0).padTo(32).raw(new byte[2 * 66]);
        Path iq2 = write("iq2xxs.gguf", f.bytes());
        assertUnsupported(iq2, () -> reader.read(iq2, Progress.NONE), "blk.0.attn_q.weight", "IQ2_XXS (16)", "Q4_K, ");
        Le t = new Le().i32(0x46554747).i32(3).i64(1).i64(0);
        t.str("blk.1.ffn_up.weight").i32(1).i64(256).i32(35).i64(0).padTo(32).raw(new byte[66]);
        Path tq2 = write("tq2.gguf", t.bytes());
        assertUnsupported(tq2, () -> reader.read(tq2, Progress.NONE), "blk.1.ffn_up.weight", "TQ2_0 (35)");
        Path v1 = write("v1.gguf", new Le().i32(0x46554747).i32(1).i32(0).i32(0).bytes());
        assertUnsupported(v1, () -> reader.read(v1, Progress.NONE), "version 1");
        Path be = write("be.gguf", new Le().i32(0x46554747).i32(Integer.reverseBytes(3)).i64(0).i64(0).bytes());
        assertUnsupported(be, () -> reader.read(be, Progress.NONE), "big-endian");
    }

    /** A header with one F32 tensor of {@code dims} (innermost first) at {@code offset}, and {@code data} bytes after. */
    Path oneTensor(String name, long[] ne, long offset, int data) throws IOException {
        Le f = new Le().i32(0x46554747).i32(3).i64(1).i64(0);
        f.str("t").i32(ne.length);
        for (long d : ne) f.i64(d);
        f.i32(0).i64(offset).padTo(32).raw(new byte[data]);
        return write(name, f.bytes());
    }

    @Test
    void lyingHeadersAreBadInput() throws IOException {
        Path empty = write("empty.gguf", new byte[0]);
        assertBadInput(empty, () -> reader.read(empty, Progress.NONE), "empty");
        Path magic = write("magic.gguf", new Le().i32(0x46554748).i32(3).i64(0).i64(0).bytes());
        assertBadInput(magic, () -> reader.read(magic, Progress.NONE), "bad magic");
        Path trunc = write("trunc.gguf", new Le().i32(0x46554747).i32(3).i32(0).bytes());
        assertBadInput(trunc, () -> reader.read(trunc, Progress.NONE), "truncated");
        Path tensors = write("tensors.gguf", new Le().i32(0x46554747).i32(3).i64(1L << 40).i64(0).raw(new byte[64]).bytes());
        assertBadInput(tensors, () -> reader.read(tensors, Progress.NONE), "1099511627776 tensors");
        Path kvs = write("kvs.gguf", new Le().i32(0x46554747).i32(3).i64(0).i64(1L << 40).raw(new byte[64]).bytes());
        assertBadInput(kvs, () -> reader.read(kvs, Progress.NONE), "more than");
        Path negCount = write("negcount.gguf", new Le().i32(0x46554747).i32(3).i64(-1).i64(0).bytes());
        assertBadInput(negCount, () -> reader.read(negCount, Progress.NONE));
        Path str = write("str.gguf", new Le().i32(0x46554747).i32(3).i64(0).i64(1).i64(1L << 62).raw(new byte[32]).bytes());
        assertBadInput(str, () -> reader.read(str, Progress.NONE), "exceeds the file");
        Path arr = write("arr.gguf", new Le().i32(0x46554747).i32(3).i64(0).i64(1).str("a").i32(9).i32(4).i64(1L << 40).raw(new byte[32]).bytes());
        assertBadInput(arr, () -> reader.read(arr, Progress.NONE), "array elements");
        Le deep = new Le().i32(0x46554747).i32(3).i64(0).i64(1).str("deep").i32(9);
        for (int i = 0; i < 20; i++) deep.i32(9).i64(1);
        deep.i32(0).i64(0).raw(new byte[16]);
        Path nested = write("nested.gguf", deep.bytes());
        assertBadInput(nested, () -> reader.read(nested, Progress.NONE), "nests arrays");
        Path bool = write("bool.gguf", new Le().i32(0x46554747).i32(3).i64(0).i64(1).str("b").i32(7).u8(2).bytes());
        assertBadInput(bool, () -> reader.read(bool, Progress.NONE), "bool");
        Path type = write("type.gguf", new Le().i32(0x46554747).i32(3).i64(0).i64(1).str("b").i32(13).u8(2).bytes());
        assertBadInput(type, () -> reader.read(type, Progress.NONE), "unknown value type");
        Path dupKey = write("dupkey.gguf", new Le().i32(0x46554747).i32(3).i64(0).i64(2).str("a").i32(0).u8(1).str("a").i32(0).u8(2).bytes());
        assertBadInput(dupKey, () -> reader.read(dupKey, Progress.NONE), "twice");
        Path align = write("align.gguf", new Le().i32(0x46554747).i32(3).i64(0).i64(1).str("general.alignment").i32(4).i32(12).bytes());
        assertBadInput(align, () -> reader.read(align, Progress.NONE), "alignment");

        Path ok = oneTensor("ok.gguf", new long[] {4}, 0, 16);
        assertEquals(4, reader.read(ok, Progress.NONE).parameterCount());
        Path neg = oneTensor("negdim.gguf", new long[] {-4}, 0, 16);
        assertBadInput(neg, () -> reader.read(neg, Progress.NONE), "negative dimension");
        Path zeroDims = oneTensor("zerodims.gguf", new long[] {}, 0, 16);
        assertBadInput(zeroDims, () -> reader.read(zeroDims, Progress.NONE), "dimensions");
        Path fiveDims = oneTensor("fivedims.gguf", new long[] {1, 1, 1, 1, 4}, 0, 16);
        assertBadInput(fiveDims, () -> reader.read(fiveDims, Progress.NONE), "dimensions");
        Path overflow = oneTensor("overflow.gguf", new long[] {1L << 40, 1L << 40}, 0, 16);
        assertBadInput(overflow, () -> reader.read(overflow, Progress.NONE), "impossible size");
        Path big = oneTensor("big.gguf", new long[] {1L << 20, 1L << 20}, 0, 16);
        assertBadInput(big, () -> reader.read(big, Progress.NONE), "outside the file");
        Path outside = oneTensor("outside.gguf", new long[] {4}, 1L << 50, 16);
        assertBadInput(outside, () -> reader.read(outside, Progress.NONE), "outside the file");
        Path shortData = oneTensor("shortdata.gguf", new long[] {4}, 0, 12);
        assertBadInput(shortData, () -> reader.read(shortData, Progress.NONE), "outside the file");
        Path unaligned = oneTensor("unaligned.gguf", new long[] {4}, 4, 32);
        assertBadInput(unaligned, () -> reader.read(unaligned, Progress.NONE), "alignment");
        Le q = new Le().i32(0x46554747).i32(3).i64(1).i64(0);
        q.str("q").i32(2).i64(48).i64(2).i32(8).i64(0).padTo(32).raw(new byte[200]);
        Path partial = write("partialblock.gguf", q.bytes());
        assertBadInput(partial, () -> reader.read(partial, Progress.NONE), "blocks");
    }

    @Test
    void corruptedFilesFailCleanly() throws IOException {
        float[] x = new float[64];
        for (int i = 0; i < 64; i++) x[i] = (float) Math.sin(i);
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("general.architecture", "llama");
        meta.put("llama.block_count", 1);
        meta.put("tokenizer.ggml.tokens", List.of("a", "b"));
        Path p = tmp.resolve("valid.gguf");
        GgufWriter.write(p, meta, List.of(
                new GgufWriter.TensorData("blk.0.attn_q.weight", GgmlType.Q8_0, new long[] {2, 32}, GgmlBlocks.quantizeQ8_0(x)),
                new GgufWriter.TensorData("blk.0.attn_k.weight", GgmlType.Q4_0, new long[] {2, 32}, GgmlBlocks.quantizeQ4_0(x))));
        int rejected = ReaderAssertions.fuzz(p, tmp, reader, 250, 250, 23);
        assertTrue(rejected > 250, "corruptions detected: " + rejected);
    }
}
