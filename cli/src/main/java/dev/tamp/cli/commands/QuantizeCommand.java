package dev.tamp.cli.commands;

import dev.tamp.cli.Provenance;
import dev.tamp.cli.report.QuantReportPrinter;
import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.CalibrationRunner;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.RuntimeOptions;
import dev.tamp.quantizers.smoothquant.SmoothQuantizer;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.StatsFile;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import dev.tamp.cli.support.IgnoreOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Post-training weight quantization of the linear layers.",
                "rtn: round-to-nearest INT8/INT4, symmetric or with zero points, per output channel (--group 0) or in groups "
                + "along the input dimension (a group that does not divide K leaves a shorter last group).",
                "smoothquant: W8A8 — per-channel smoothing s_j = max|X_j|^α / max|W_j|^(1−α) applied as an explicit multiply "
                + "before each layer group (the FP32 function is unchanged), INT8 per-channel weights, INT8 per-token activations. "
                + "Calibrates on the bundled corpus (or --data, or --stats from `tamp calibrate`).",
                "awq (W4A16) is not available in this build yet."},
        footer = {"", "Examples:", "  tamp quantize minilm --method rtn --bits 8 -o minilm-w8.tpk",
                "  tamp quantize bge --method rtn --bits 4 --group 128 --ignore 'pooler*' -o bge-w4g128.tpk",
                "  tamp quantize minilm --method smoothquant --alpha 0.5 -o minilm-w8a8.tpk",
                "  tamp quantize stories260k --method rtn --bits 4 --group 32 --json -o s.tpk"})
public final class QuantizeCommand implements Callable<Integer> {
    enum Method { rtn, smoothquant, awq }

    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = "--method", required = true, description = "rtn, smoothquant or awq.") Method method;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk") Path output;

    @Option(names = "--bits", defaultValue = "8", description = "4 or 8 (default: ${DEFAULT-VALUE}).") int bits;

    @Option(names = "--group", defaultValue = "0", description = "Group size along K; 0 = per output channel (default: ${DEFAULT-VALUE}).")
    int group;

    @Option(names = "--asym", description = "Asymmetric with zero points (default: symmetric for 8 bits, asymmetric for 4).")
    Boolean asym;

    @Mixin IgnoreOptions ignore;

    @Option(names = "--alpha", defaultValue = "0.5", description = "SmoothQuant migration strength in [0, 1] (default: ${DEFAULT-VALUE}).")
    double alpha;

    @Option(names = "--stats", paramLabel = "STATS", description = "Statistics from `tamp calibrate` instead of calibrating here.")
    Path stats;

    @Option(names = "--data", paramLabel = "FILE|DIR", description = "Calibration text (default: the bundled corpus).")
    Path data;

    @Option(names = "--samples", defaultValue = "128", description = "Calibration sentences or sequences (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seq-len", defaultValue = "128", description = "Max tokens per calibration sample (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--seed", defaultValue = "0") long seed;

    @Mixin RuntimeOptions rt;

    @Option(names = "--json", description = "Print the per-layer report as one JSON document.") boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (method == Method.awq) {
            throw new UnsupportedModelException("--method awq is not available in this build yet (rtn and smoothquant are)");
        }
        if (method == Method.smoothquant) return smoothQuant();
        boolean symmetric = asym == null ? bits == 8 : !asym;
        RtnOptions o;
        try {
            o = new RtnOptions(bits, symmetric, group, ignore.patterns);
        } catch (IllegalArgumentException e) {
            throw new dev.tamp.core.error.BadInputException(e.getMessage());
        }
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, null, progress);
        QuantReport r = RtnQuantizer.quantize(lm.model, o, progress);
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", "rtn");
        opts.put("bits", Integer.toString(bits));
        opts.put("group", Integer.toString(group));
        opts.put("symmetric", Boolean.toString(symmetric));
        opts.put("ignore", String.join(",", ignore.patterns));
        TpkModelWriter.write(r.model().withStep(Provenance.step("quantize", opts)), output);
        QuantReportPrinter.print(r, output.toString(), json, spec.commandLine().getOut());
        return 0;
    }

    private Integer smoothQuant() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        CalibrationStats cs = stats != null ? StatsFile.read(stats)
                : CalibrationRunner.run(lm, Backends.of(rt.backend), data, samples, seqLen, seed, rt.batchSize, false, progress);
        SmoothQuantizer.Result r = SmoothQuantizer.quantize(lm.model, cs, alpha, ignore.patterns, progress);
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", "smoothquant");
        opts.put("alpha", Double.toString(alpha));
        opts.put("weights", "int8-per-channel");
        opts.put("activations", "int8-per-token-dynamic");
        opts.put("smoothing", "explicit-multiply");
        opts.put("calibration", cs.info().getOrDefault("calibration_sha256", stats == null ? "" : stats.getFileName().toString()));
        opts.put("ignore", String.join(",", ignore.patterns));
        TpkModelWriter.write(r.report().model().withStep(Provenance.step("quantize", opts)), output);
        QuantReportPrinter.print(r.report(), output.toString(), json, spec.commandLine().getOut());
        return 0;
    }
}
