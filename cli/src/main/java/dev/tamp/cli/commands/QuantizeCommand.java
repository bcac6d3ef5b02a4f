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
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.WeightReader;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.awq.AwqOptions;
import dev.tamp.quantizers.awq.AwqQuantizer;
import dev.tamp.quantizers.gptq.GptqOptions;
import dev.tamp.quantizers.gptq.GptqQuantizer;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import dev.tamp.quantizers.smoothquant.AlphaSearch;
import dev.tamp.quantizers.smoothquant.SmoothQuantizer;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.StatsFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Post-training weight quantization of the linear layers.",
                "rtn: round-to-nearest INT8/INT4, symmetric or with zero points, per output channel (--group 0) or in groups "
                + "along the input dimension (a group that does not divide K leaves a shorter last group).",
                "smoothquant: W8A8 — per-channel smoothing s_j = max|X_j|^α / max|W_j|^(1−α), 1/s folded into the RMSNorm/LayerNorm "
                + "feeding the group where that norm feeds nothing else, else an explicit multiply before the group (the FP32 "
                + "function is unchanged); INT8 per-channel weights; INT8 activations per token or per tensor. "
                + "Calibrates on the bundled corpus (or --data, or --stats from `tamp calibrate`).",
                "awq: W4A16 (Lin et al.) — per group of linears sharing an input, activation-aware scales s = mean|x|^r searched "
                + "on a grid (r = 0 is plain RTN) against the group's output error on the calibration set, then weight clipping "
                + "search, then 4-bit groups of 128 with zero points; block by block, each block calibrated on the outputs of "
                + "the already-quantized earlier blocks (--propagate fp: the FP32 model's activations, as llm-awq).",
                "gptq: W4A16/W8A16 (Frantar et al.) — per linear, columns quantized in turn with each one's rounding error spread "
                + "over the columns not yet quantized through the inverse Hessian of the calibration inputs (XᵀX), in order of "
                + "decreasing Hessian diagonal (--no-act-order: left to right); 4-bit groups of 128 with zero points by default; "
                + "block by block like awq, one pass of the calibration set per block.",
                "awq and gptq leave an untied lm_head float (its error lands on the logits; AutoAWQ and llm-compressor do the same)."},
        footer = {"", "Examples:", "  tamp quantize minilm --method rtn --bits 8 -o minilm-w8.tpk",
                "  tamp quantize bge --method rtn --bits 4 --group 128 --ignore 'pooler*' -o bge-w4g128.tpk",
                "  tamp quantize minilm --method smoothquant --alpha 0.5 -o minilm-w8a8.tpk",
                "  tamp quantize minilm --method awq -o minilm-w4g128-awq.tpk",
                "  tamp quantize stories260k --method gptq --group 32 -o s-gptq.tpk",
                "  tamp quantize stories260k --method rtn --bits 4 --group 32 --json -o s.tpk"})
