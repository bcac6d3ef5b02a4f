package dev.tamp.cli.commands;

import dev.tamp.cli.report.QuantReportPrinter;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.MxFormatConverter;
import dev.tamp.cli.support.OutputCheck;
import dev.tamp.cli.support.Provenance;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.codec.SliceAndScale;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.mx.MxSlicer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "mx-slice", mixinStandardHelpOptions = true,
        description = {"Slice-and-Scale (MF-QAT, arXiv 2604.00529): convert an MXINT8 or MXFP8 anchor pack to a lower MX format "
                + "from its codes and scales alone, without the FP32 weights. MXINT targets keep the anchor's scales and drop low "
                + "bits (round-half-to-even); MXFP targets are re-encoded from the exactly decoded anchor with re-based scales."},
        footer = {"", "Examples:", "  tamp mx minilm --format mxint8 -o anchor.tpk && tamp mx-slice anchor.tpk --to mxint4 -o minilm-mxint4.tpk",
                "  tamp mx-slice anchor-fp8.tpk --to mxfp4 -o minilm-mxfp4.tpk"})
public final class MxSliceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ANCHOR.tpk") String anchor;

    @Option(names = "--to", required = true, converter = MxFormatConverter.class, paramLabel = "FORMAT", description = "The lower MX format: mxint6 or mxint4 from an MXINT8 anchor; mxfp6, mxfp6-e2m3 or mxfp4 from an MXFP8 anchor.") MxFormat to;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk", description = "The pack to write (atomically: a temporary file renamed into place).") Path output;

    @Option(names = "--json", description = "Print the report as one JSON document on stdout.") boolean json;

    @Mixin OutputCheck check;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(anchor, null, progress);
        QuantReport r = MxSlicer.slice(lm.model, to, progress);
        TpkModelWriter.write(r.model().withStep(Provenance.step("mx-slice", Map.of("to", to.cliName(), "rule", SliceAndScale.RULE))), output);
        OutputCheck.Outcome checked = check.after(lm, anchor, output, progress, spec.commandLine().getErr());
        QuantReportPrinter.print(r, output.toString(), json, spec.commandLine().getOut(), checked);
        return 0;
    }
}
