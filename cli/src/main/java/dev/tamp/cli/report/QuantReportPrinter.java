package dev.tamp.cli.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.json.Json;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.cli.support.OutputCheck;
import java.io.PrintWriter;
import java.util.Locale;

/** Renders a quantization report as a table (stdout) or one JSON document. */
public final class QuantReportPrinter {
    private QuantReportPrinter() {}

    /** {@code check}: the output check's outcome (in the JSON as "check", as the last summary line). */
    public static void print(QuantReport r, String output, boolean json, PrintWriter out, OutputCheck.Outcome check) {
        long before = 0, after = 0, elements = 0;
        for (QuantReport.Row row : r.rows()) {
            before += row.bytesBefore();
            after += row.bytesAfter();
            elements += row.elements();
        }
        if (json) {
            ObjectNode o = Json.object();
            o.put("method", r.method());
            o.put("output", output);
            o.put("weights", r.rows().size());
            o.put("bytes_before", before);
            o.put("bytes_after", after);
            o.put("bits_per_weight", elements == 0 ? 0 : 8.0 * after / elements);
            ArrayNode a = o.putArray("layers");
            for (QuantReport.Row row : r.rows()) {
                ObjectNode l = a.addObject();
                l.put("weight", row.weight());
                if (row.layer() != null) l.put("layer", row.layer());
                l.put("encoding", row.encoding());
                if (!Double.isNaN(row.relativeWeightError())) l.put("relative_weight_error", row.relativeWeightError());
                l.put("bytes", row.bytesAfter());
                if (row.detail() != null) l.put("detail", row.detail());
            }
            o.set("check", check.toJson());
            out.println(Json.pretty(o));
        } else {
            out.printf(Locale.ROOT, "%-56s %-16s %12s %10s%n", "layer (weight)", "encoding", "w. error", "bytes");
            for (QuantReport.Row row : r.rows()) {
                String name = row.layer() == null || row.layer().equals(row.weight()) ? row.weight() : row.layer();
                out.printf(Locale.ROOT, "%-56s %-16s %12s %10d%s%n", name, row.encoding(),
                        Double.isNaN(row.relativeWeightError()) ? "-" : String.format(Locale.ROOT, "%.5f", row.relativeWeightError()), row.bytesAfter(),
                        row.detail() == null ? "" : "  " + row.detail());
            }
            out.printf(Locale.ROOT, "%d weights: %.1f MB → %.1f MB (%.2f bits/weight)  → %s%n", r.rows().size(), before / 1e6, after / 1e6,
                    elements == 0 ? 0 : 8.0 * after / elements, output);
            out.println(check.line());
        }
        out.flush();
    }
}
