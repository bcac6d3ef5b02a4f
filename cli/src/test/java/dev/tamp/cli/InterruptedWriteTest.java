package dev.tamp.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A conversion killed while it writes its output leaves no output file: SIGTERM (Ctrl-C, a CI timeout) leaves
 * nothing at all, SIGKILL at most a hidden temporary file. Runs tamp in a child JVM and kills it the moment its
 * temporary output appears.
 */
class InterruptedWriteTest {
    @TempDir static Path cache;
    @TempDir Path out;

    @BeforeAll
    static void extractBundledModelOnce() {
        // the child JVMs then spend their time writing, not extracting
        System.setProperty("tamp.cache.dir", cache.toString());
        CliTest.Run r = CliTest.tamp("inspect", "bge");
        assertEquals(0, r.code(), r.err());
    }

    private Process start(Path target) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xmx2g",
                "-Dai.djl.offline=true", "-Dtamp.cache.dir=" + cache, "-cp", System.getProperty("java.class.path"),
                "dev.tamp.cli.Tamp", "convert", "bge", "-o", target.toString()));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.resolve("child.log").toFile()).start();
    }

    /** Waits until the child has a temporary output in {@code out}; false when it finished first. */
    private boolean awaitTemporaryOutput(Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!temporaries().isEmpty()) return true;
            if (!p.isAlive()) return false;
            Thread.sleep(1);
        }
        fail("no temporary output within 120 s");
        return false;
    }

    private List<Path> temporaries() throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    @Test
    void sigtermDuringTheWriteLeavesNothing() throws Exception {
        Path target = out.resolve("bge.tpk");
        Process p = start(target);
        assertTrue(awaitTemporaryOutput(p), "the child finished before it could be interrupted: " + Files.readString(out.resolve("child.log")));
        p.destroy(); // SIGTERM: shutdown hooks run
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertNotEquals(0, p.exitValue());
        assertFalse(Files.exists(target), "no output after an interrupted write");
        assertEquals(List.of(), temporaries(), "the unfinished temporary file was removed");
    }

    @Test
    void sigkillDuringTheWriteLeavesNoOutputAndAnEarlierOutputIntact() throws Exception {
        Path target = out.resolve("bge.tpk");
        Files.writeString(target, "an earlier output");
        Process p = start(target);
        assertTrue(awaitTemporaryOutput(p), "the child finished before it could be interrupted: " + Files.readString(out.resolve("child.log")));
        p.destroyForcibly(); // SIGKILL: nothing runs
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("an earlier output", Files.readString(target), "the earlier output is untouched");
        for (Path t : temporaries()) {
            assertTrue(t.getFileName().toString().startsWith(".bge.tpk."), "only a hidden temporary file may remain: " + t);
        }
    }
}
