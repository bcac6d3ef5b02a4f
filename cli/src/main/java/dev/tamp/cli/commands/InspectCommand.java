package dev.tamp.cli.commands;

import dev.tamp.cli.report.InspectReport;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.ModelLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Describe a checkpoint: format, architecture guess, parameter count, bytes by dtype or "
                + "encoding, op histogram (graphs) and the largest tensors.",
                "MODEL is a path (ONNX, safetensors file or directory, PyTorch .bin/.pt, GGUF, llama2.c .bin, .tpk) "
                + "or a bundled name: minilm, bge, stories260k."},
        footer = {"", "Examples:", "  tamp inspect minilm", "  tamp inspect stories260k --json | jq .config",
                "  tamp inspect out/minilm-awq.tpk --top 20"})
public final class InspectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Model path or bundled name.")
    String model;

    @Option(names = "--json", description = "Print one JSON document on stdout instead of the text report.")
    boolean json;

    @Option(names = "--top", defaultValue = "10", description = "Rows in the largest-tensors table (default: ${DEFAULT-VALUE}).")
    int top;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Path path = ModelLoader.resolve(model);
        Model m = ModelLoader.load(path, StderrProgress.forStderr());
        InspectReport report = InspectReport.of(m, path);
        if (json) {
            spec.commandLine().getOut().println(Json.pretty(report.toJson()));
        } else {
            spec.commandLine().getOut().print(report.toText(top));
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
