package dev.tamp.cli.commands;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.support.Provenance;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.WeightReader;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert any supported checkpoint to a .tpk pack with the weights unchanged.",
                "The pack carries the graph (when the source has one), the tokenizer and the provenance, so it "
                + "runs alone. Identical inputs give byte-identical packs."},
        footer = {"", "Examples:", "  tamp convert minilm -o minilm.tpk",
                "  tamp convert ./llama-dir -o llama.tpk", "  tamp convert stories260k -o stories.tpk"})
public final class ConvertCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Model path or bundled name.")
    String model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.tpk", description = "Output pack.")
    Path output;

    @Option(names = "--json", description = "Print {output, source_format, tensors, bytes} as one JSON document on stdout.")
    boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Path path = ModelLoader.resolve(model);
        StderrProgress progress = StderrProgress.forStderr();
        Model m = ModelLoader.load(path, progress);
        String sourceFormat = m.format().id();
        Model loaded = m;
        m = dev.tamp.cli.support.LoadedModel.withSentenceTransformersPooling(Provenance.recordSource(m, path), path)
                .withStep(Provenance.step("convert", Map.of()));
        // streamed: each tensor is read and written in turn, so memory holds one tensor
        java.util.function.Function<String, dev.tamp.core.encoding.EncodedTensor> read = WeightReader.of(loaded, path);
        Iterable<Map.Entry<String, dev.tamp.core.encoding.EncodedTensor>> weights = () -> loaded.weights().keySet().stream()
                .map(name -> Map.entry(name, read.apply(name))).iterator();
        TpkModelWriter.writeStreaming(m, weights, output);
        progress.info("wrote " + output + " (" + m.weights().size() + " tensors)");
        if (json) {
            ObjectNode o = Json.object();
            o.put("output", output.toString());
            o.put("source_format", sourceFormat);
            o.put("tensors", m.weights().size());
            o.put("bytes", output.toFile().length());
            spec.commandLine().getOut().println(Json.pretty(o));
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
