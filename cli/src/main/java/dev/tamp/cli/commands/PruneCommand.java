package dev.tamp.cli.commands;

import dev.tamp.cli.report.PruneReportPrinter;
import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.CalibrationRunner;
import dev.tamp.cli.support.IgnoreOptions;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.OutputCheck;
import dev.tamp.cli.support.Provenance;
import dev.tamp.cli.support.RuntimeOptions;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.pruning.NmPattern;
import dev.tamp.pruning.PruneMethod;
import dev.tamp.pruning.PruneOptions;
import dev.tamp.pruning.PruneReport;
import dev.tamp.pruning.Pruner;
import dev.tamp.runtime.calib.CalibrationSource;
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

@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"N:M semi-structured pruning (2:4 by default: 2 kept of every 4 consecutive input channels) of the linear "
                + "layers, stored in the canonical 2:4 form (kept values plus 2-bit positions) that the 2:4 kernel runs directly.",
                "magnitude: keep the largest |W|. wanda: keep the largest |W|·‖X_j‖₂ (calibration activation norms). "
                + "sparsegpt: OBS — the mask from w²/[H⁻¹]_jj² chosen column group by column group, the remaining weights updated "
                + "through the inverse Hessian H = XᵀX + λ·mean(diag)·I in blocks of columns.",
                "Block by block, each block calibrated on the outputs of the already-pruned earlier blocks (--propagate fp: the "
                + "FP32 model's). Embeddings, pooler and lm_head are never pruned. --weights int8|int4 then rounds the kept "
                + "values to symmetric integers (RTN; --group counts dense input channels)."},
        footer = {"", "Examples:", "  tamp prune minilm --method sparsegpt -o minilm-24.tpk",
                "  tamp prune minilm --method wanda --samples 64 --ignore '*layer.5*' --json -o minilm-24-wanda.tpk",
                "  tamp prune bge --method sparsegpt --weights int4 --group 128 -o bge-24-w4.tpk"})
public final class PruneCommand implements Callable<Integer> {
    enum Method { magnitude, wanda, sparsegpt }

    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = "--method", required = true, description = "magnitude, wanda or sparsegpt.") Method method;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk", description = "The pack to write (atomically: a temporary file renamed into place).") Path output;

    @Option(names = "--pattern", defaultValue = "2:4", paramLabel = "N:M",
            description = "Keep N of every M consecutive input channels (default: ${DEFAULT-VALUE}); patterns keeping more than "
                    + "2 of 4 are stored dense with zeros.")
    String pattern;

    @Option(names = "--dampening", defaultValue = "0.01", description = "sparsegpt: λ, relative to mean(diag H) (default: ${DEFAULT-VALUE}).")
    double dampening;

    @Option(names = "--block-size", defaultValue = "128", description = "sparsegpt: columns per lazy-update block (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--weights", paramLabel = "int8|int4", description = "Round the kept values to symmetric integers (RTN).")
    String weights;

    @Option(names = "--group", description = "--weights group size in dense input channels, a multiple of 4; 0 = per row "
            + "(default: 128 for int4, 0 for int8).")
    Integer group;

    @Option(names = "--propagate", defaultValue = "compressed",
            description = "Calibrate each block on the outputs of the pruned earlier blocks (compressed) or of the FP32 model (fp) "
                    + "(default: ${DEFAULT-VALUE}).")
    String propagate;

    @Mixin IgnoreOptions ignore;

    @Option(names = "--data", paramLabel = "FILE|DIR", description = "Calibration text (default: the bundled corpus).")
    Path data;

    @Option(names = "--samples", defaultValue = "128", description = "Calibration sentences or sequences (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seq-len", defaultValue = "128", description = "Max tokens per calibration sample (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the calibration sample (default: ${DEFAULT-VALUE}).") long seed;

    @Mixin RuntimeOptions rt;

    @Option(names = "--json", description = "Print the per-layer report as one JSON document.") boolean json;

    @Mixin OutputCheck check;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        NmPattern p = NmPattern.parse(pattern);
        int bits = switch (weights == null ? "" : weights) {
            case "" -> 0;
            case "int8" -> 8;
            case "int4" -> 4;
            default -> throw new BadInputException("--weights must be int8 or int4, not " + weights);
        };
        int g = group != null ? group : bits == 4 ? 128 : 0;
        PruneOptions.Propagation prop = switch (propagate) {
            case "fp" -> PruneOptions.Propagation.FP;
            case "compressed" -> PruneOptions.Propagation.COMPRESSED;
            default -> throw new BadInputException("--propagate must be fp or compressed, not " + propagate);
        };
        if (samples < 1) throw new BadInputException("--samples must be ≥ 1, not " + samples);
        PruneMethod m = PruneMethod.valueOf(method.name().toUpperCase(Locale.ROOT));
        PruneOptions o;
        try {
            o = new PruneOptions(m, p, dampening, blockSize, bits, g, prop, ignore.patterns);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        CalibrationSource source = CalibrationRunner.source(lm, Backends.of(rt.backend), data, samples, seqLen, seed, rt.batchSize, progress);
        PruneReport r = Pruner.prune(lm.model, source, o, progress);
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("method", m.cliName());
        opts.put("pattern", p.toString());
        if (m == PruneMethod.SPARSEGPT) {
            opts.put("dampening", Double.toString(dampening));
            opts.put("block_size", Integer.toString(blockSize));
        }
        opts.put("weights", bits == 0 ? "f32" : "int" + bits + "-sym");
        if (bits != 0) opts.put("group", Integer.toString(g));
        opts.put("propagate", propagate);
        opts.put("samples", Integer.toString(samples));
        opts.put("seq_len", Integer.toString(seqLen));
        opts.put("seed", Long.toString(seed));
        opts.put("ignore", String.join(",", ignore.patterns));
        TpkModelWriter.write(r.model().withStep(Provenance.step("prune", opts)), output);
        OutputCheck.Outcome checked = check.after(lm, model, output, progress, spec.commandLine().getErr());
        PruneReportPrinter.print(r, output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }
}
