package dev.tamp.formats.onnx;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxReaderTest {
    @TempDir Path tmp;

    static Model read(Path p) {
        return new OnnxReader().read(p, Progress.NONE);
    }

    @Test
    void miniLmHasKnownParametersShapesAndOps() {
        Model m = read(TestModels.miniLm());
        long params = m.parameterCount();
        assertEquals(22.7e6, params, 0.1e6, "MiniLM parameter count " + params);
        System.err.println("MiniLM parameters " + params);
        assertEquals("bert", m.architecture());
        EncodedTensor words = m.weights().get("embeddings.word_embeddings.weight");
        assertNotNull(words, "word embeddings by HF name; names: " + m.weights().keySet().stream().limit(8).toList());
        assertArrayEquals(new long[] {30522, 384}, words.shape());
        assertEquals(6, ((Number) m.config().get("num_hidden_layers")).intValue());
        Map<String, Integer> ops = m.graph().opHistogram();
        assertTrue(ops.getOrDefault("MatMul", 0) >= 36, "MatMul count " + ops);
        assertEquals(java.util.List.of("input_ids", "attention_mask", "token_type_ids"),
                m.graph().inputs().stream().map(v -> v.name()).toList());
        // Real values: LayerNorm gammas are positive and O(1); embeddings finite and small.
        float[] w = ((DenseWeight) words).tensor().toFloatArray();
        double sumSq = 0;
        for (float v : w) { assertTrue(Float.isFinite(v)); sumSq += v * v; }
        double rms = Math.sqrt(sumSq / w.length);
        assertTrue(rms > 0.01 && rms < 0.2, "embedding rms " + rms);
    }

    @Test
    void bgeParameterCount() {
        Model m = read(TestModels.bge());
        // The HF model card's 33.4M counts the pooler (384·384 + 384 = 147,840); this ONNX export has none,
        // so the file holds 33.36M − 0.15M = 33.21M parameters.
        assertEquals(33_212_160, m.parameterCount(), "BGE parameter count");
        assertFalse(m.weights().keySet().stream().anyMatch(k -> k.startsWith("pooler")), "no pooler in the export");
        assertEquals("bert", m.architecture());
        assertEquals(12, ((Number) m.config().get("num_hidden_layers")).intValue());
    }

    @Test
    void quantizedModelTypedFieldsDecode() {
        Path q = TestModels.extract("/all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q.onnx");
        Model m = read(q);
        int int8 = 0, scales = 0;
        for (Map.Entry<String, EncodedTensor> e : m.weights().entrySet()) {
            Tensor t = ((DenseWeight) e.getValue()).tensor();
            if (t.dtype() == DType.U8 || t.dtype() == DType.I8) int8++;
            if (e.getKey().endsWith("_scale") && t.dtype() == DType.F32) {
                for (float s : t.toFloatArray()) assertTrue(s > 0 && Float.isFinite(s), e.getKey() + " scale " + s);
                scales++;
            }
        }
        assertTrue(int8 >= 36, "int8 weights " + int8);
        assertTrue(scales >= 36, "scales " + scales);
    }

    @Test
    void roundTripIsBitIdenticalAndDeterministic() throws IOException {
        Model m = read(TestModels.miniLm());
        Path a = tmp.resolve("a.onnx"), b = tmp.resolve("b.onnx");
        OnnxWriter.write(m, a);
        OnnxWriter.write(m, b);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "same model, same bytes");
        Model back = read(a);
        assertEquals(m.weights().keySet(), back.weights().keySet());
        for (String k : m.weights().keySet()) {
            assertTrue(((DenseWeight) m.weights().get(k)).tensor().contentEquals(((DenseWeight) back.weights().get(k)).tensor()), k);
        }
        assertEquals(m.graph().nodes().size(), back.graph().nodes().size());
        for (int i = 0; i < m.graph().nodes().size(); i++) assertEquals(m.graph().nodes().get(i), back.graph().nodes().get(i), "node " + i);
        assertEquals(m.graph().inputs(), back.graph().inputs());
        assertEquals(m.opsets(), back.opsets());
    }

    @Test
    void externalDataRoundTrip() throws IOException {
        Model m = read(TestModels.miniLm());
        Path out = tmp.resolve("ext.onnx");
        OnnxWriter.write(m, out, 1 << 16);
        assertTrue(Files.size(out) < 5_000_000, "graph file small, weights outside: " + Files.size(out));
        assertTrue(Files.size(tmp.resolve("ext.onnx.data")) > 80_000_000);
        Model back = read(out);
        for (String k : m.weights().keySet()) {
            assertTrue(((DenseWeight) m.weights().get(k)).tensor().contentEquals(((DenseWeight) back.weights().get(k)).tensor()), k);
        }
    }

    @Test
    void graphCodecRoundTrip() {
        Model m = read(TestModels.miniLm());
        byte[] bytes = OnnxGraphCodec.toBytes(m.graph(), m.opsets());
        assertEquals(m.graph().nodes().size(), OnnxGraphCodec.fromBytes(bytes).nodes().size());
        assertEquals(m.graph().outputs(), OnnxGraphCodec.fromBytes(bytes).outputs());
        assertArrayEquals(bytes, OnnxGraphCodec.toBytes(OnnxGraphCodec.fromBytes(bytes), m.opsets()));
    }

    @Test
    void badInputsNameTheFile() throws IOException {
        byte[] full = Files.readAllBytes(TestModels.miniLm());
        Path truncated = tmp.resolve("truncated.onnx");
        Files.write(truncated, Arrays.copyOf(full, 1 << 20));
        Path empty = tmp.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        Path garbage = tmp.resolve("garbage.onnx");
        byte[] g = new byte[4096];
        new SplittableRandom(7).nextBytes(g);
        Files.write(garbage, g);
        for (Path p : new Path[] {truncated, empty, garbage}) {
            BadInputException e = assertThrows(BadInputException.class, () -> read(p), p.toString());
            assertTrue(e.getMessage().contains(p.getFileName().toString()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void externalDataEscapingTheDirectoryIsRefused() throws IOException {
        Model m = read(TestModels.miniLm());
        Path out = tmp.resolve("sub").resolve("esc.onnx");
        Files.createDirectories(out.getParent());
        OnnxWriter.write(m, out, 1 << 16);
        // point every external location at ../esc.onnx.data
        byte[] bytes = Files.readAllBytes(out);
        String s = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        String patched = s.replace("esc.onnx.data", "../sc.onnx.data");
        assertNotEquals(s.length(), patched.length() + 1);
        Files.write(out, patched.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        BadInputException e = assertThrows(BadInputException.class, () -> read(out));
        assertTrue(e.getMessage().contains("esc.onnx"), e.getMessage());
    }
}
