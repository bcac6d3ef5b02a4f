package dev.tamp.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.cli.bench.LlamaCheckpointGenerator;
import dev.tamp.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LLM path end to end on a Qwen2-style checkpoint (q/k/v biases, head tied to the embeddings, GQA): calibrate,
 * GPTQ and AWQ through the block-sequential pipeline, the output runs; and running out of memory is one line, exit 2.
 */
class LlmPipelineCliTest {
    @TempDir Path tmp;

    @Test
    void qwen2CheckpointGoesThroughTheBlockSequentialMethods() throws Exception {
        Path dir = tmp.resolve("qwen2");
        LlamaCheckpointGenerator.write(dir, new LlamaCheckpointGenerator.Shape(64, 160, 2, 4, 2, 96, true), 11);
        CliTest.Run inspect = CliTest.tamp("inspect", dir.toString(), "--json");
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("qwen2"), "reported as qwen2, not llama: " + inspect.out());

        Path stats = tmp.resolve("q.stats");
        CliTest.Run cal = CliTest.tamp("calibrate", dir.toString(), "--samples", "4", "--seq-len", "16", "-o", stats.toString());
        assertEquals(0, cal.code(), cal.err());
        assertTrue(Files.size(stats) > 0);
        try (var left = Files.list(tmp)) {
            assertEquals(0, left.filter(f -> f.getFileName().toString().endsWith(".tmp")).count(), "the stats scratch file is gone");
        }

        for (String method : new String[] {"gptq", "awq"}) {
            Path out = tmp.resolve(method + ".tpk");
            CliTest.Run q = CliTest.tamp("quantize", dir.toString(), "--method", method, "--group", "32", "--samples", "4", "--seq-len", "16",
                    "--json", "-o", out.toString());
            assertEquals(0, q.code(), method + ": " + q.err());
            JsonNode r = Json.parse(q.out());
            assertEquals(14, r.get("weights").asInt(), method + ": 7 linears in each of 2 blocks, the tied head left float");
            assertTrue(r.get("check").get("passed").asBoolean(), method + ": " + r.get("check"));
            CliTest.Run run = CliTest.tamp("run", out.toString(), "--tokens", "1,2,3", "--max-new-tokens", "4");
            assertEquals(0, run.code(), method + " pack runs: " + run.err());
        }
    }

    @Test
    void runningOutOfMemoryIsOneLineNamingTheSetting() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx40m",
                "-Dai.djl.offline=true", "-Dtamp.cache.dir=" + System.getProperty("tamp.cache.dir", tmp.resolve("cache").toString()),
                "-cp", System.getProperty("java.class.path"),
                "dev.tamp.cli.Tamp", "quantize", "minilm", "--method", "gptq", "--no-check", "-o", tmp.resolve("x.tpk").toString()));
        Path log = tmp.resolve("child.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "finished");
        String out = Files.readString(log);
        assertEquals(2, p.exitValue(), out);
        List<String> lines = out.lines().filter(l -> l.startsWith("tamp: ")).toList();
        assertEquals(1, lines.size(), out);
        assertTrue(lines.get(0).contains("out of memory") && lines.get(0).contains("--max-memory"), lines.get(0));
        assertFalse(out.contains("\tat "), "no stack trace: " + out);
        assertFalse(Files.exists(tmp.resolve("x.tpk")), "no output");
    }
}
