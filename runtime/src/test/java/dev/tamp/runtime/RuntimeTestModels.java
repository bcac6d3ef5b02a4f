package dev.tamp.runtime;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

/** The real models on the runtime test class path, extracted once per JVM and read once. */
public final class RuntimeTestModels {
    private static Path dir;
    private static final Map<String, Model> LOADED = new HashMap<>();

    private RuntimeTestModels() {}

    public static synchronized Path path(String resource, String fileName) {
        try {
            if (dir == null) dir = Files.createTempDirectory("tamp-runtime-models");
            Path sub = Files.createDirectories(dir.resolve(fileName + ".d"));
            Path out = sub.resolve(fileName);
            if (!Files.exists(out)) {
                try (InputStream in = RuntimeTestModels.class.getResourceAsStream(resource)) {
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

    public static Path miniLmPath() { return path("/all-minilm-l6-v2.onnx", "all-minilm-l6-v2.onnx"); }

    public static Path bgePath() { return path("/bge-small-en-v1.5.onnx", "bge-small-en-v1.5.onnx"); }

    public static synchronized Model miniLm() {
        return LOADED.computeIfAbsent("minilm", k -> ModelLoader.load(miniLmPath(), Progress.NONE));
    }

    public static synchronized Model bge() {
        return LOADED.computeIfAbsent("bge", k -> ModelLoader.load(bgePath(), Progress.NONE));
    }

    public static synchronized Model stories() {
        return LOADED.computeIfAbsent("stories", k -> ModelLoader.load(path("/dev/tamp/data/models/stories260K.bin", "stories260K.bin"), Progress.NONE));
    }
}
