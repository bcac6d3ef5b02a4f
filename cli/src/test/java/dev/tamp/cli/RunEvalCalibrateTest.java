package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.ir.GraphBuilder;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.DType;
import dev.tamp.formats.onnx.OnnxWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** run, calibrate and eval through the command line, on the bundled real models. */
class RunEvalCalibrateTest {
    @TempDir Path tmp;

    @Test
    void runEmbedsTextsAsUnitVectorsInInputOrder() throws Exception {
        CliTest.Run r = tamp("run", "minilm", "--text", "The cat sat on the mat.", "--text", "Stocks fell sharply today.", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode e = Json.parse(r.out()).get("embeddings");
        assertEquals(2, e.size());
        for (JsonNode row : e) {
            assertEquals(384, row.size());
            double n = 0;
            for (JsonNode v : row) n += v.asDouble() * v.asDouble();
            assertEquals(1.0, n, 1e-5);
        }
        // same text alone gives the same vector (batching and padding do not leak)
        JsonNode alone = Json.parse(tamp("run", "minilm", "--text", "Stocks fell sharply today.", "--json").out()).get("embeddings").get(0);
        for (int i = 0; i < 384; i++) assertEquals(e.get(1).get(i).asDouble(), alone.get(i).asDouble(), 1e-6);
    }

    @Test
    void runDecoderGreedyIsDeterministic() throws Exception {
        CliTest.Run a = tamp("run", "stories260k", "--max-new-tokens", "12", "--json");
        CliTest.Run b = tamp("run", "stories260k", "--max-new-tokens", "12", "--json");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out(), b.out());
        JsonNode t = Json.parse(a.out()).get("tokens").get(0);
        assertEquals(13, t.size());
        assertEquals(1, t.get(0).asInt());
    }

    @Test
    void calibrateWritesStatisticsAndEvalAgainstItselfIsPerfect() throws Exception {
        Path stats = tmp.resolve("stories.stats");
        CliTest.Run c = tamp("calibrate", "stories260k", "--samples", "4", "--seq-len", "16", "-o", stats.toString());
        assertEquals(0, c.code(), c.err());
        assertTrue(Files.size(stats) > 1000);
        CliTest.Run e = tamp("eval", "stories260k", "--reference", "stories260k", "--sequences", "2", "--seq-len", "16", "--json");
        assertEquals(0, e.code(), e.err());
        JsonNode m = Json.parse(e.out()).get("metrics");
        assertEquals(0.0, m.get("kl").asDouble(), 1e-9);
        assertEquals(1.0, m.get("top1_agreement").asDouble(), 0.0);
        assertTrue(m.get("perplexity").asDouble() > 1, m.toString());
    }

    @Test
    void evalEncoderRetrievalOnASmallSplit() throws Exception {
        CliTest.Run e = tamp("eval", "minilm", "--pairs", "100", "--json");
        assertEquals(0, e.code(), e.err());
        double r1 = Json.parse(e.out()).get("metrics").get("recall_at_1").asDouble();
        assertTrue(r1 > 0.9, "Recall@1 " + r1);
    }

    @Test
    void unsupportedOpExitsThreeNamingNodeAndOp() throws Exception {
        GraphBuilder g = new GraphBuilder("bad");
        String x = g.input("input_ids", DType.I64, ValueInfo.Dim.fixed(1), ValueInfo.Dim.fixed(2));
        g.node("weird_node", "NonMaxSuppression", Map.of(), List.of(x), List.of("y"));
        g.output("y", DType.F32, ValueInfo.Dim.fixed(1), ValueInfo.Dim.fixed(2), ValueInfo.Dim.fixed(4));
        Model m = new Model(ModelFormat.ONNX, "bad", "unknown", g.graph(), g.weights(), Map.of(), Map.of("", 17L), null, List.of());
        Path f = tmp.resolve("bad.onnx");
        OnnxWriter.write(m, f);
        Files.writeString(tmp.resolve("tokenizer.json"), new String(getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json").readAllBytes()));
        CliTest.Run r = tamp("run", f.toString(), "--text", "hi");
        assertEquals(3, r.code(), r.err());
        assertTrue(r.err().contains("weird_node") && r.err().contains("NonMaxSuppression"), r.err());
        assertFalse(r.err().contains("\tat "));
    }
}