public final class QuantizeCommand implements Callable<Integer> {
    enum Method { rtn, smoothquant, awq, gptq }

    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = "--method", required = true, description = "rtn, smoothquant, awq or gptq.") Method method;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk", description = "The pack to write (atomically: a temporary file renamed into place).") Path output;

    @Option(names = "--bits", description = "4 or 8 (default: 8 for rtn and smoothquant, 4 for awq and gptq).") Integer bits;

    @Option(names = "--group", description = "Group size along K; 0 = per output channel (default: 128 for 4 bits, 0 for 8 bits).")
    Integer group;

    @Option(names = "--asym", negatable = true,
            description = "Asymmetric with zero points (default: symmetric for 8 bits, asymmetric for 4).")
    Boolean asym;

    @Option(names = "--grid", defaultValue = "20", description = "awq: scale-search grid points r = 0, 1/n, … (default: ${DEFAULT-VALUE}).")
    int grid;

    @Option(names = "--no-clip", description = "awq: skip the weight clipping search.") boolean noClip;

    @Option(names = "--propagate", defaultValue = "compressed",
            description = "awq: calibrate each block on the outputs of the quantized earlier blocks (compressed) or of the FP32 "
                    + "model (fp, one calibration pass; llm-awq's choice) (default: ${DEFAULT-VALUE}).")
    String propagate;

    @Option(names = "--act-order", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "gptq: quantize columns in order of decreasing Hessian diagonal, group scales fixed up front (default: on; "
                    + "stories260k W4 g32 KL 1.32 vs 1.43 without, MiniLM W4 g128 cosine 0.985 vs 0.983).")
    boolean actOrder;

    @Option(names = "--dampening", defaultValue = "0.01",
            description = "gptq: λ in H + λ·mean(diag H)·I; raised ×10 (up to 1) where the Cholesky fails (default: ${DEFAULT-VALUE}).")
    double dampening;

    @Mixin IgnoreOptions ignore;

    @Option(names = "--alpha", defaultValue = "0.5",
            description = "SmoothQuant migration strength in [0, 1], or auto: per group the α in 0.30…0.95 (or no smoothing) "
                    + "with the lowest W8A8 output error on calibration tokens (default: ${DEFAULT-VALUE}).")
    String alpha;

    @Option(names = "--activations", defaultValue = "token",
            description = "smoothquant: INT8 activation scales per token at run time (token) or one per layer from calibration "
                    + "(tensor) (default: ${DEFAULT-VALUE}).")
    String activations;

    @Option(names = "--stats", paramLabel = "STATS", description = "Statistics from `tamp calibrate` instead of calibrating here.")
    Path stats;

    @Mixin CalibrationOptions calib;

    @Mixin RuntimeOptions rt;

    @Option(names = "--json", description = "Print the per-layer report as one JSON document.") boolean json;

    @Mixin OutputCheck check;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (method == Method.smoothquant) return smoothQuant();
        if (method == Method.awq) return awq();
        if (method == Method.gptq) return gptq();
        // 4 bits per output channel loses too much (MiniLM: mean cosine 0.923); groups of 128 are the field's default
        int bits = this.bits == null ? 8 : this.bits, group = this.group == null ? (bits == 4 ? 128 : 0) : this.group;
        boolean symmetric = asym == null ? bits == 8 : !asym;
        RtnOptions o;
        try {
            o = new RtnOptions(bits, symmetric, group, ignore.patterns);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, null, progress);
        // streamed: each weight is read, quantized and written in turn, so memory holds one layer
        LinearWeightRewriter.Streamed streamed = RtnQuantizer.stream(lm.model, o, progress, WeightReader.of(lm.model, lm.path));
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", "rtn");
        opts.put("bits", Integer.toString(bits));
        opts.put("group", Integer.toString(group));
        opts.put("symmetric", Boolean.toString(symmetric));
        opts.put("ignore", String.join(",", ignore.patterns));
        TpkModelWriter.writeStreaming(lm.model.withStep(Provenance.step("quantize", opts)), streamed.weights(), output);
        OutputCheck.Outcome checked = check.after(lm, model, output, progress, spec.commandLine().getErr());
        QuantReportPrinter.print(streamed.report(), output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }

    private Integer awq() {
        int bits = this.bits == null ? 4 : this.bits, group = this.group == null ? 128 : this.group;
        boolean symmetric = asym == null ? bits == 8 : !asym;
        AwqOptions.Propagation prop = propagateCompressed() ? AwqOptions.Propagation.COMPRESSED : AwqOptions.Propagation.FP;
        AwqOptions o;
        try {
            o = new AwqOptions(bits, group, symmetric, grid, !noClip, prop, ignore.patterns);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        CalibrationSource source = blockwiseSource(lm, "awq", progress);
        AwqQuantizer.Result r = AwqQuantizer.quantize(lm.model, source, o, progress);
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", "awq");
        opts.put("bits", Integer.toString(bits));
        opts.put("group", Integer.toString(group));
        opts.put("symmetric", Boolean.toString(symmetric));
        opts.put("grid", Integer.toString(grid));
        opts.put("clip", Boolean.toString(!noClip));
        putBlockwiseCalibration(opts);
        TpkModelWriter.write(r.report().model().withStep(Provenance.step("quantize", opts)), output);
        OutputCheck.Outcome checked = check.after(lm, model, output, progress, spec.commandLine().getErr());
        QuantReportPrinter.print(r.report(), output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }

    private Integer gptq() {
        int bits = this.bits == null ? 4 : this.bits, group = this.group == null ? 128 : this.group;
        // zero points at 4 bits, as rtn and awq: stories260k W4 g32 KL 1.32 asymmetric vs 1.83 symmetric
        boolean symmetric = asym == null ? bits == 8 : !asym;
        GptqOptions.Propagation prop = propagateCompressed() ? GptqOptions.Propagation.COMPRESSED : GptqOptions.Propagation.FP;
        GptqOptions o;
        try {
            o = new GptqOptions(bits, group, symmetric, actOrder, dampening, 128, prop, ignore.patterns);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        CalibrationSource source = blockwiseSource(lm, "gptq", progress);
        QuantReport r = GptqQuantizer.quantize(lm.model, source, o, progress);
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", "gptq");
        opts.put("bits", Integer.toString(bits));
        opts.put("group", Integer.toString(group));
        opts.put("symmetric", Boolean.toString(symmetric));
        opts.put("act_order", Boolean.toString(actOrder));
        opts.put("dampening", Double.toString(dampening));
        putBlockwiseCalibration(opts);
        TpkModelWriter.write(r.model().withStep(Provenance.step("quantize", opts)), output);
        OutputCheck.Outcome checked = check.after(lm, model, output, progress, spec.commandLine().getErr());
        QuantReportPrinter.print(r, output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }

    /** --propagate for the block-wise methods (awq, gptq): true for compressed, false for fp. */
    private boolean propagateCompressed() {
        return switch (propagate) {
            case "fp" -> false;
            case "compressed" -> true;
            default -> throw new BadInputException("--propagate must be fp or compressed, not " + propagate);
        };
    }

    /** The calibration set a block-wise method runs block by block (it cannot take precomputed --stats). */
    private CalibrationSource blockwiseSource(LoadedModel lm, String method, StderrProgress progress) {
        if (stats != null) {
            throw new BadInputException("--stats: " + method + " calibrates block by block on the model being quantized; use --data/--samples");
        }
        return CalibrationRunner.source(lm, Backends.of(rt.backend), calib.data, calib.samples, calib.seqLen, calib.seed, rt.batchSize, progress);
    }

    /** Provenance of a block-wise method's calibration: propagation, the sample, the ignored layers. */
    private void putBlockwiseCalibration(Map<String, String> opts) {
        opts.put("propagate", propagate);
        opts.put("samples", Integer.toString(calib.samples));
        opts.put("seq_len", Integer.toString(calib.seqLen));
        opts.put("seed", Long.toString(calib.seed));
        opts.put("ignore", String.join(",", ignore.patterns));
    }

    private Integer smoothQuant() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        boolean auto = alpha.equals("auto");
        if (!activations.equals("token") && !activations.equals("tensor")) {
            throw new BadInputException("--activations must be token or tensor, not " + activations);
        }
        boolean perTensor = activations.equals("tensor");
        double fixed = auto ? 0 : parseAlpha(alpha);
        CalibrationStats cs = stats != null ? StatsFile.read(stats)
                : CalibrationRunner.run(lm, Backends.of(rt.backend), calib.data, calib.samples, calib.seqLen, calib.seed, rt.batchSize, false,
                        auto || perTensor ? AlphaSearch.SAMPLE_ROWS : 0, progress);
        SmoothQuantizer.Result r = SmoothQuantizer.quantize(lm.model, cs, auto ? AlphaSearch::choose : (x, w, n) -> fixed, perTensor,
                ignore.patterns, progress);
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", "smoothquant");
        opts.put("alpha", alpha);
        opts.put("weights", "int8-per-channel");
        opts.put("activations", perTensor ? "int8-per-tensor-static" : "int8-per-token-dynamic");
        opts.put("smoothing", smoothingRoutes(r.groups()));
        opts.put("calibration", cs.info().getOrDefault("calibration_sha256", stats == null ? "" : stats.getFileName().toString()));
        opts.put("ignore", String.join(",", ignore.patterns));
        TpkModelWriter.write(r.report().model().withStep(Provenance.step("quantize", opts)), output);
        OutputCheck.Outcome checked = check.after(lm, model, output, progress, spec.commandLine().getErr());
        QuantReportPrinter.print(r.report(), output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }

    /** How 1/s reached the activations, from the groups' routes (was recorded as "explicit-multiply" even where folded). */
    static String smoothingRoutes(java.util.List<dev.tamp.quantizers.smoothquant.SmoothQuant.Group> groups) {
        int folded = 0, explicit = 0;
        for (var g : groups) {
            if (g.alpha() < 0) continue;
            if (g.route() != null && g.route().startsWith("folded")) folded++;
            else explicit++;
        }
        if (folded + explicit == 0) return "none";
        if (folded == 0) return "explicit-multiply";
        if (explicit == 0) return "folded-into-norm";
        return "folded-into-norm:" + folded + ",explicit-multiply:" + explicit;
    }

    private static double parseAlpha(String a) {
        double v;
        try {
            v = Double.parseDouble(a);
        } catch (NumberFormatException e) {
            throw new BadInputException("--alpha must be a number in [0, 1] or auto, not " + a);
        }
        if (!(v >= 0 && v <= 1)) throw new BadInputException("--alpha must be in [0, 1] or auto, not " + a);
        return v;
    }
}
