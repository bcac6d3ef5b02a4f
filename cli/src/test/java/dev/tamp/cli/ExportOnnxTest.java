package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Encoding;
import dev.tamp.runtime.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ONNX Runtime is the oracle: it loads and runs each ONNX export of a quantized MiniLM pack (float32, QDQ int8,
 * MatMulNBits int4, MX as QDQ), and its sentence embeddings agree with our executor running the same pack.
 */
class ExportOnnxTest {
    @TempDir static Path tmp;
    static List<String> texts;

    @BeforeAll
    static void packs() {
        System.setProperty("ai.djl.offline", "true");
        if (System.getProperty("tamp.cache.dir") == null) System.setProperty("tamp.cache.dir", tmp.resolve("cache").toString());
        texts = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 16, 5, 0);
        assertEquals(0, tamp("quantize", "minilm", "--method", "rtn", "--bits", "8", "-o", tmp.resolve("w8.tpk").toString()).code());
        assertEquals(0, tamp("quantize", "minilm", "--method", "rtn", "--bits", "4", "--group", "32", "-o", tmp.resolve("w4.tpk").toString()).code());
    }

    /** Cosine between our executor's embedding of the pack and ONNX Runtime's of the export, worst sentence. */
    static double minCosine(Path pack, Path onnx) throws Exception {
        return java.util.Arrays.stream(cosines(pack, onnx)).min().orElseThrow();
    }

    /** Per held-out text: cosine between the pack's pooled embedding (tamp run) and the ONNX file's (ONNX Runtime). */
    static double[] cosines(Path pack, Path onnx) throws Exception {
        LoadedModel lm = LoadedModel.load(pack.toString(), null, Progress.NONE);
        Tokenizer tok = lm.tokenizer();
        float[][] ours;
        // the exports of weight-only packs keep float activations (W4A16): the pack runs the same way here, not with
        // W4's default int8 activations (W8A8 packs quantize theirs either way)
        String was = System.getProperty("tamp.activations");
        System.setProperty("tamp.activations", "float");
        try (Embedder e = new Embedder(lm.runnable(), new JavaBackend(), tok, Pooling.MEAN, 0)) {
            ours = e.embed(texts, 8, ExecutionListener.NONE);
        } finally {
            if (was == null) System.clearProperty("tamp.activations");
            else System.setProperty("tamp.activations", was);
        }
        List<Encoding> enc = tok.encodeBatch(texts, 0);
        int n = enc.size(), len = enc.get(0).length();
        long[][] ids = new long[n][len], mask = new long[n][len];
        for (int i = 0; i < n; i++) for (int t = 0; t < len; t++) {
            ids[i][t] = enc.get(i).ids()[t];
            mask[i][t] = enc.get(i).attentionMask()[t];
        }
        float[][][] hidden;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(2);
            try (OrtSession s = env.createSession(onnx.toString(), o);
                 OnnxTensor ti = OnnxTensor.createTensor(env, ids);
                 OnnxTensor tm = OnnxTensor.createTensor(env, mask);
                 OnnxTensor tt = OnnxTensor.createTensor(env, new long[n][len])) {
                Map<String, OnnxTensor> in = new HashMap<>();
                in.put("input_ids", ti);
                in.put("attention_mask", tm);
                in.put("token_type_ids", tt);
                try (OrtSession.Result r = s.run(in)) {
                    hidden = (float[][][]) r.get(0).getValue();
                }
            }
        }
        double[] cos = new double[n];
        for (int i = 0; i < n; i++) {
            int d = hidden[i][0].length;
            double[] pooled = new double[d];
            for (int t = 0; t < len; t++) if (mask[i][t] == 1) for (int k = 0; k < d; k++) pooled[k] += hidden[i][t][k];
            double dot = 0, na = 0, nb = 0;
            for (int k = 0; k < d; k++) {
                dot += pooled[k] * ours[i][k];
                na += pooled[k] * pooled[k];
                nb += (double) ours[i][k] * ours[i][k];
            }
            cos[i] = dot / Math.sqrt(na * nb);
        }
        return cos;
    }

    static JsonNode export(Path pack, String mode, Path out) throws Exception {
        CliTest.Run r = tamp("export", pack.toString(), "--to", "onnx", "--onnx-weights", mode, "-o", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        return Json.parse(r.out());
    }

    @Test
    void float32ExportOfAnInt4PackRunsInOrtAndAgrees() throws Exception {
        Path out = tmp.resolve("w4-fp32.onnx");
        JsonNode rep = export(tmp.resolve("w4.tpk"), "fp32", out);
        assertEquals(37, rep.get("tensors").size());
        for (JsonNode t : rep.get("tensors")) assertEquals("float32", t.get("exported_as").asText());
        double c = minCosine(tmp.resolve("w4.tpk"), out);
        System.out.println("export onnx fp32 (int4 g32 pack): min cosine vs tamp run = " + c);
        assertTrue(c >= 0.99999, "cosine " + c);
    }

    @Test
    void qdqInt8ExportRunsInOrtAndAgreesAndIsDeterministic() throws Exception {
        Path out = tmp.resolve("w8-qdq.onnx"), again = tmp.resolve("w8-qdq-again.onnx");
        JsonNode rep = export(tmp.resolve("w8.tpk"), "qdq", out);
        for (JsonNode t : rep.get("tensors")) {
            assertTrue(t.get("exported_as").asText().startsWith("DequantizeLinear(int8"), t.toString());
        }
        double c = minCosine(tmp.resolve("w8.tpk"), out);
        System.out.println("export onnx qdq int8 per-channel: min cosine vs tamp run = " + c);
        assertTrue(c >= 0.99999, "cosine " + c);
        // the tokenizer goes beside the export, where tamp (and the langchain4j layout) find it
        assertEquals(tmp.resolve("w8-qdq-tokenizer.json").toString(), rep.get("tokenizer").asText());
        assertNotNull(LoadedModel.load(out.toString(), null, Progress.NONE).tokenizer(), "the export loads with its tokenizer");
        export(tmp.resolve("w8.tpk"), "qdq", again);
        assertArrayEquals(Files.readAllBytes(out), Files.readAllBytes(again), "identical inputs give identical bytes");
    }

    @Test
    void matMulNBitsInt4ExportRunsInOrtAndAgrees() throws Exception {
        Path out = tmp.resolve("w4-nbits.onnx");
        JsonNode rep = export(tmp.resolve("w4.tpk"), "nbits", out);
        int nbits = 0;
        for (JsonNode t : rep.get("tensors")) {
            String as = t.get("exported_as").asText();
            if (as.startsWith("MatMulNBits")) nbits++;
            else assertTrue(as.startsWith("DequantizeLinear(uint8"), "the rest (the pooler's Gemm) stays quantized as QDQ: " + t);
        }
        assertEquals(36, nbits, "every MatMul weight of the 6 layers becomes MatMulNBits");
        double c = minCosine(tmp.resolve("w4.tpk"), out);
        System.out.println("export onnx nbits int4 g32 asym: min cosine vs tamp run = " + c);
        assertTrue(c >= 0.99999, "cosine " + c);
        // The comparison can fail: the unquantized MiniLM is measurably further from the int4 pack than its export is.
        double base = minCosine(tmp.resolve("w4.tpk"), dev.tamp.formats.ModelLoader.resolve("minilm"));
        System.out.println("unquantized MiniLM vs the int4 pack (negative control): min cosine = " + base);
        assertTrue(base < 0.9999 && 1 - base > 100 * (1 - c), "fp32 model vs int4 pack " + base + ", export " + c);
    }

    @Test
    @org.junit.jupiter.api.Tag("slow")
    void symmetricInt4AsMatMulNBitsAndAsymmetricInt4AsQdq() throws Exception {
        Path qdq = tmp.resolve("w4-qdq.onnx");
        export(tmp.resolve("w4.tpk"), "qdq", qdq);
        double cq = minCosine(tmp.resolve("w4.tpk"), qdq);
        System.out.println("export onnx qdq int4 g32 asym: min cosine vs tamp run = " + cq);
        assertTrue(cq >= 0.99999, "cosine " + cq);
        // Symmetric codes: no zero_points input (MatMulNBits' default zero point 8 is our offset).
        Path sym = tmp.resolve("w4s.tpk"), symOut = tmp.resolve("w4s-nbits.onnx");
        assertEquals(0, tamp("quantize", "minilm", "--method", "rtn", "--bits", "4", "--group", "32", "--no-asym", "-o", sym.toString()).code());
        export(sym, "nbits", symOut);
        double cs = minCosine(sym, symOut);
        System.out.println("export onnx nbits int4 g32 sym: min cosine vs tamp run = " + cs);
        assertTrue(cs >= 0.99999, "cosine " + cs);
    }

    @Test
    @org.junit.jupiter.api.Tag("slow")
    void mxfp4ExportsAsExactQdq() throws Exception {
        Path pack = tmp.resolve("mx.tpk"), out = tmp.resolve("mx.onnx");
        assertEquals(0, tamp("mx", "minilm", "--format", "mxfp4", "-o", pack.toString()).code());
        JsonNode rep = export(pack, "qdq", out);
        for (JsonNode t : rep.get("tensors")) {
            assertEquals("DequantizeLinear(int8, block 32)", t.get("exported_as").asText(), t.toString());
        }
        double c = minCosine(pack, out);
        System.out.println("export onnx qdq mxfp4: min cosine vs tamp run = " + c);
        assertTrue(c >= 0.99999, "cosine " + c);
    }

    @Test
    void smoothQuantW8A8ExportsItsPerTokenActivationQuantizationAndAgrees() throws Exception {
        Path pack = tmp.resolve("sq.tpk"), out = tmp.resolve("sq-qdq.onnx"), weightOnly = tmp.resolve("sq-fp32.onnx");
        CliTest.Run q = tamp("quantize", "minilm", "--method", "smoothquant", "--samples", "16", "-o", pack.toString());
        assertEquals(0, q.code(), q.err());
        JsonNode rep = export(pack, "qdq", out);
        int w8a8 = 0;
        for (JsonNode t : rep.get("tensors")) {
            if (t.get("exported_as").asText().endsWith("with int8 activations (dynamic per token)")) w8a8++;
        }
        assertEquals(37, w8a8, "every W8A8 weight carries its activation quantization: " + rep.get("tensors"));
        double[] withActs = cosines(pack, out);
        double c = java.util.Arrays.stream(withActs).min().orElseThrow();
        System.out.println("export onnx qdq W8A8 (SmoothQuant, per-token activations): min cosine vs tamp run = " + c);
        // Not ≥ 0.99999: rounding activations is discontinuous, so a last-bit difference in one summation (ORT's GEMM
        // vs tamp's int8 kernel) flips a rounding now and then, and each flip perturbs every later layer's roundings.
        // Measured through tamp's own executor the same export and the pack agree to float summation order up to the first such flip.
        // The worst sentence sits at the edge of 0.999 on this AVX-512 box (0.99901 and 0.99896 in two runs: ORT's
        // thread partitioning changes where a flip happens); the bound is for a broken export, not for one flip more.
        assertTrue(c >= 0.998, "cosine " + c);
        float[] fromPack = firstLayerOutput(pack), fromExport = firstLayerOutput(out);
        double d = 0, r = 0;
        for (int i = 0; i < fromPack.length; i++) {
            d += (fromPack[i] - fromExport[i]) * (double) (fromPack[i] - fromExport[i]);
            r += fromPack[i] * (double) fromPack[i];
        }
        // the pack's linears run as integer dot products in the native kernels, the export's as float products of the
        // dequantized operands: equal up to float summation order (1.3e-6 measured; bit-identical with the Java kernels)
        assertTrue(Math.sqrt(d / r) < 1e-5, "layer 0's output, pack vs export in tamp's executor: relative error " + Math.sqrt(d / r));
        // Control: the weight-only export (activations left in float) is measurably further from the W8A8 pack. Compared
        // by the mean cosine deficit over the texts: the minimum is one sentence's, and where ORT's GEMM flips a rounding
        // depends on which MLAS kernel this CPU gets (min 0.9990 vs 0.9987 on this AVX-512 EPYC, 0.9992 vs 0.9987 before; mean deficit 4.5e-4 vs 9.4e-4).
        export(pack, "fp32", weightOnly);
        double[] floatActs = cosines(pack, weightOnly);
        double gap = 1 - java.util.Arrays.stream(withActs).average().orElseThrow();
        double gapWeightOnly = 1 - java.util.Arrays.stream(floatActs).average().orElseThrow();
        System.out.printf("W8A8 export mean cosine deficit %.3g vs weight-only export %.3g (min %.5f)%n", gap, gapWeightOnly,
                java.util.Arrays.stream(floatActs).min().orElseThrow());
        assertTrue(gap < 0.75 * gapWeightOnly, "mean cosine deficit with activations " + gap + " vs weight-only " + gapWeightOnly);
    }

    /** Layer 0's output (after its last LayerNorm) for one sentence, by tamp's java executor. */
    static float[] firstLayerOutput(Path model) throws Exception {
        dev.tamp.core.ir.Model m = dev.tamp.formats.ModelLoader.load(model, Progress.NONE);
        long[] ids = {101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 102};
        int len = ids.length;
        Map<String, dev.tamp.runtime.value.Value> in = new HashMap<>();
        in.put("input_ids", dev.tamp.runtime.value.Value.longs(ids, 1, len));
        long[] ones = new long[len];
        java.util.Arrays.fill(ones, 1);
        in.put("attention_mask", dev.tamp.runtime.value.Value.longs(ones, 1, len));
        in.put("token_type_ids", dev.tamp.runtime.value.Value.longs(new long[len], 1, len));
        String name = "/encoder/layer.0/output/LayerNorm/Add_1_output_0";
        float[][] got = new float[1][];
        try (dev.tamp.runtime.exec.Session s = new JavaBackend().open(m)) {
            s.run(in, List.of(), (node, ins, o) -> {
                for (int i = 0; i < node.outputs().size() && i < o.length; i++) if (node.outputs().get(i).equals(name)) got[0] = o[i].floats.clone();
            });
        }
        assertNotNull(got[0], name + " computed");
        return got[0];
    }

    @Test
    void decoderWithoutAnOnnxGraphIsRefusedInOneLine() {
        Path out = tmp.resolve("stories.onnx");
        CliTest.Run r = tamp("export", "stories260k", "--to", "onnx", "-o", out.toString());
        assertEquals(3, r.code(), r.err());
        assertEquals(1, r.err().strip().split("\n").length, r.err());
        assertTrue(r.err().contains("ONNX export needs"), r.err());
        assertFalse(Files.exists(out));
    }
}
