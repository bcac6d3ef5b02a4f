package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tamp compot end to end on MiniLM: report and budget, reproducible pack, bad flags, composition with RTN. */
class CompotCliTest {
    @TempDir Path tmp;

    @Test
    void compotOnMiniLmMeetsItsBudgetRunsAndComposesWithQuantization() throws Exception {
        Path stats = tmp.resolve("m.stats"), a = tmp.resolve("a.tpk"), b = tmp.resolve("b.tpk"), q = tmp.resolve("q.tpk");
        assertEquals(0, tamp("calibrate", "minilm", "--samples", "16", "-o", stats.toString()).code());
        CliTest.Run r = tamp("compot", "minilm", "--stats", stats.toString(), "--ratio", "0.8", "--iterations", "5", "--ignore", "*pooler*",
                "--json", "-o", a.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode rep = Json.parse(r.out()), layers = rep.get("layers");
        assertEquals(36, layers.size(), "every encoder linear, the pooler ignored");
        int factorised = 0;
        for (JsonNode l : layers) {
            String enc = l.get("encoding").asText();
            assertTrue(enc.startsWith("dict(k=") || enc.equals("float32"), "COMPOT or kept dense by the global allocation: " + l);
            if (enc.startsWith("dict(k=")) factorised++;
        }
        assertTrue(factorised >= 24, "only " + factorised + " of 36 layers factorised");
        double ratio = rep.get("bytes_after").asDouble() / rep.get("bytes_before").asDouble();
        assertTrue(ratio <= 0.8 && ratio > 0.79, "stored/dense bytes " + ratio);
        assertEquals(0, tamp("compot", "minilm", "--stats", stats.toString(), "--ratio", "0.8", "--iterations", "5", "--ignore", "*pooler*",
                "-o", b.toString()).code());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "identical inputs give identical bytes");

        JsonNode e = Json.parse(tamp("eval", a.toString(), "--reference", "minilm", "--pairs", "50", "--sentences", "32", "--json").out());
        double c = e.get("metrics").get("cosine_mean").asDouble();
        assertTrue(c > 0.8 && c < 0.9999, "COMPOT at 0.8 cosine " + c);

        // RTN-W8 on the factors: the dictionary becomes INT8, the result stays close to the FP32-factor model
        CliTest.Run rq = tamp("quantize", a.toString(), "--method", "rtn", "--bits", "8", "--json", "-o", q.toString());
        assertEquals(0, rq.code(), rq.err());
        assertTrue(Json.parse(rq.out()).get("layers").get(0).get("encoding").asText().contains("int8"), rq.out());
        JsonNode eq = Json.parse(tamp("eval", q.toString(), "--reference", a.toString(), "--pairs", "50", "--sentences", "32", "--json").out());
        assertTrue(eq.get("metrics").get("cosine_mean").asDouble() > 0.995, "W8 factors vs FP32 factors: " + eq);
    }

    @Test
    void badFlagsExitTwo() {
        for (String[] args : new String[][] {
            {"compot", "minilm", "--ratio", "1.5", "-o", tmp.resolve("x.tpk").toString()},
            {"compot", "minilm", "--ratio", "0.5", "--method", "pca", "-o", tmp.resolve("x.tpk").toString()},
            {"compot", "minilm", "--ratio", "0.5", "--allocation", "random", "-o", tmp.resolve("x.tpk").toString()}}) {
            CliTest.Run r = tamp(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one-line error: " + r.err());
        }
        assertFalse(Files.exists(tmp.resolve("x.tpk")));
    }
}
