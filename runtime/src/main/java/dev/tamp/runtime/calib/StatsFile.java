package dev.tamp.runtime.calib;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.safetensors.SafetensorsReader;
import dev.tamp.formats.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Calibration statistics on disk, so one calibration feeds several methods: a safetensors file with, per
 * observed input value {@code v}, tensors {@code v.absmax}, {@code v.sum_abs}, {@code v.sum_sq} ([K]) and
 * optionally {@code v.gram} ([K][K], F64), and metadata {@code tamp.rows.<v>}, {@code tamp.weights} (JSON:
 * weight → input) and {@code tamp.info} (JSON).
 */
public final class StatsFile {
    private StatsFile() {}

    public static void write(Path out, CalibrationStats s) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        s.byInput().forEach((name, c) -> {
            t.put(name + ".absmax", Tensor.ofFloats(c.absMax, c.k));
            t.put(name + ".sum_abs", doubles(c.sumAbs, c.k));
            t.put(name + ".sum_sq", doubles(c.sumSq, c.k));
            if (c.gram != null) t.put(name + ".gram", doubles(c.gram, c.k, c.k));
            meta.put("tamp.rows." + name, Long.toString(c.rows));
        });
        meta.put("tamp.weights", new String(Json.canonicalBytes(s.inputOfWeight()), java.nio.charset.StandardCharsets.UTF_8));
        meta.put("tamp.info", new String(Json.canonicalBytes(s.info()), java.nio.charset.StandardCharsets.UTF_8));
        SafetensorsWriter.write(out, t, meta);
    }

    public static CalibrationStats read(Path in) {
        Model m = new SafetensorsReader().read(in, Progress.NONE);
        Object weightsJson = m.config().get("metadata.tamp.weights");
        if (weightsJson == null) throw BadInputException.inFile(in, "not a tamp statistics file (no tamp.weights metadata)");
        Map<String, String> inputOf = new LinkedHashMap<>();
        Map<String, String> info = new LinkedHashMap<>();
        try {
            JsonNode w = Json.parse(weightsJson.toString());
            w.fields().forEachRemaining(e -> inputOf.put(e.getKey(), e.getValue().asText()));
            Object i = m.config().get("metadata.tamp.info");
            if (i != null) Json.parse(i.toString()).fields().forEachRemaining(e -> info.put(e.getKey(), e.getValue().asText()));
        } catch (IOException e) {
            throw BadInputException.inFile(in, "corrupt statistics metadata: " + e.getMessage());
        }
        Map<String, ChannelStats> byInput = new LinkedHashMap<>();
        for (String name : new java.util.LinkedHashSet<>(inputOf.values())) {
            EncodedTensor absmax = m.weights().get(name + ".absmax");
            if (absmax == null) continue;
            int k = (int) absmax.shape()[0];
            boolean gram = m.weights().containsKey(name + ".gram");
            ChannelStats c = new ChannelStats(k, gram);
            System.arraycopy(((DenseWeight) absmax).tensor().toFloatArray(), 0, c.absMax, 0, k);
            copy(m, name + ".sum_abs", c.sumAbs);
            copy(m, name + ".sum_sq", c.sumSq);
            if (gram) copy(m, name + ".gram", c.gram);
            c.rows = Long.parseLong(m.config().getOrDefault("metadata.tamp.rows." + name, "0").toString());
            byInput.put(name, c);
        }
        return new CalibrationStats(byInput, inputOf, info);
    }

    private static Tensor doubles(double[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return Tensor.of(DType.F64, shape, b);
    }

    private static void copy(Model m, String name, double[] dst) {
        ByteBuffer b = ((DenseWeight) m.weights().get(name)).tensor().data();
        b.asDoubleBuffer().get(dst);
    }
}
