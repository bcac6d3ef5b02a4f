package dev.tamp.formats;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The real models on the test class path, extracted once per JVM to a temporary directory. */
public final class TestModels {
    private static Path dir;

    private TestModels() {}

    public static synchronized Path extract(String resource, String fileName) {
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("tamp-test-models");
                dir.toFile().deleteOnExit();
            }
            Path sub = Files.createDirectories(dir.resolve(fileName + ".d"));
            Path out = sub.resolve(fileName);
            if (!Files.exists(out)) {
                try (InputStream in = TestModels.class.getResourceAsStream(resource)) {
                    if (in == null) throw new IllegalStateException("missing test resource " + resource);
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
                out.toFile().deleteOnExit();
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path miniLm() { return extract("/all-minilm-l6-v2.onnx", "all-minilm-l6-v2.onnx"); }

    public static Path bge() { return extract("/bge-small-en-v1.5.onnx", "bge-small-en-v1.5.onnx"); }

    public static Path stories() { return extract("/dev/tamp/data/models/stories260K.bin", "stories260K.bin"); }
}
