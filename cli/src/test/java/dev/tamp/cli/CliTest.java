package dev.tamp.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The command line as users and CI see it: exit codes, stdout JSON, one-line errors on stderr. */
class CliTest {
    @TempDir static Path tmp;

    public record Run(int code, String out, String err) {}

    public static Run tamp(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CommandLine cl = Tamp.commandLine();
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        int code = cl.execute(args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    static void cacheInTemp() {
        System.setProperty("ai.djl.offline", "true");
        if (System.getProperty("tamp.cache.dir") == null) System.setProperty("tamp.cache.dir", tmp.resolve("cache").toString());
    }

    /** A bad-input run: exit 2 or 3, one line on stderr naming the file, no stack trace. */
    static void assertOneLineError(Run r, Path file, String... fragments) {
        assertTrue(r.code() == 2 || r.code() == 3, "exit " + r.code() + " stderr: " + r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line expected, got: " + r.err());
        assertTrue(lines[0].contains(file.getFileName().toString()), "names the file: " + lines[0]);
        for (String f : fragments) assertTrue(lines[0].toLowerCase().contains(f.toLowerCase()), "mentions '" + f + "': " + lines[0]);
        assertFalse(r.err().contains("\tat "), "no stack trace");
    }

    @Test
    void inspectMiniLmJsonHasTheContractFields() throws IOException {
        Run r = tamp("inspect", "minilm", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = Json.parse(r.out());
        assertEquals("onnx", j.get("format").asText());
        assertEquals("bert", j.get("architecture").asText());
        long params = j.get("parameters").asLong();
        assertEquals(22.7e6, params, 0.1e6, "MiniLM parameters " + params);
        assertTrue(j.get("ops").get("MatMul").asInt() > 0);
        assertTrue(j.get("tensors").size() > 50);
    }

    @Test
    void inspectBgeAndStories() throws IOException {
        Run bge = tamp("inspect", "bge", "--json");
        assertEquals(0, bge.code(), bge.err());
        // 33.36M in the HF model card minus the pooler this ONNX export lacks (see OnnxReaderTest)
        assertEquals(33_212_160, Json.parse(bge.out()).get("parameters").asLong());
        Run st = tamp("inspect", "stories260k", "--json");
        assertEquals(0, st.code(), st.err());
        JsonNode cfg = Json.parse(st.out()).get("config");
        assertEquals(5, cfg.get("num_hidden_layers").asInt());
        assertEquals(64, cfg.get("hidden_size").asInt());
        Run text = tamp("inspect", "stories260k");
        assertEquals(0, text.code());
        assertTrue(text.out().contains("num_hidden_layers=5") && text.out().contains("hidden_size=64"), text.out());
    }

    @Test
    void convertIsReproducibleAndReadable() throws IOException {
        Path a = tmp.resolve("a.tpk"), b = tmp.resolve("b.tpk");
        assertEquals(0, tamp("convert", "stories260k", "-o", a.toString()).code());
        assertEquals(0, tamp("convert", "stories260k", "-o", b.toString()).code());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        Run r = tamp("inspect", a.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = Json.parse(r.out());
        assertEquals("tpk", j.get("format").asText());
        assertEquals("llama", j.get("architecture").asText());
        assertEquals("source", j.get("provenance").get(0).get("step").asText());
        assertEquals("convert", j.get("provenance").get(1).get("step").asText());
    }

    @Test
    void truncatedOnnx() throws IOException {
        Path f = tmp.resolve("truncated.onnx");
        try (InputStream in = CliTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.write(f, in.readNBytes(1 << 20));
        }
        assertOneLineError(tamp("inspect", f.toString()), f);
    }

    @Test
    void safetensorsHeaderLyingAboutOffsets() throws IOException {
        Path f = tmp.resolve("lying.safetensors");
        byte[] header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1000,1000],\"data_offsets\":[0,4000000]}}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Files.write(f, b.array());
        assertOneLineError(tamp("inspect", f.toString()), f);
    }

    @Test
    void pickleNamingOsSystemIsRefused() throws IOException {
        Path f = tmp.resolve("evil.pt");
        try (InputStream in = CliTest.class.getResourceAsStream("/pytorch/evil.pt")) {
            assertNotNull(in, "fixture /pytorch/evil.pt");
            Files.write(f, in.readAllBytes());
        }
        Run r = tamp("inspect", f.toString());
        assertOneLineError(r, f, "os.system");
    }

    @Test
    void emptyFile() throws IOException {
        Path f = tmp.resolve("empty.onnx");
        Files.write(f, new byte[0]);
        assertOneLineError(tamp("inspect", f.toString()), f, "empty");
    }

    @Test
    void directoryWithoutConfigJson() throws IOException {
        Path d = Files.createDirectories(tmp.resolve("noconfig"));
        Files.write(d.resolve("model.safetensors"), new byte[] {1, 2, 3});
        assertOneLineError(tamp("inspect", d.toString()), d, "config.json");
    }

    @Test
    void tpkWithOneFlippedByte() throws IOException {
        Path good = tmp.resolve("good.tpk");
        assertEquals(0, tamp("convert", "stories260k", "-o", good.toString()).code());
        byte[] bytes = Files.readAllBytes(good);
        for (int at : new int[] {50, bytes.length / 2, bytes.length - 100}) {
            byte[] bad = Arrays.copyOf(bytes, bytes.length);
            bad[at] ^= 0x10;
            Path f = tmp.resolve("flipped-" + at + ".tpk");
            Files.write(f, bad);
            assertOneLineError(tamp("inspect", f.toString()), f);
        }
    }

    @Test
    void missingFileAndBadFlag() {
        Path f = tmp.resolve("nope.onnx");
        assertOneLineError(tamp("inspect", f.toString()), f, "no such file");
        Run r = tamp("inspect", "minilm", "--no-such-flag");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--no-such-flag"), r.err());
        // a bad value of a mixin's validating setter is a usage error of its own words, not picocli's "Could not invoke"
        Run acts = tamp("run", "minilm", "--text", "hi", "--kernel-activations", "bogus");
        assertEquals(2, acts.code());
        assertTrue(acts.err().startsWith("tamp: --kernel-activations must be auto, float or int8, not bogus"), acts.err());
        assertFalse(acts.err().contains("Could not invoke"), acts.err());
    }

    @Test
    void versionAndHelp() {
        Run v = tamp("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("tamp "), v.out());
        Run h = tamp("inspect", "--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("Examples"), h.out());
    }
}
