package dev.tamp.runtime;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The real models on the runtime test class path, extracted once per JVM and read once. */
public final class RuntimeTestModels {
    private static final Map<String, Model> LOADED = new HashMap<>();

    private RuntimeTestModels() {}

    public static Path path(String resource, String fileName) {
        return TestModels.extract(resource, fileName);
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
