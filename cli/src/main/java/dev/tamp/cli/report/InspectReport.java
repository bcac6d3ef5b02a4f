package dev.tamp.cli.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ProvenanceStep;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.json.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** What `tamp inspect` reports about a model, rendered as JSON (the contract) or as text. */
public final class InspectReport {
    private final Model model;
    private final Path path;

    private InspectReport(Model model, Path path) {
        this.model = model;
        this.path = path;
    }

    public static InspectReport of(Model model, Path path) {
        return new InspectReport(model, path);
    }

    /** Encoding name of a weight: its dtype when dense, else the encoding's description. */
    static String encodingName(EncodedTensor t) {
        return t instanceof DenseWeight d ? d.tensor().dtype().displayName() : t.describe();
    }

    Map<String, Long> bytesByEncoding() {
        Map<String, Long> m = new TreeMap<>();
        for (EncodedTensor t : model.weights().values()) m.merge(encodingName(t), t.storageBytes(), Long::sum);
        return m;
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("file", path.toString());
        o.put("format", model.format().id());
        o.put("architecture", model.architecture());
        o.put("parameters", model.parameterCount());
        long total = 0;
        for (EncodedTensor t : model.weights().values()) total += t.storageBytes();
        o.put("bytes", total);
        o.set("bytes_by_dtype", Json.mapper().valueToTree(bytesByEncoding()));
        o.set("config", Json.mapper().valueToTree(model.config()));
        o.set("opsets", Json.mapper().valueToTree(model.opsets()));
        ObjectNode ops = o.putObject("ops");
        if (model.graph() != null) {
            model.graph().opHistogram().forEach(ops::put);
            o.set("inputs", valueInfos(model.graph().inputs()));
            o.set("outputs", valueInfos(model.graph().outputs()));
            o.put("nodes", model.graph().nodes().size());
        }
        ArrayNode tensors = o.putArray("tensors");
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            ObjectNode t = tensors.addObject();
            t.put("name", e.getKey());
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue().shape()) shape.add(d);
            t.put("dtype", encodingName(e.getValue()));
            t.put("bytes", e.getValue().storageBytes());
        }
        o.set("provenance", ProvenanceStep.toJson(model.provenance()));
        o.put("tokenizer", model.tokenizerJson() != null);
        return o;
    }

    private static ArrayNode valueInfos(List<ValueInfo> infos) {
        ArrayNode a = Json.mapper().createArrayNode();
        for (ValueInfo v : infos) {
            ObjectNode n = a.addObject();
            n.put("name", v.name());
            n.put("dtype", v.dtype() == null ? "unknown" : v.dtype().displayName());
            ArrayNode dims = n.putArray("dims");
            if (v.dims() != null) for (ValueInfo.Dim d : v.dims()) dims.add(d.toString());
        }
        return a;
    }

    public String toText(int top) {
        StringBuilder sb = new StringBuilder();
        line(sb, "model", path.toString());
        String opset = model.opsets().isEmpty() ? "" : " (opset " + model.opsets().getOrDefault("", model.opsets().values().iterator().next()) + ")";
        line(sb, "format", model.format().id() + opset);
        line(sb, "architecture", model.architecture());
        long params = model.parameterCount();
        line(sb, "parameters", String.format(Locale.ROOT, "%,d (%s)", params, human(params, "")));
        StringBuilder bytes = new StringBuilder();
        bytesByEncoding().forEach((k, v) -> bytes.append(bytes.length() == 0 ? "" : ", ").append(k).append(' ').append(human(v, "B")));
        line(sb, "bytes", bytes.toString());
        line(sb, "tensors", Integer.toString(model.weights().size()));
        if (!model.config().isEmpty()) {
            StringBuilder c = new StringBuilder();
            model.config().forEach((k, v) -> {
                String s = String.valueOf(v);
                if (s.length() <= 40) c.append(c.length() == 0 ? "" : ", ").append(k).append('=').append(s);
            });
            line(sb, "config", c.toString());
        }
        if (model.graph() != null) {
            line(sb, "inputs", String.join(", ", model.graph().inputs().stream().map(InspectReport::describe).toList()));
            line(sb, "outputs", String.join(", ", model.graph().outputs().stream().map(InspectReport::describe).toList()));
            Map<String, Integer> h = model.graph().opHistogram();
            sb.append(String.format(Locale.ROOT, "%nops (%d nodes, %d op types)%n", model.graph().nodes().size(), h.size()));
            List<Map.Entry<String, Integer>> entries = new ArrayList<>(h.entrySet());
            entries.sort(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
            for (Map.Entry<String, Integer> e : entries) sb.append(String.format(Locale.ROOT, "  %-28s %6d%n", e.getKey(), e.getValue()));
        }
        if (!model.provenance().isEmpty()) {
            sb.append(String.format("%nprovenance%n"));
            for (ProvenanceStep s : model.provenance()) sb.append("  ").append(s.step()).append(' ').append(s.options()).append(System.lineSeparator());
        }
        List<Map.Entry<String, EncodedTensor>> largest = new ArrayList<>(model.weights().entrySet());
        largest.sort(Comparator.comparingLong((Map.Entry<String, EncodedTensor> e) -> e.getValue().storageBytes()).reversed());
        sb.append(String.format(Locale.ROOT, "%nlargest tensors%n  %-52s %-18s %-14s %10s%n", "name", "shape", "dtype", "bytes"));
        for (Map.Entry<String, EncodedTensor> e : largest.subList(0, Math.min(top, largest.size()))) {
            sb.append(String.format(Locale.ROOT, "  %-52s %-18s %-14s %10s%n", e.getKey(), Arrays.toString(e.getValue().shape()),
                    encodingName(e.getValue()), human(e.getValue().storageBytes(), "B")));
        }
        return sb.toString();
    }

    private static String describe(ValueInfo v) {
        return v.name() + (v.dims() == null ? "" : v.dims().toString()) + (v.dtype() == null ? "" : " " + v.dtype().displayName());
    }

    private static void line(StringBuilder sb, String key, String value) {
        sb.append(String.format(Locale.ROOT, "%-13s %s%n", key, value));
    }

    static String human(long n, String unit) {
        String[] units = {"", "K", "M", "G", "T"};
        double v = n;
        int i = 0;
        while (v >= 1000 && i < units.length - 1) {
            v /= 1000;
            i++;
        }
        return i == 0 ? n + (unit.isEmpty() ? "" : " " + unit) : String.format(Locale.ROOT, "%.1f%s%s", v, units[i], unit);
    }
}
