package dev.tamp.cli.commands;

import dev.tamp.cli.report.QuantReportPrinter;
import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.CalibrationOptions;
import dev.tamp.cli.support.CalibrationRunner;
import dev.tamp.cli.support.IgnoreOptions;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.OutputCheck;
import dev.tamp.cli.support.Provenance;
import dev.tamp.cli.support.RuntimeOptions;
import dev.tamp.compot.CompotOptions;
import dev.tamp.compot.Method;
import dev.tamp.compot.ModelCompressor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.StatsFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "compot", mixinStandardHelpOptions = true,
        description = {"Low-rank / sparse-dictionary compression of the linear layers under a storage budget.",
                "compot (Makhov et al. 2026): in the space whitened by the calibration Gram XᵀX = LLᵀ, W̃ ≈ D·S with an "
                + "orthogonal dictionary D (k atoms, Procrustes updates) and s non-zero codes per output (hard thresholding), "
                + "k = 2s, 20 alternations from the SVD; stored as the de-whitened dictionary, the code values and a k-bit mask "
                + "per output. svd: truncated SVD of W. svd-whitened: truncated SVD in the whitened space (SVD-LLM).",
                "--ratio counts stored bytes (every factor, value and mask) over the float32 bytes of the compressed layers. "
                + "--allocation global splits that budget across layers from their pooled normalised singular values "
                + "(clamped per layer to 0.2…1.0); uniform gives every layer the same ratio."},
        footer = {"", "Examples:", "  tamp compot minilm --ratio 0.6 -o minilm-compot60.tpk",
                "  tamp compot bge --ratio 0.5 --method svd-whitened --allocation uniform -o bge-svdllm50.tpk",
                "  tamp compot minilm --ratio 0.8 --json -o m.tpk && tamp quantize m.tpk --method rtn --bits 8 -o m-w8.tpk"})
public final class CompotCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk", description = "The pack to write (atomically: a temporary file renamed into place).") Path output;

    @Option(names = "--ratio", required = true, description = "Stored bytes / dense float32 bytes of the compressed layers, in (0, 1].")
    double ratio;

    @Option(names = "--method", defaultValue = "compot", description = "compot, svd or svd-whitened (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--allocation", defaultValue = "global", description = "global or uniform (default: ${DEFAULT-VALUE}).")
    String allocation;

    @Option(names = "--iterations", defaultValue = "20", description = "compot: dictionary/code alternations (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--damping", defaultValue = "1e-6",
            description = "Relative damping ε of the Gram, raised ×10 until Cholesky succeeds (default: ${DEFAULT-VALUE}).")
    double damping;

    @Option(names = "--stats", paramLabel = "STATS", description = "Statistics with Grams from `tamp calibrate` instead of calibrating here.")
    Path stats;

    @Mixin CalibrationOptions calib;

    @Mixin IgnoreOptions ignore;

    @Mixin RuntimeOptions rt;

    @Option(names = "--json", description = "Print the per-layer report as one JSON document.") boolean json;

    @Mixin OutputCheck check;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        CompotOptions o;
        try {
            if (!allocation.equals("global") && !allocation.equals("uniform")) {
                throw new IllegalArgumentException("--allocation must be global or uniform, not " + allocation);
            }
            o = new CompotOptions(Method.parse(method), ratio, allocation.equals("global"), iterations, damping, 0L);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        CalibrationStats cs = stats != null ? StatsFile.read(stats)
                : CalibrationRunner.run(lm, Backends.of(rt.backend), calib.data, calib.samples, calib.seqLen, calib.seed, rt.batchSize,
                        true, 0, progress);
        ModelCompressor.Result r = ModelCompressor.compress(lm.model, cs, o, ignore.patterns, progress);
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", o.method().cliName());
        opts.put("ratio", Double.toString(ratio));
        opts.put("achieved_ratio", String.format(Locale.ROOT, "%.5f", r.compression().achievedRatio()));
        opts.put("allocation", allocation);
        opts.put("iterations", Integer.toString(iterations));
        opts.put("damping", Double.toString(damping));
        opts.put("calibration", cs.info().getOrDefault("calibration_sha256", stats == null ? "" : stats.getFileName().toString()));
        opts.put("ignore", String.join(",", ignore.patterns));
        TpkModelWriter.write(r.report().model().withStep(Provenance.step("compot", opts)), output);
        OutputCheck.Outcome checked = check.after(lm, model, output, progress, spec.commandLine().getErr());
        QuantReportPrinter.print(r.report(), output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }
}
