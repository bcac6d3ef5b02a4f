package dev.tamp.cli.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.json.Json;
import dev.tamp.pruning.PruneReport;
import dev.tamp.cli.support.OutputCheck;
import java.io.PrintWriter;
import java.util.Locale;

/** Renders a pruning report as a table (stdout) or one JSON document. */
public final class PruneReportPrinter {
    private PruneReportPrinter() {}

    /** {@code check}: the output check's outcome (in the JSON as "check", as the last summary line). */
    public static void print(PruneReport r, String output, boolean json, PrintWriter out, OutputCheck.Outcome check) {
        long before = 0, after = 0, elements = 0;
        double errSum = 0;
        for (PruneReport.Row row : r.rows()) {
            before += row.bytesBefore();
            after += row.bytesAfter();
            elements += row.elements();
            errSum += row.outputError();
        }
        double meanErr = r.rows().isEmpty() ? 0 : errSum / r.rows().size();
        if (json) {
            ObjectNode o = Json.object();
            o.put("method", r.method().cliName());
            o.put("pattern", r.pattern().toString());
            o.put("propagate", r.propagate().name().toLowerCase(Locale.ROOT));
            o.put("output", output);
            o.put("weights", r.rows().size());
            o.put("bytes_before", before);
            o.put("bytes_after", after);
            o.put("bits_per_weight", elements == 0 ? 0 : 8.0 * after / elements);
            o.put("mean_output_error", meanErr);
            ArrayNode a = o.putArray("layers");
            for (PruneReport.Row row : r.rows()) {
                ObjectNode l = a.addObject();
                l.put("weight", row.weight());
                if (row.layer() != null) l.put("layer", row.layer());
                l.put("method", r.method().cliName());
                l.put("encoding", row.encoding());
                l.put("output_error", row.outputError());
                l.put("relative_weight_error", row.relativeWeightError());
                l.put("bytes", row.bytesAfter());
                if (row.detail() != null) l.put("detail", row.detail());
            }
            o.set("check", check.toJson());
            out.println(Json.pretty(o));
        } else {
            out.printf(Locale.ROOT, "%-56s %-10s %-22s %10s %10s %10s%n", "layer (weight)", "method", "encoding", "out error", "w. error", "bytes");
            for (PruneReport.Row row : r.rows()) {
                String name = row.layer() == null || row.layer().equals(row.weight()) ? row.weight() : row.layer();
                out.printf(Locale.ROOT, "%-56s %-10s %-22s %10.5f %10.5f %10d%s%n", name, r.method().cliName(), row.encoding(), row.outputError(),
                        row.relativeWeightError(), row.bytesAfter(), row.detail() == null ? "" : "  " + row.detail());
            }
            out.printf(Locale.ROOT, "%d weights pruned %s by %s: %.1f MB → %.1f MB (%.2f bits/weight), mean output error %.4f  → %s%n",
                    r.rows().size(), r.pattern(), r.method().cliName(), before / 1e6, after / 1e6, elements == 0 ? 0 : 8.0 * after / elements,
                    meanErr, output);
            out.println(check.line());
        }
        out.flush();
    }
}
