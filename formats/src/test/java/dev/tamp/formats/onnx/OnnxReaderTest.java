package dev.tamp.formats.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.onnx.proto.OnnxProto.ModelProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader on the real models shipped in the langchain4j jars. */
class OnnxReaderTest {
    @TempDir Path tmp;

    static Model read(Path p) {
        return new OnnxReader().read(p, Progress.NONE);
    }

    static Tensor dense(Model m, String name) {
        EncodedTensor w = m.weights().get(name);
        assertNotNull(w, "no weight " + name + "; first names: " + m.weights().keySet().stream().limit(8).toList());
        return ((DenseWeight) w).tensor();
    }

    @Test
    void miniLmParametersShapesOpsAndIo() {
        Model m = read(TestModels.miniLm());
        long params = m.parameterCount();
        System.err.println("MiniLM parameters (sum of initializer elements): " + params);
        assertEquals(22.7e6, params, 0.1e6, "MiniLM parameter count " + params);
        assertEquals(104, m.weights().size(), "initializers");
        assertEquals("bert", m.architecture());
        assertEquals(6, ((Number) m.config().get("num_hidden_layers")).intValue());
        assertEquals(384L, m.config().get("hidden_size"));
        assertEquals("pytorch", m.config().get("producer_name"));
        assertEquals("1.13.0", m.config().get("producer_version"));
        assertEquals("7", m.config().get("ir_version"));
        assertEquals(Map.of("", 14L), m.opsets());

        // Initializers in file order, with their known shapes and dtypes.
        assertEquals(List.of("embeddings.position_ids", "embeddings.word_embeddings.weight"),
                m.weights().keySet().stream().limit(2).toList());
        assertShape(m, "embeddings.word_embeddings.weight", DType.F32, 30522, 384);
        assertShape(m, "embeddings.position_embeddings.weight", DType.F32, 512, 384);
        assertShape(m, "embeddings.token_type_embeddings.weight", DType.F32, 2, 384);
        assertShape(m, "encoder.layer.0.intermediate.dense.bias", DType.F32, 1536);
        assertShape(m, "encoder.layer.5.output.LayerNorm.weight", DType.F32, 384);
        assertShape(m, "onnx::MatMul_896", DType.F32, 384, 1536);
        assertShape(m, "embeddings.position_ids", DType.I64, 1, 512);
        // position_ids is arange(512): a known value check on an int64 raw_data tensor.
        long[] pos = dense(m, "embeddings.position_ids").toLongArray();
        for (int i = 0; i < pos.length; i++) assertEquals(i, pos[i], "position_ids[" + i + "]");

        Map<String, Integer> ops = m.graph().opHistogram();
        assertEquals(692, m.graph().nodes().size(), "nodes");
        assertEquals(48, ops.get("MatMul"), "MatMul count in " + ops);
        assertEquals(198, ops.get("Constant"), "Constant count in " + ops);
        assertEquals(6, ops.get("Softmax"), "Softmax count in " + ops);

        assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), m.graph().inputs().stream().map(ValueInfo::name).toList());
        for (ValueInfo in : m.graph().inputs()) {
            assertEquals(DType.I64, in.dtype(), in.name());
            assertEquals(2, in.dims().size(), in.name());
            for (ValueInfo.Dim d : in.dims()) assertTrue(!d.isFixed() && d.param() != null && !d.param().isEmpty(), in + " symbolic dims");
        }
        ValueInfo out0 = m.graph().outputs().get(0);
        assertEquals(DType.F32, out0.dtype());
        assertEquals(3, out0.dims().size(), out0.toString());
        assertFalse(out0.dims().get(0).isFixed(), out0.toString());
        assertEquals(ValueInfo.Dim.fixed(384), out0.dims().get(2), out0.toString());

        // Real values: embeddings finite with a plausible scale; LayerNorm gammas around 1.
        float[] w = dense(m, "embeddings.word_embeddings.weight").toFloatArray();
        double sumSq = 0;
        for (float v : w) { assertTrue(Float.isFinite(v)); sumSq += v * v; }
        double rms = Math.sqrt(sumSq / w.length);
        assertTrue(rms > 0.01 && rms < 0.2, "embedding rms " + rms);
        double gamma = 0;
        for (float v : dense(m, "embeddings.LayerNorm.weight").toFloatArray()) gamma += v / 384.0;
        assertTrue(gamma > 0.3 && gamma < 3, "mean LayerNorm gamma " + gamma);
    }

    private static void assertShape(Model m, String name, DType dtype, long... shape) {
        Tensor t = dense(m, name);
        assertEquals(dtype, t.dtype(), name);
        assertArrayEquals(shape, t.shape(), name);
    }

    @Test
    void bgeParameterCount() {
        Model m = read(TestModels.bge());
        long params = m.parameterCount();
        System.err.println("BGE parameters (sum of initializer elements): " + params);
        // The HF model card's 33.4M counts the pooler (384·384 + 384 = 147,840); this ONNX export has none,
        // so the file holds 33.36M − 0.15M = 33.21M parameters, exactly the sum the stack survey measured.
        assertEquals(33_212_160, params, "BGE parameter count");
        assertEquals(33_212_160 + 147_840, 33.36e6, 0.01e6, "with the pooler it is the model card's figure");
        assertFalse(m.weights().keySet().stream().anyMatch(k -> k.startsWith("pooler")), "no pooler in the export");
        assertEquals("bert", m.architecture());
        assertEquals(12, ((Number) m.config().get("num_hidden_layers")).intValue());
        assertEquals(Map.of("", 11L), m.opsets());
        assertEquals(96, m.graph().opHistogram().get("MatMul"));
    }

    /** Parsing the 91 MB and 133 MB models takes well under a second once warm (the survey: 26 / 35 ms). */
    @Test
    void largeModelsParseQuickly() {
        for (Path p : List.of(TestModels.miniLm(), TestModels.bge())) {
            read(p); // warm-up: class loading and JIT
            long t0 = System.nanoTime();
            Model m = read(p);
            double ms = (System.nanoTime() - t0) / 1e6;
            System.err.printf("read %s (%.0f MB): %.0f ms%n", p.getFileName(), p.toFile().length() / 1e6, ms);
            assertTrue(ms < 3000, "reading " + p.getFileName() + " took " + ms + " ms");
            assertEquals(30522 * 384, dense(m, "embeddings.word_embeddings.weight").numel());
        }
    }

    /**
     * The quantized MiniLM keeps scales in float_data and zero points in int32_data. Check the decoded
     * values against the protobuf fields themselves, and against the raw-data neighbours: dequantizing the
     * UINT8 word embeddings with the typed scale and zero point must land within half a step of the fp32
     * model's embeddings, which they were quantized from.
     */
    @Test
    void quantizedModelTypedFieldsDecode() throws IOException {
        Path q = TestModels.extract("/all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q.onnx");
        Model m = read(q);
        ModelProto mp = ModelProto.parseFrom(Files.readAllBytes(q));
        int typed = 0;
        for (TensorProto tp : mp.getGraph().getInitializerList()) {
            if (tp.hasRawData()) continue;
            typed++;
            Tensor t = dense(m, tp.getName());
            assertEquals(DType.fromOnnx(tp.getDataType()), t.dtype(), tp.getName());
            if (tp.getFloatDataCount() > 0) {
                for (int i = 0; i < tp.getFloatDataCount(); i++) {
                    assertEquals(Float.floatToRawIntBits(tp.getFloatData(i)), Float.floatToRawIntBits(t.getFloat(i)), tp.getName() + "[" + i + "]");
                }
            } else {
                assertTrue(t.dtype() == DType.I8 || t.dtype() == DType.U8, tp.getName() + " " + t.dtype());
                for (int i = 0; i < tp.getInt32DataCount(); i++) {
                    long v = t.getLong(i);
                    assertEquals(tp.getInt32Data(i), v, tp.getName() + "[" + i + "]");
                    assertTrue(t.dtype() == DType.I8 ? v >= -128 && v <= 127 : v >= 0 && v <= 255, tp.getName() + " zero point " + v);
                }
            }
        }
        assertEquals(78, typed, "initializers stored in typed fields");

        // Per-channel MatMul weights: INT8 [K][N] raw data, FLOAT scale [N] > 0 and INT8 zero point [N] typed.
        int perChannel = 0;
        for (String name : m.weights().keySet()) {
            if (!name.startsWith("onnx::MatMul_") || !name.endsWith("_quantized")) continue;
            String base = name.substring(0, name.length() - "_quantized".length());
            Tensor w = dense(m, name), scale = dense(m, base + "_scale"), zp = dense(m, base + "_zero_point");
            assertEquals(DType.I8, w.dtype(), name);
            assertEquals(DType.F32, scale.dtype(), base);
            assertEquals(DType.I8, zp.dtype(), base);
            assertArrayEquals(new long[] {w.shape()[1]}, scale.shape(), base + " scale per output channel");
            assertArrayEquals(new long[] {w.shape()[1]}, zp.shape(), base + " zero point per output channel");
            for (float s : scale.toFloatArray()) assertTrue(s > 0 && s < 1 && Float.isFinite(s), base + " scale " + s);
            perChannel++;
        }
        assertEquals(36, perChannel, "quantized MatMul weights");

        Tensor codes = dense(m, "embeddings.word_embeddings.weight_quantized");
        float scale = dense(m, "embeddings.word_embeddings.weight_scale").getFloat(0);
        long zp = dense(m, "embeddings.word_embeddings.weight_zero_point").getLong(0);
        assertEquals(DType.U8, codes.dtype());
        assertEquals(128, zp, "word embedding zero point (int32_data)");
        assertEquals(0.008230588f, scale, 1e-9f, "word embedding scale (float_data)");
        float[] fp32 = dense(read(TestModels.miniLm()), "embeddings.word_embeddings.weight").toFloatArray();
        byte[] c = codes.toByteArray();
        assertEquals(fp32.length, c.length, "same table size");
        double maxErr = 0;
        for (int i = 0; i < fp32.length; i++) maxErr = Math.max(maxErr, Math.abs(((c[i] & 0xFF) - zp) * scale - fp32[i]));
        System.err.printf("word embeddings: max |dequant(q) − fp32| = %.6f (half step %.6f)%n", maxErr, scale / 2);
        assertTrue(maxErr <= scale * 0.5 + 1e-6, "max dequantization error " + maxErr + " vs half step " + scale / 2);
    }

    @Test
    void tokenizerBesideTheModelIsPickedUp() throws IOException {
        byte[] tok;
        try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tok = in.readAllBytes();
        }
        Path hf = Files.createDirectories(tmp.resolve("hf"));
        Files.createSymbolicLink(hf.resolve("model.onnx"), TestModels.miniLm());
        assertNull(read(hf.resolve("model.onnx")).tokenizerJson(), "no tokenizer yet");
        Files.write(hf.resolve("tokenizer.json"), tok);
        assertArrayEquals(tok, read(hf.resolve("model.onnx")).tokenizerJson(), "tokenizer.json");

        Path jar = Files.createDirectories(tmp.resolve("jar"));
        Files.createSymbolicLink(jar.resolve("all-minilm-l6-v2.onnx"), TestModels.miniLm());
        Files.write(jar.resolve("all-minilm-l6-v2-tokenizer.json"), tok);
        assertArrayEquals(tok, read(jar.resolve("all-minilm-l6-v2.onnx")).tokenizerJson(), "<stem>-tokenizer.json");
    }

    @Test
    void acceptsOnlyOnnxFiles() throws IOException {
        OnnxReader r = new OnnxReader();
        assertTrue(r.accepts(TestModels.miniLm()));
        Path upper = Files.createSymbolicLink(tmp.resolve("M.ONNX"), TestModels.miniLm());
        assertTrue(r.accepts(upper));
        assertFalse(r.accepts(tmp), "a directory");
        assertFalse(r.accepts(Files.writeString(tmp.resolve("model.safetensors"), "x")));
        assertFalse(r.accepts(tmp.resolve("missing.onnx")));
    }
}
