package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tamp quantize --method rtn end to end: report, reproducible pack, the quantized model runs close to FP32. */
class QuantizeCliTest {
    @TempDir Path tmp;

    @Test
    void rtnW8PerChannelAndW4GroupedOnMiniLm() throws Exception {
        Path w8 = tmp.resolve("w8.tpk"), w8b = tmp.resolve("w8b.tpk"), w4 = tmp.resolve("w4.tpk");
        CliTest.Run r = tamp("quantize", "minilm", "--method", "rtn", "--bits", "8", "-o", w8.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode rep = Json.parse(r.out());
        assertEquals(37, rep.get("layers").size());
        assertEquals("int8-sym-ch", rep.get("layers").get(0).get("encoding").asText());
        assertEquals(0, tamp("quantize", "minilm", "--method", "rtn", "--bits", "8", "-o", w8b.toString()).code());
        assertArrayEquals(Files.readAllBytes(w8), Files.readAllBytes(w8b));
        assertEquals(0, tamp("quantize", "minilm", "--method", "rtn", "--bits", "4", "--group", "128", "-o", w4.toString()).code());
        JsonNode e8 = Json.parse(tamp("eval", w8.toString(), "--reference", "minilm", "--pairs", "50", "--sentences", "32", "--json").out());
        JsonNode e4 = Json.parse(tamp("eval", w4.toString(), "--reference", "minilm", "--pairs", "50", "--sentences", "32", "--json").out());
        double c8 = e8.get("metrics").get("cosine_mean").asDouble(), c4 = e4.get("metrics").get("cosine_mean").asDouble();
        assertTrue(c8 > 0.999 && c4 > 0.9 && c8 > c4, "cosine W8 " + c8 + ", W4 " + c4);
    }

    @Test
    void smoothQuantW8a8OnMiniLmFromSavedStatistics() throws Exception {
        Path stats = tmp.resolve("minilm.stats"), out = tmp.resolve("w8a8.tpk");
        assertEquals(0, tamp("calibrate", "minilm", "--samples", "32", "--no-gram", "-o", stats.toString()).code());
        CliTest.Run r = tamp("quantize", "minilm", "--method", "smoothquant", "--stats", stats.toString(), "-o", out.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("int8a8-sym-ch", Json.parse(r.out()).get("layers").get(0).get("encoding").asText());
        assertTrue(Json.parse(r.out()).get("layers").get(0).get("detail").asText().startsWith("smooth explicit Mul α=0.50"),
                "reports how each group was smoothed: " + r.out());
        JsonNode e = Json.parse(tamp("eval", out.toString(), "--reference", "minilm", "--pairs", "50", "--sentences", "32", "--json").out());
        double c = e.get("metrics").get("cosine_mean").asDouble();
        assertTrue(c > 0.99, "W8A8 cosine " + c);
    }

    @Test
    void awqOnStories260kIsReproducibleAndReportsEachGroup() throws Exception {
        Path a = tmp.resolve("a.tpk"), b = tmp.resolve("b.tpk");
        CliTest.Run r = tamp("quantize", "stories260k", "--method", "awq", "--group", "32", "--samples", "8", "-o", a.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode layers = Json.parse(r.out()).get("layers");
        assertEquals(35, layers.size());
        assertEquals("int4-asym-g32", layers.get(0).get("encoding").asText());
        assertTrue(layers.get(0).get("detail").asText().contains("folded into model.layers.0.input_layernorm"), layers.get(0).toString());
        assertEquals(0, tamp("quantize", "stories260k", "--method", "awq", "--group", "32", "--samples", "8", "-o", b.toString()).code());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "identical inputs give identical bytes");
        CliTest.Run prop = tamp("quantize", "stories260k", "--method", "awq", "--propagate", "sideways", "-o", tmp.resolve("p.tpk").toString());
        assertEquals(2, prop.code(), prop.err());
        assertTrue(prop.err().contains("--propagate"), prop.err());
    }

    @Test
    void badFlags() {
        CliTest.Run alpha = tamp("quantize", "minilm", "--method", "smoothquant", "--alpha", "1.5", "--samples", "4", "-o", tmp.resolve("c.tpk").toString());
        assertEquals(2, alpha.code(), alpha.err());
        CliTest.Run bits = tamp("quantize", "minilm", "--method", "rtn", "--bits", "3", "-o", tmp.resolve("b.tpk").toString());
        assertEquals(2, bits.code());
        assertTrue(bits.err().contains("--bits"), bits.err());
    }
}
