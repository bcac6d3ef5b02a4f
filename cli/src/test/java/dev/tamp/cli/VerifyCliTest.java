package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TpkModelWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tamp verify gates CI: a good W8 pack passes its thresholds, the same pack with one layer's scales zeroed fails. */
class VerifyCliTest {
    @TempDir Path tmp;

    @Test
    void goodPackPassesDamagedPackFailsWithExitOne() throws Exception {
        Path good = tmp.resolve("w8.tpk"), bad = tmp.resolve("w8-damaged.tpk");
        assertEquals(0, tamp("quantize", "minilm", "--method", "rtn", "--bits", "8", "-o", good.toString()).code());
        CliTest.Run ok = tamp("verify", good.toString(), "--reference", "minilm", "--sentences", "32", "--pairs", "100",
                "--min-cosine", "0.995", "--min-recall", "0.9", "--backend", "java,torch", "--json");
        assertEquals(0, ok.code(), ok.err());
        JsonNode rep = Json.parse(ok.out());
        assertTrue(rep.get("passed").asBoolean());
        assertEquals(2, rep.get("backends").size());
        assertTrue(rep.get("backends").has("java") && rep.get("backends").has("torch"), rep.toString());
        assertEquals(rep.get("backends").get("java"), rep.get("metrics"), "metrics are the first backend's");
        for (JsonNode b : rep.get("backends")) {
            for (String f : new String[] {"cosine_mean", "cosine_min", "recall_at_1", "ms_per_sentence", "peak_rss_mb"}) {
                assertTrue(b.has(f), "missing " + f + " in " + b);
            }
            assertTrue(b.get("cosine_mean").asDouble() > 0.995, b.toString());
        }
        double diff = rep.get("backend_max_abs_diff").asDouble();
        assertTrue(diff < 1e-4, "java and torch disagree on the same pack by " + diff);
        assertEquals(0.995, rep.get("thresholds").get("min_cosine").asDouble());

        // zero every scale of layer 0's FFN down-projection: its output (before the bias) is all zeros
        Model m = ModelLoader.load(good, Progress.NONE);
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(m.weights());
        String victim = m.graph().nodes().stream().filter(n -> "/encoder/layer.0/output/dense/MatMul".equals(n.name()))
                .findFirst().orElseThrow().inputs().get(1);
        IntGroupedWeight w = (IntGroupedWeight) weights.get(victim);
        Tensor zeros = Tensor.ofFloats(new float[(int) w.scales().numel()], w.scales().shape());
        weights.put(victim, new IntGroupedWeight(w.shape(), w.kAxis(), w.bits(), w.symmetric(), w.groupSize(), w.codes(), zeros, w.zeroPoints(),
                w.inputScale(), w.activationBits(), w.activationScale(), w.layout()));
        TpkModelWriter.write(m.withWeights(weights), bad);
        CliTest.Run fail = tamp("verify", bad.toString(), "--reference", "minilm", "--sentences", "32", "--pairs", "100",
                "--min-cosine", "0.995", "--layers", "--json");
        assertEquals(1, fail.code(), fail.out() + fail.err());
        JsonNode frep = Json.parse(fail.out());
        assertFalse(frep.get("passed").asBoolean());
        assertTrue(frep.get("failures").get(0).asText().startsWith("mean cosine"), frep.toString());
        // --layers points at the damaged layer: its product is all zeros, so its output is the bias alone (error ≈ 1);
        // the layers before it are fine
        JsonNode layers = frep.get("layers");
        assertEquals(36 + 1, layers.size(), "every linear layer incl. the pooler: " + layers);
        assertEquals(1.0, layers.get("/encoder/layer.0/output/dense/MatMul").asDouble(), 0.01);
        assertTrue(layers.get("/encoder/layer.0/attention/self/query/MatMul").asDouble() < 0.02, layers.toString());
        assertTrue(layers.get("/encoder/layer.0/intermediate/dense/MatMul").asDouble() < 0.05, layers.toString());
        assertEquals(1, fail.err().strip().lines().filter(l -> l.contains("mean cosine")).count(), "one-line error: " + fail.err());

        CliTest.Run wrong = tamp("verify", good.toString(), "--reference", "minilm", "--max-kl", "0.1");
        assertEquals(2, wrong.code(), "decoder thresholds on an encoder: " + wrong.err());
    }
}
