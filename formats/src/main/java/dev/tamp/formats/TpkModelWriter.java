package dev.tamp.formats;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.Version;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ProvenanceStep;
import dev.tamp.core.json.Json;
import dev.tamp.formats.onnx.OnnxGraphCodec;
import dev.tamp.formats.tpk.TpkContents;
import dev.tamp.formats.tpk.TpkWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a {@link Model} as a `.tpk`: weights as tensor entries, the graph (ONNX bytes) and tokenizer as
 * blobs, and the model description and provenance as metadata. Everything written is a function of the
 * model alone (no clock, no absolute paths), so identical models give identical files.
 */
public final class TpkModelWriter {
    public static final String GRAPH_BLOB = "graph.onnx";
    public static final String TOKENIZER_BLOB = "tokenizer.json";

    private TpkModelWriter() {}

    public static void write(Model model, Path out) {
        TpkWriter.write(out, new TpkContents(model.weights(), blobs(model), metadata(model)));
    }

    /**
     * Writes {@code model}'s description, graph and provenance with weights produced one at a time (in the
     * order given; see {@link TpkWriter#writeStreaming}). Same bytes as {@link #write(Model, Path)} of the model
     * holding those weights.
     */
    public static void writeStreaming(Model model, Iterable<Map.Entry<String, EncodedTensor>> weights, Path out) {
        TpkWriter.writeStreaming(out, weights, blobs(model), metadata(model));
    }

    private static Map<String, byte[]> blobs(Model model) {
        Map<String, byte[]> blobs = new LinkedHashMap<>();
        if (model.graph() != null) blobs.put(GRAPH_BLOB, OnnxGraphCodec.toBytes(model.graph(), model.opsets()));
        if (model.tokenizerJson() != null) blobs.put(TOKENIZER_BLOB, model.tokenizerJson());
        return blobs;
    }

    static ObjectNode metadata(Model model) {
        ObjectNode meta = Json.object();
        meta.put("producer", Version.PRODUCER);
        ObjectNode m = meta.putObject("model");
        m.put("architecture", model.architecture());
        m.put("source_format", sourceFormat(model));
        m.set("config", Json.mapper().valueToTree(model.config()));
        m.set("opsets", Json.mapper().valueToTree(model.opsets()));
        meta.set("provenance", ProvenanceStep.toJson(model.provenance()));
        for (ProvenanceStep s : model.provenance()) { // formats.md §6.2 "targets": the device the last `tamp pack` laid out for
            if (s.step().equals("pack")) {
                ObjectNode t = meta.putObject("targets");
                t.put("device", s.options().get("device"));
                t.put("layout", s.options().get("layout"));
            }
        }
        return meta;
    }

    private static String sourceFormat(Model model) {
        Object recorded = model.config().get("source_format");
        return recorded != null ? recorded.toString() : model.format().id();
    }
}
