package dev.tamp.formats;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.ProvenanceStep;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.io.MessageText;
import dev.tamp.formats.onnx.OnnxGraphCodec;
import dev.tamp.formats.tpk.TpkContents;
import dev.tamp.formats.tpk.TpkFile;
import dev.tamp.formats.tpk.TpkReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads a `.tpk` written by {@link TpkModelWriter} back into a {@link Model}. */
public final class TpkModelReader implements CheckpointReader {
    private static final byte[] MAGIC = "TAMPPACK".getBytes(StandardCharsets.US_ASCII);

    @Override
    public boolean accepts(Path path) {
        return path.getFileName().toString().endsWith(".tpk") || Arrays.equals(FileRegions.magic(path, 8), MAGIC);
    }

    @Override
    public Model read(Path path, Progress progress) {
        return MessageText.oneLine(() -> readModel(path, progress));
    }

    private Model readModel(Path path, Progress progress) {
        TpkFile file = TpkReader.open(path);
        TpkContents c = file.contents();
        JsonNode meta = c.metadata();
        JsonNode m = meta.path("model");
        checkDescription(path, m, meta.path("provenance"));
        Map<String, Object> config = new LinkedHashMap<>();
        if (m.has("config")) config.putAll(Json.mapper().convertValue(m.get("config"), Map.class));
        config.putIfAbsent("source_format", m.path("source_format").asText("unknown"));
        Map<String, Long> opsets = new LinkedHashMap<>();
        m.path("opsets").fields().forEachRemaining(e -> opsets.put(e.getKey(), e.getValue().asLong()));
        Graph graph = null;
        byte[] graphBytes = c.blobs().get(TpkModelWriter.GRAPH_BLOB);
        if (graphBytes != null) {
            try {
                graph = OnnxGraphCodec.fromBytes(graphBytes);
            } catch (RuntimeException e) {
                throw BadInputException.inFile(path, "stored graph cannot be decoded: " + e.getMessage(), e);
            }
        }
        List<ProvenanceStep> steps = new ArrayList<>();
        for (JsonNode s : meta.path("provenance")) {
            Map<String, String> opts = new LinkedHashMap<>();
            s.path("options").fields().forEachRemaining(e -> opts.put(e.getKey(), e.getValue().asText()));
            steps.add(new ProvenanceStep(s.path("step").asText(), opts, s.path("tool").asText()));
        }
        return new Model(ModelFormat.TPK, path.toString(), m.path("architecture").asText("unknown"), graph,
                c.tensors(), config, opsets, c.blobs().get(TpkModelWriter.TOKENIZER_BLOB), steps);
    }

    /**
     * The model description (written by {@link TpkModelWriter}; absent from packs written without one) must have
     * the JSON types read above: a lying or hand-edited description fails here, not as a cast deep inside.
     */
    private static void checkDescription(Path path, JsonNode model, JsonNode provenance) {
        if (model.isMissingNode()) return;
        if (!model.isObject()) throw BadInputException.inFile(path, "corrupt .tpk: model description is not a JSON object");
        if (model.has("config") && !model.get("config").isObject()) throw BadInputException.inFile(path, "corrupt .tpk: model config is not a JSON object");
        JsonNode opsets = model.path("opsets");
        if (!opsets.isMissingNode() && !opsets.isObject()) throw BadInputException.inFile(path, "corrupt .tpk: opsets is not a JSON object");
        opsets.fields().forEachRemaining(e -> {
            if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToLong()) {
                throw BadInputException.inFile(path, "corrupt .tpk: opset version of domain '" + e.getKey() + "' is " + e.getValue());
            }
        });
        if (!provenance.isMissingNode() && !provenance.isArray()) throw BadInputException.inFile(path, "corrupt .tpk: provenance is not a JSON array");
    }
}
