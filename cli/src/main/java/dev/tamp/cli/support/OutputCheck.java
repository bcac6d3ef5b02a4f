package dev.tamp.cli.support;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.error.TampException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.eval.SmokeCheck;
import dev.tamp.runtime.exec.JavaBackend;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * The output check of every compressing command (picocli mixin): after the output is written, input and output
 * run on a few fixed held-out inputs ({@link SmokeCheck}); the figure goes into the summary and {@code --json}
 * ("check"), and a figure past the tier's threshold is a loud warning on stderr. It never changes the exit code
 * (`tamp verify` is the gate) and never removes the output: a check that cannot run says why and the command
 * still succeeds.
 */
public final class OutputCheck {
    @Option(names = "--no-check", description = "Skip the output check (input and output on a few held-out inputs: encoders cosine, "
            + "decoders KL/top-1; a warning on stderr past the threshold for what the output stores).")
    public boolean noCheck;

    /** A check's result, or why it did not run. */
    public record Outcome(SmokeCheck.Result result, String skipped) {
        public ObjectNode toJson() {
            ObjectNode o = Json.object();
            if (result == null) {
                o.put("skipped", skipped);
                return o;
            }
            o.put("passed", result.passed());
            o.put("metric", result.metric());
            o.put(result.metric(), result.value());
            o.put(result.secondaryMetric(), result.secondary());
            o.put("threshold", result.threshold());
            o.put("tier", result.tier().name().toLowerCase(Locale.ROOT));
            o.put(result.decoder() ? "sequences" : "sentences", result.inputs());
            return o;
        }

        /** The summary line. */
        public String line() {
            return result == null ? "check: skipped (" + skipped + ")" : "check: " + (result.passed() ? "ok, " : "WARNING, ") + result.describe();
        }
    }

    /**
     * Runs the check of {@code output} against {@code input} (the model the command started from, named {@code inputName} as the user gave it) unless
     * {@code --no-check}; a figure past the threshold is written to {@code err} as a warning naming both files.
     */
    public Outcome after(LoadedModel input, String inputName, Path output, Progress progress, PrintWriter err) {
        return after(input, inputName, output, null, progress, err);
    }

    /** {@code tier}: the threshold's tier when the output's encodings do not say it (null: from the encodings). */
    public Outcome after(LoadedModel input, String inputName, Path output, SmokeCheck.Tier tier, Progress progress, PrintWriter err) {
        if (noCheck) return new Outcome(null, "--no-check");
        long params = input.model.parameterCount();
        if (params > SmokeCheck.MAX_PARAMETERS) {
            return new Outcome(null, String.format(Locale.ROOT, "%.2f B parameters, above the in-process check's %d M; run tamp verify",
                    params / 1e9, SmokeCheck.MAX_PARAMETERS / 1_000_000));
        }
        SmokeCheck.Result r;
        long t0 = System.nanoTime();
        try {
            LoadedModel out = LoadedModel.load(output.toString(), null, progress);
            boolean decoder = input.isDecoder();
            if (out.isDecoder() != decoder) return new Outcome(null, "input and output are not both encoders or both decoders");
            Model o = out.runnable();
            r = SmokeCheck.run(input.runnable(), decoder ? null : input.tokenizer(), o, decoder ? null : out.tokenizer(), decoder,
                    new JavaBackend(), tier != null ? tier : SmokeCheck.Tier.of(o));
        } catch (TampException e) {
            // the output is written and valid as far as the command knows; the check says why it could not run
            return new Outcome(null, e.getMessage());
        }
        progress.info(String.format(Locale.ROOT, "check done in %.1fs", (System.nanoTime() - t0) / 1e9));
        if (!r.passed()) {
            err.println("tamp: WARNING: " + output + " is far from " + inputName + ": " + r.describe()
                    + ". Measure it with `tamp verify " + output + " --reference " + inputName + "`; --no-check skips this check.");
            err.flush();
        }
        return new Outcome(r, null);
    }
}
