package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tamp prune end to end: report fields, reproducible pack, the pruned pack evaluates, bad flags exit 2. */
class PruneCliTest {
    @TempDir Path tmp;

    @Test
    void sparseGptBlockZeroWithInt8ValuesIsReproducible() throws Exception {
        Path a = tmp.resolve("a.tpk"), b = tmp.resolve("b.tpk");
        String[] args = {"prune", "minilm", "--method", "sparsegpt", "--weights", "int8", "--samples", "4", "--ignore", "/layer\\.[1-5]/"};
        CliTest.Run r = tamp(concat(args, "-o", a.toString(), "--json"));
        assertEquals(0, r.code(), r.err());
        JsonNode rep = Json.parse(r.out());
        assertEquals("sparsegpt", rep.get("method").asText());
        assertEquals("2:4", rep.get("pattern").asText());
        assertEquals("compressed", rep.get("propagate").asText());
        assertEquals(6, rep.get("weights").asInt(), "only block 0 is left after --ignore (and the pooler by default)");
        for (JsonNode l : rep.get("layers")) {
            assertEquals("2:4(int8-sym-ch)", l.get("encoding").asText());
            assertEquals("sparsegpt", l.get("method").asText());
            assertTrue(l.get("layer").asText().contains("layer.0"), l.toString());
            double e = l.get("output_error").asDouble();
            assertTrue(e > 0 && e < 1, "output error " + e);
        }
        CliTest.Run table = tamp(concat(args, "-o", b.toString()));
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains("mean output error"), table.out());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "identical inputs give identical bytes");
    }

    @Test
    void badFlagsExitTwoBeforeWriting() {
        for (String[] bad : new String[][] {{"--pattern", "4:2"}, {"--pattern", "two:four"}, {"--weights", "int3"}, {"--block-size", "6"},
                {"--propagate", "sideways"}, {"--group", "6", "--weights", "int4"}}) {
            CliTest.Run r = tamp(concat(new String[] {"prune", "minilm", "--method", "sparsegpt", "-o", tmp.resolve("bad.tpk").toString()}, bad));
            assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
            assertTrue(r.err().contains(bad[0]), r.err());
            assertFalse(Files.exists(tmp.resolve("bad.tpk")));
        }
    }

    @Test
    @Tag("slow")
    void magnitudeOnAllOfMiniLmEvaluates() throws Exception {
        Path a = tmp.resolve("m.tpk");
        CliTest.Run r = tamp("prune", "minilm", "--method", "magnitude", "--samples", "4", "-o", a.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode rep = Json.parse(r.out());
        assertEquals(36, rep.get("weights").asInt(), "pooler ignored by default");
        assertEquals("2:4(float32)", rep.get("layers").get(0).get("encoding").asText());
        assertEquals(17.0, rep.get("bits_per_weight").asDouble(), 1e-9, "16 bits of f32 value + 1 bit of index per dense weight");
        JsonNode ev = Json.parse(tamp("eval", a.toString(), "--reference", "minilm", "--pairs", "50", "--sentences", "32", "--json").out());
        double c = ev.get("metrics").get("cosine_mean").asDouble();
        System.err.printf("MiniLM 2:4 magnitude (CLI): mean cosine to FP32 %.4f%n", c);
        assertTrue(c > 0.3 && c < 0.9999, "2:4 magnitude cosine " + c);
    }

    static String[] concat(String[] a, String... b) {
        String[] o = new String[a.length + b.length];
        System.arraycopy(a, 0, o, 0, a.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }
}
