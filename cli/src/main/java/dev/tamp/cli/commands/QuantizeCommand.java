package dev.tamp.cli.commands;

import dev.tamp.cli.Provenance;
import dev.tamp.cli.report.QuantReportPrinter;
import dev.tamp.cli.support.LoadedModel;
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
                "smoothquant (W8A8) and awq (W4A16) are not available in this build yet."},
        footer = {"", "Examples:", "  tamp quantize minilm --method rtn --bits 8 -o minilm-w8.tpk",
                "  tamp quantize bge --method rtn --bits 4 --group 128 --ignore 'pooler*' -o bge-w4g128.tpk",
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

    @Option(names = "--json", description = "Print the per-layer report as one JSON document.") boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (method != Method.rtn) {
            throw new UnsupportedModelException("--method " + method + " is not available in this build yet (rtn is)");
        }
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
}
