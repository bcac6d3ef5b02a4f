package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tamp mx, mx-slice and run --as on the bundled stories260K and MiniLM. */
class MxCliTest {
    @TempDir Path tmp;

    @Test
    void anchorSliceAndLoadTimeConversionAgree() throws Exception {
        Path anchor = tmp.resolve("anchor.tpk"), sliced = tmp.resolve("mxint4.tpk"), again = tmp.resolve("again.tpk");
        CliTest.Run a = tamp("mx", "minilm", "--format", "mxint8", "-o", anchor.toString(), "--json");
        assertEquals(0, a.code(), a.err());
        JsonNode report = Json.parse(a.out());
        assertEquals(37, report.get("weights").asInt());
        assertEquals(8.25, report.get("bits_per_weight").asDouble(), 1e-9, "8-bit codes + one E8M0 byte per 32");
        assertEquals(0, tamp("mx-slice", anchor.toString(), "--to", "mxint4", "-o", sliced.toString()).code());
        assertEquals(0, tamp("mx-slice", anchor.toString(), "--to", "mxint4", "-o", again.toString()).code());
        assertArrayEquals(Files.readAllBytes(sliced), Files.readAllBytes(again), "slicing is deterministic");
        String text = "The quick brown fox jumps over the lazy dog.";
        JsonNode offline = Json.parse(tamp("run", sliced.toString(), "--text", text, "--json").out()).get("embeddings").get(0);
        JsonNode onTheFly = Json.parse(tamp("run", anchor.toString(), "--as", "mxint4", "--text", text, "--json").out()).get("embeddings").get(0);
        for (int i = 0; i < offline.size(); i++) assertEquals(offline.get(i).asDouble(), onTheFly.get(i).asDouble(), 0.0);
        JsonNode inspect = Json.parse(tamp("inspect", sliced.toString(), "--json").out());
        assertTrue(inspect.get("bytes_by_dtype").has("mxint4<mxint8"), inspect.get("bytes_by_dtype").toString());
    }

    @Test
    void badFormatAndNonAnchorAreUsageErrors() throws Exception {
        CliTest.Run bad = tamp("mx", "stories260k", "--format", "mxfp5", "-o", tmp.resolve("x.tpk").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("mxfp5"), bad.err());
        Path fp4 = tmp.resolve("fp4.tpk");
        assertEquals(0, tamp("mx", "stories260k", "--format", "mxfp4", "-o", fp4.toString()).code());
        CliTest.Run notAnchor = tamp("mx-slice", fp4.toString(), "--to", "mxint4", "-o", tmp.resolve("y.tpk").toString());
        assertEquals(2, notAnchor.code(), notAnchor.err());
        assertTrue(notAnchor.err().contains("anchor"), notAnchor.err());
        assertFalse(Files.exists(tmp.resolve("y.tpk")), "no partial output");
    }
}
