package dev.tamp.cli.commands;

import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.CalibrationRunner;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.runtime.calib.BlockwiseCalibration;
import dev.tamp.runtime.calib.CalibrationSource;
import java.util.Map;
import dev.tamp.runtime.calib.StatsFile;
import dev.tamp.runtime.exec.Backend;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.json.Json;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import dev.tamp.cli.support.RuntimeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Collect calibration statistics once, for every method: per-input-channel absmax, mean |x| and norms, "
                + "and the XᵀX Gram matrix (float64) of every linear layer's input, padding excluded.",
                "Text comes from the bundled public-domain corpora (calibration split; the held-out split is never used) "
                + "or --data FILE|DIR (.txt, .jsonl with a \"text\" field). Decoders without a rt.tokenizer are calibrated on "
                + "sequences sampled from the model itself."},
        footer = {"", "Examples:", "  tamp calibrate minilm -o minilm.stats", "  tamp calibrate bge --samples 1024 --data my-corpus/ -o bge.stats",
                "  tamp calibrate stories260k --samples 64 --seq-len 128 -o stories.stats"})
public final class CalibrateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "STATS", description = "The statistics file to write (read by quantize/compot/prune --stats).") Path output;

    @Option(names = "--data", paramLabel = "FILE|DIR", description = "Calibration text instead of the bundled corpora.")
    Path data;

    @Option(names = "--samples", defaultValue = "512", description = "Sentences or sequences (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seq-len", defaultValue = "128", description = "Max tokens per sample (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the sample of calibration texts (default: ${DEFAULT-VALUE}).") long seed;

    @Option(names = "--no-gram", description = "Skip the XᵀX matrices (only AWQ/SmoothQuant/Wanda statistics).")
    boolean noGram;

    @Option(names = "--json", description = "Print {output, linear_inputs, tokens, samples} as one JSON document on stdout.")
    boolean json;

    @Mixin RuntimeOptions rt;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        Backend b = Backends.of(rt.backend);
        CalibrationSource source = CalibrationRunner.source(lm, b, data, samples, seqLen, seed, rt.batchSize, progress);
        Map<String, String> info = source.info();
        info.put("model_sha256", lm.model.provenance().isEmpty() ? "" : lm.model.provenance().get(0).options().getOrDefault("sha256", ""));
        int[] inputs = {0};
        try (StatsFile.Streaming out = new StatsFile.Streaming(output)) {
            BlockwiseCalibration.collect(lm.runnable(), source, l -> true, !noGram, 0, block -> {
                out.add(block);
                inputs[0] += block.byInput().size();
            }, progress);
            out.finish(info);
        }
        progress.info("wrote " + output + " (" + inputs[0] + " linear inputs, " + info.get("tokens") + " tokens)");
        if (json) {
            ObjectNode o = Json.object();
            o.put("output", output.toString());
            o.put("linear_inputs", inputs[0]);
            o.put("tokens", Long.parseLong(info.getOrDefault("tokens", "0")));
            o.put("samples", samples);
            spec.commandLine().getOut().println(Json.pretty(o));
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
