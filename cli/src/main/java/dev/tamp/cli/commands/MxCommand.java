package dev.tamp.cli.commands;

import dev.tamp.cli.report.QuantReportPrinter;
import dev.tamp.cli.support.IgnoreOptions;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.MxFormatConverter;
import dev.tamp.cli.support.OutputCheck;
import dev.tamp.cli.support.Provenance;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.WeightReader;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.mx.MxOptions;
import dev.tamp.quantizers.mx.MxQuantizer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "mx", mixinStandardHelpOptions = true,
        description = {"Quantize the linear weights to an OCP MX microscaling format (or the MXINT6/MXINT4 Slice-and-Scale "
                + "targets): one E8M0 scale per block of 32 values along the input dimension, elements rounded to nearest-even.",
                "Formats: mxint8, mxfp8 (E4M3), mxfp8-e5m2, mxfp6 (E3M2), mxfp6-e2m3, mxfp4 (E2M1), mxint6, mxint4. An mxint8 or mxfp8 "
                + "output is an anchor for `tamp mx-slice` and `tamp run --as`."},
        footer = {"", "Examples:", "  tamp mx minilm --format mxfp4 -o minilm-mxfp4.tpk",
                "  tamp mx bge --format mxint8 --ignore 'pooler*' -o bge-anchor.tpk", "  tamp mx stories260k --format mxfp8 --json -o s.tpk"})
public final class MxCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = "--format", required = true, converter = MxFormatConverter.class, paramLabel = "FORMAT", description = "mxint8, mxfp8 (e4m3), mxfp8-e5m2, mxfp6 (e3m2), mxfp6-e2m3, mxfp4, mxint6 or mxint4.") MxFormat format;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk", description = "The pack to write (atomically: a temporary file renamed into place).") Path output;

    @Option(names = "--block-size", defaultValue = "32", description = "Values per shared scale (default: ${DEFAULT-VALUE}).")
    int blockSize;

    @Option(names = "--mx-scale", defaultValue = "floor", description = "Scale rule: floor (OCP), even, rceil (default: ${DEFAULT-VALUE}).")
    ScaleRule scaleRule;

    @Mixin IgnoreOptions ignore;

    @Option(names = "--json", description = "Print the per-layer report as one JSON document.") boolean json;

    @Mixin OutputCheck check;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, null, progress);
        // streamed: each weight is read, quantized and written in turn, so memory holds one layer
        LinearWeightRewriter.Streamed streamed = MxQuantizer.stream(lm.model, new MxOptions(format, blockSize, scaleRule, ignore.patterns),
                progress, WeightReader.of(lm.model, lm.path));
        Map<String, String> opts = new LinkedHashMap<>();
        opts.put("format", format.cliName());
        opts.put("block_size", Integer.toString(blockSize));
        opts.put("mx_scale", scaleRule.name().toLowerCase());
        opts.put("mx_rounding", "rne");
        opts.put("ignore", String.join(",", ignore.patterns));
        TpkModelWriter.writeStreaming(lm.model.withStep(Provenance.step("mx", opts)), streamed.weights(), output);
        OutputCheck.Outcome checked = check.after(lm, model, output, progress, spec.commandLine().getErr());
        QuantReportPrinter.print(streamed.report(), output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }
}
