package dev.tamp.formats.gguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * llama.cpp itself, as the test suite's second opinion on GGUF files: the prebuilt CPU libraries of the npm package
 * {@code @node-llama-cpp/linux-x64} driven by {@code scripts/llamacpp/oracle.c}, installed (once, cached under
 * ~/.cache/tamp) by {@code scripts/llamacpp/install.sh}.
 *
 * <p>Where it cannot be installed (no npm, gcc or registry) the tests that need it are skipped with the reason
 * printed on stderr — unless {@code TAMP_REQUIRE_LLAMACPP=1} (CI sets it), where that is a failure.
 */
public final class LlamaCppOracle {
    private static Path binary;
    private static String unavailable;

    private final Path oracle;

    private LlamaCppOracle(Path oracle) {
        this.oracle = oracle;
    }

    /** The oracle, or the calling test is skipped (failed under TAMP_REQUIRE_LLAMACPP=1) saying why. */
    public static synchronized LlamaCppOracle require() {
        if (binary == null && unavailable == null) install();
        if (unavailable != null) {
            String why = "llama.cpp oracle unavailable: " + unavailable;
            if ("1".equals(System.getenv("TAMP_REQUIRE_LLAMACPP"))) throw new AssertionError(why + " (TAMP_REQUIRE_LLAMACPP=1)");
            System.err.println("SKIPPED " + why);
            Assumptions.abort(why);
        }
        return new LlamaCppOracle(binary);
    }

    private static void install() {
        Path script = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("scripts/llamacpp/install.sh"))) {
                script = p.resolve("scripts/llamacpp/install.sh");
                break;
            }
        }
        if (script == null) {
            unavailable = "scripts/llamacpp/install.sh not found above " + Path.of("").toAbsolutePath();
            return;
        }
        Run r = exec(List.of("bash", script.toString()), 600);
        if (r.code != 0) unavailable = "install.sh exit " + r.code + ": " + lastLine(r.err);
        else binary = Path.of(lastLine(r.out));
    }

    /** Next-token logits at every position of {@code tokens}, [tokens][vocab], as llama.cpp computes them. */
    public float[][] logits(Path gguf, long[] tokens) {
        Path out = temp();
        List<String> cmd = new ArrayList<>(List.of(oracle.toString(), "logits", gguf.toString(), out.toString()));
        for (long t : tokens) cmd.add(Long.toString(t));
        float[] flat = readFloats(check(exec(cmd, 300), cmd), out);
        int vocab = flat.length / tokens.length;
        float[][] rows = new float[tokens.length][vocab];
        for (int i = 0; i < tokens.length; i++) System.arraycopy(flat, i * vocab, rows[i], 0, vocab);
        return rows;
    }

    /** One tensor of {@code gguf} decoded by ggml's own {@code to_float} for its type. */
    public float[] dequantize(Path gguf, String tensor) {
        Path out = temp();
        List<String> cmd = List.of(oracle.toString(), "dequant", gguf.toString(), out.toString(), tensor);
        return readFloats(check(exec(cmd, 120), cmd), out);
    }

    /** {@code llama_model_quantize} of {@code in} to {@code ftype} (llama.h's llama_ftype number); pure: every matrix that type. */
    public void quantize(Path in, Path out, int ftype, boolean pure) {
        List<String> cmd = new ArrayList<>(List.of(oracle.toString(), "quantize", in.toString(), out.toString(), Integer.toString(ftype)));
        if (pure) cmd.add("pure");
        check(exec(cmd, 300), cmd);
    }

    private static Path temp() {
        try {
            Path p = Files.createTempFile("tamp-oracle", ".f32");
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] readFloats(Run r, Path file) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
            Files.deleteIfExists(file);
            float[] v = new float[b.remaining() / 4];
            b.asFloatBuffer().get(v);
            return v;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Run(int code, String out, String err) {}

    private static Run check(Run r, List<String> cmd) {
        if (r.code != 0) throw new AssertionError("llama.cpp oracle failed (exit " + r.code + "): " + String.join(" ", cmd) + "\n" + r.err);
        return r;
    }

    private static Run exec(List<String> cmd, int timeoutSeconds) {
        try {
            Path out = Files.createTempFile("tamp-oracle", ".out"), err = Files.createTempFile("tamp-oracle", ".err");
            try {
                Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Run(124, "", "timed out after " + timeoutSeconds + " s");
                }
                return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            return new Run(127, "", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Run(130, "", "interrupted");
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1].strip();
    }
}
