package dev.tamp.formats;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.bundled.BundledModels;
import dev.tamp.formats.gguf.GgufReader;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.llama2c.Llama2cReader;
import dev.tamp.formats.onnx.OnnxReader;
import dev.tamp.formats.pytorch.PyTorchReader;
import dev.tamp.formats.safetensors.SafetensorsReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Optional;

/**
 * Turns a MODEL argument (a path or a bundled name) into a {@link Model}: resolves bundled names, then
 * asks each reader in turn whether it recognises the path. Order matters where formats share an
 * extension: a zip-based `.bin` is PyTorch, any other `.bin` is llama2.c.
 */
public final class ModelLoader {
    private static final List<CheckpointReader> READERS = List.of(
            new TpkModelReader(), new OnnxReader(), new SafetensorsReader(), new GgufReader(),
            new PyTorchReader(), new Llama2cReader());

    private ModelLoader() {}

    /** Resolves a bundled name or checks that a path exists. */
    public static Path resolve(String spec) {
        Optional<BundledModels.Bundled> bundled = BundledModels.byName(spec);
        Path path = Paths.get(spec);
        if (bundled.isPresent() && !Files.exists(path)) return BundledModels.resolve(bundled.get());
        if (!Files.exists(path)) {
            throw BadInputException.inFile(path, "no such file or directory (bundled names: "
                    + String.join(", ", BundledModels.ALL.stream().map(BundledModels.Bundled::name).toList()) + ")");
        }
        return path;
    }

    public static Model load(String spec, Progress progress) {
        return load(resolve(spec), progress);
    }

    public static Model load(Path path, Progress progress) {
        if (Files.isRegularFile(path) && FileRegions.size(path) == 0) {
            throw BadInputException.inFile(path, "empty file");
        }
        for (CheckpointReader r : READERS) {
            if (r.accepts(path)) return r.read(path, progress);
        }
        if (Files.isDirectory(path)) {
            throw BadInputException.inFile(path, "directory holds no recognised checkpoint (expected config.json with "
                    + "model.safetensors, model.safetensors.index.json or pytorch_model.bin)");
        }
        throw BadInputException.inFile(path, "unrecognised model format (expected .onnx, .safetensors, .gguf, "
                + ".bin/.pt/.pth, llama2.c .bin or .tpk)");
    }
}
