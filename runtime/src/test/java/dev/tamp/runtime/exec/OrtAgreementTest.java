package dev.tamp.runtime.exec;

import static org.junit.jupiter.api.Assertions.*;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.tamp.core.ir.Model;
import dev.tamp.core.tensor.DType;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.value.Value;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** ONNX Runtime is the oracle: our executor must reproduce its hidden states on the real models. */
class OrtAgreementTest {
    record Batch(long[][] ids, long[][] mask) {}

    /** 64 real sentences of the held-out corpus, tokenized by the model's tokenizer and padded to the longest. */
    static Batch sentences(String tokenizerResource, int count) throws Exception {
        var tok = dev.tamp.runtime.tokenizer.Tokenizers.fromJson(OrtAgreementTest.class.getResourceAsStream(tokenizerResource).readAllBytes());
        var texts = dev.tamp.runtime.data.CalibrationSampler.sample(dev.tamp.runtime.data.TextCorpus.bundled(
                dev.tamp.runtime.data.TextCorpus.Split.HELD_OUT), dev.tamp.runtime.data.CalibrationSampler.Mode.SENTENCE, count, 21, 0);
        var enc = tok.encodeBatch(texts, 128);
        int len = enc.get(0).length();
        long[][] ids = new long[count][len], mask = new long[count][len];
        for (int i = 0; i < count; i++) for (int t = 0; t < len; t++) {
            ids[i][t] = enc.get(i).ids()[t];
            mask[i][t] = enc.get(i).attentionMask()[t];
        }
        return new Batch(ids, mask);
    }

    /** Deterministic id sequences: [CLS] random vocabulary ids [SEP], varied lengths, padded. */
    static Batch batch(int b, int maxLen, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        long[][] ids = new long[b][maxLen], mask = new long[b][maxLen];
        for (int i = 0; i < b; i++) {
            int len = 4 + r.nextInt(maxLen - 4 + 1);
            ids[i][0] = 101;
            for (int t = 1; t < len - 1; t++) ids[i][t] = 1000 + r.nextInt(29000);
            ids[i][len - 1] = 102;
            for (int t = 0; t < len; t++) mask[i][t] = 1;
        }
        return new Batch(ids, mask);
    }

    static float[][][] ort(Path model, Batch b) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(2);
            try (OrtSession s = env.createSession(model.toString(), o);
                 OnnxTensor ids = OnnxTensor.createTensor(env, b.ids());
                 OnnxTensor mask = OnnxTensor.createTensor(env, b.mask());
                 OnnxTensor types = OnnxTensor.createTensor(env, new long[b.ids().length][b.ids()[0].length])) {
                Map<String, OnnxTensor> in = new HashMap<>();
                in.put("input_ids", ids);
                in.put("attention_mask", mask);
                in.put("token_type_ids", types);
                try (OrtSession.Result res = s.run(in)) {
                    return (float[][][]) res.get(0).getValue();
                }
            }
        }
    }

    static Map<String, Value> inputs(Batch b) {
        int n = b.ids().length, len = b.ids()[0].length;
        long[] ids = new long[n * len], mask = new long[n * len];
        for (int i = 0; i < n; i++) {
            System.arraycopy(b.ids()[i], 0, ids, i * len, len);
            System.arraycopy(b.mask()[i], 0, mask, i * len, len);
        }
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(ids, n, len));
        in.put("attention_mask", Value.longs(mask, n, len));
        in.put("token_type_ids", Value.longs(new long[n * len], n, len));
        return in;
    }

    void agree(Model model, Path path, Batch b) throws Exception {
        int n = b.ids().length, len = b.ids()[0].length;
        float[][][] want = ort(path, b);
        for (Backend backend : new Backend[] {new JavaBackend(), new dev.tamp.runtime.torch.TorchBackend("cpu")}) {
            agree(model, path, b, want, backend, n, len);
        }
    }

    void agree(Model model, Path path, Batch b, float[][][] want, Backend backend, int n, int len) {
        try (Session s = backend.open(model)) {
            String out = model.graph().outputs().get(0).name();
            Value got = s.run(inputs(b), java.util.List.of(out), ExecutionListener.NONE).get(out);
            assertEquals(DType.F32, got.dtype);
            int d = got.shape[2];
            double maxDiff = 0, minCos = 1, maxAbs = 0, maxDiffReal = 0;
            for (int i = 0; i < n; i++) {
                double[] pa = new double[d], pb = new double[d];
                int count = 0;
                for (int t = 0; t < len; t++) {
                    for (int k = 0; k < d; k++) {
                        float g = got.floats[(i * len + t) * d + k];
                        maxDiff = Math.max(maxDiff, Math.abs(g - want[i][t][k]));
                        maxAbs = Math.max(maxAbs, Math.abs(want[i][t][k]));
                        if (b.mask()[i][t] == 1) maxDiffReal = Math.max(maxDiffReal, Math.abs(g - want[i][t][k]));
                        if (b.mask()[i][t] == 1) {
                            pa[k] += g;
                            pb[k] += want[i][t][k];
                        }
                    }
                    count += (int) b.mask()[i][t];
                }
                double dot = 0, na = 0, nb = 0;
                for (int k = 0; k < d; k++) {
                    dot += pa[k] * pb[k];
                    na += pa[k] * pa[k];
                    nb += pb[k] * pb[k];
                }
                minCos = Math.min(minCos, dot / Math.sqrt(na * nb));
                assertTrue(count > 0);
            }
            System.err.printf(backend.name() + " %s: max |Δ| %.3g (real tokens %.3g, max |x| %.3g), min pooled cosine %.8f%n", path.getFileName(), maxDiff, maxDiffReal, maxAbs, minCos);
            // Padding positions are excluded: their states are never used (pooling masks them) and BGE's padding
            // rows amplify float rounding differences (2.5e-4 seen there, 3e-6 on real tokens).
            assertTrue(maxDiffReal <= 1e-4, "max |Δ| on real tokens " + maxDiffReal);
            assertTrue(minCos >= 0.99999, "min cosine " + minCos);
        }
    }

    @Test
    void miniLmMatchesOnnxRuntime() throws Exception {
        agree(RuntimeTestModels.miniLm(), RuntimeTestModels.miniLmPath(), sentences("/all-minilm-l6-v2-tokenizer.json", 64));
        agree(RuntimeTestModels.miniLm(), RuntimeTestModels.miniLmPath(), batch(8, 48, 17));
    }

    @Test
    void bgeMatchesOnnxRuntime() throws Exception {
        agree(RuntimeTestModels.bge(), RuntimeTestModels.bgePath(), sentences("/bge-small-en-v1.5-tokenizer.json", 64));
    }
}
