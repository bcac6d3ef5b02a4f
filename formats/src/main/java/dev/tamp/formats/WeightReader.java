package dev.tamp.formats;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.formats.family.ModelFamily;
import dev.tamp.formats.family.OffsetNorms;
import dev.tamp.formats.io.TensorRegion;
import dev.tamp.formats.safetensors.SafetensorsReader;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads a loaded model's weights one at a time, for conversions that stream layer by layer. Safetensors
 * checkpoints (the big ones) are read with positional reads into short-lived heap copies, so the process
 * keeps no file pages resident behind it; other formats hand out the weights they loaded.
 */
public final class WeightReader {
    private WeightReader() {}

    public static Function<String, EncodedTensor> of(Model model, Path source) {
        if (model.format() != ModelFormat.SAFETENSORS) return model.weights()::get;
        Map<String, TensorRegion> regions = SafetensorsReader.regions(source);
        ModelFamily family = ModelFamily.of(model.architecture());
        boolean offsetNorms = family != null && family.offsetNorms();
        return name -> {
            // Gemma's norm weights were shifted on load (OffsetNorms); the file holds the unshifted ones
            if (offsetNorms && OffsetNorms.isNorm(name)) return model.weights().get(name);
            TensorRegion r = regions.get(name);
            return r != null ? r.read() : model.weights().get(name);
        };
    }
}
