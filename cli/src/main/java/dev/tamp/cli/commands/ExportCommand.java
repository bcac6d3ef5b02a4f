package dev.tamp.cli.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.export.ExportedTensor;
import dev.tamp.cli.export.GgufExport;
import dev.tamp.cli.export.GgufVocab;
import dev.tamp.cli.export.OnnxExport;
import dev.tamp.cli.export.SafetensorsExport;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a model or pack for other runtimes: ONNX (ONNX Runtime), safetensors (+ compressed-tensors "
                + "metadata for vLLM-style loaders) or GGUF (llama.cpp, Llama-family models).",
                "Quantized weights keep their codes where the target has an exact form; anything else is decoded "
                + "(or re-quantized for GGUF) and the report says so per tensor. Output is written atomically and "
                + "identical inputs give identical bytes.",
                "The model's tokenizer goes beside the output when it has one: OUT-stem-tokenizer.json for ONNX (where tamp "
                + "and the langchain4j layout look for it), tokenizer.json for safetensors (the Hugging Face layout)."},
        footer = {"", "Examples:",
                "  tamp export w8.tpk --to onnx --onnx-weights qdq -o minilm-w8.onnx   (minilm-w8-tokenizer.json beside it)",
                "  tamp export w4.tpk --to onnx --onnx-weights nbits -o minilm-w4.onnx --json",
                "  tamp export w4.tpk --to safetensors -o out/model.safetensors   (config.json, tokenizer.json beside it)",
                "  tamp export stories-q8.tpk --to gguf -o stories.gguf"})
public final class ExportCommand implements Callable<Integer> {
    public enum Target { ONNX, GGUF, SAFETENSORS }

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model path, .tpk pack or bundled name.")
    String model;

    @Option(names = "--to", required = true, paramLabel = "FORMAT", description = "onnx, gguf or safetensors.")
    Target to;

    @Option(names = "--onnx-weights", defaultValue = "qdq", paramLabel = "MODE",
            description = "ONNX weights: fp32 (all decoded), qdq (DequantizeLinear) or nbits (com.microsoft.MatMulNBits "
                    + "for 4-bit, QDQ for the rest). Default: ${DEFAULT-VALUE}.")
    OnnxExport.Weights onnxWeights;

    @Option(names = "--safetensors-dtype", defaultValue = "f32", paramLabel = "DTYPE",
            description = "safetensors: f32 or f16 for decoded weights (quantized ones keep their codes). Default: ${DEFAULT-VALUE}.")
    SafetensorsExport.FloatType floatType;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT", description = "Output file.")
    Path output;

    @Option(names = "--gguf-embeddings", paramLabel = "TYPE", description = "GGUF: quantize a float token embedding to q8_0 or q4_0 "
            + "with ggml's reference rules, as llama.cpp's quantize does for those types (also the head when it is tied); default: keep it "
            + "as the model stores it.")
    String ggufEmbeddings;

    @Option(names = "--json", description = "Print the per-tensor report as one JSON document.")
    boolean json;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, null, progress);
        GgufVocab.Written vocab = null; // the GGUF export's tokenizer.ggml.*, reported beside the tensors
        List<ExportedTensor> lines = switch (to) {
            case ONNX -> OnnxExport.write(lm.model, onnxWeights, output);
            case SAFETENSORS -> SafetensorsExport.write(lm.model, floatType, output);
            case GGUF -> {
                GgufExport.Result r = GgufExport.write(lm.model, output, embeddingType());
                vocab = r.vocab();
                yield r.lines();
            }
        };
        progress.info("wrote " + output);
        Path tokenizer = tokenizerBeside(lm.model, output);
        if (tokenizer != null) progress.info("wrote " + tokenizer);
        print(lines, tokenizer, vocab);
        return 0;
    }

    private dev.tamp.formats.gguf.GgmlType embeddingType() {
        if (ggufEmbeddings == null || ggufEmbeddings.equalsIgnoreCase("keep")) return null;
        if (to != Target.GGUF) throw new dev.tamp.core.error.BadInputException("--gguf-embeddings applies to --to gguf");
        return switch (ggufEmbeddings.toLowerCase(Locale.ROOT)) {
            case "q8_0" -> dev.tamp.formats.gguf.GgmlType.Q8_0;
            case "q4_0" -> dev.tamp.formats.gguf.GgmlType.Q4_0;
            default -> throw new dev.tamp.core.error.BadInputException("--gguf-embeddings " + ggufEmbeddings + ": expected keep, q8_0 or q4_0");
        };
    }

    /** Writes the model's tokenizer beside the export; returns where, or null (GGUF carries its vocabulary inside; a model may have none). */
    private Path tokenizerBeside(dev.tamp.core.ir.Model m, Path out) {
        if (m.tokenizerJson() == null || to == Target.GGUF) return null;
        Path abs = out.toAbsolutePath();
        String stem = abs.getFileName().toString().replaceFirst("\\.[^.]+$", "");
        Path t = to == Target.ONNX ? abs.resolveSibling(stem + "-tokenizer.json") : abs.resolveSibling("tokenizer.json");
        byte[] bytes = m.tokenizerJson();
        dev.tamp.formats.io.AtomicFiles.writeStream(t, o -> o.write(bytes));
        return t;
    }

    private void print(List<ExportedTensor> lines, Path tokenizer, GgufVocab.Written vocab) {
        PrintWriter out = spec.commandLine().getOut();
        String target = to.name().toLowerCase(Locale.ROOT);
        if (json) {
            ObjectNode o = Json.object();
            o.put("format", target);
            o.put("output", output.toString());
            if (to == Target.ONNX) o.put("onnx_weights", onnxWeights.name().toLowerCase(Locale.ROOT));
            if (tokenizer != null) o.put("tokenizer", tokenizer.toString());
            if (vocab != null) {
                ObjectNode v = o.putObject("gguf_vocab");
                v.put("model", vocab.model());
                v.put("tokens", vocab.tokens());
                v.put("merges", vocab.merges());
                if (vocab.note() != null) v.put("note", vocab.note());
            }
            ArrayNode a = o.putArray("tensors");
            for (ExportedTensor l : lines) {
                ObjectNode t = a.addObject();
                t.put("name", l.tensor());
                t.put("encoding", l.encoding());
                t.put("exported_as", l.exportedAs());
                if (l.note() != null) t.put("note", l.note());
            }
            out.println(Json.pretty(o));
        } else {
            out.printf(Locale.ROOT, "%s: %s (%d encoded tensors)%n", target, output, lines.size());
            if (vocab != null) {
                out.printf(Locale.ROOT, "  vocabulary: tokenizer.ggml.model %s, %d tokens, %d merges%s%n", vocab.model(), vocab.tokens(),
                        vocab.merges(), vocab.note() == null ? "" : "  (" + vocab.note() + ")");
            }
            for (ExportedTensor l : lines) {
                out.printf(Locale.ROOT, "  %-48s %-18s -> %s%s%n", l.tensor(), l.encoding(), l.exportedAs(),
                        l.note() == null ? "" : "  (" + l.note() + ")");
            }
        }
        out.flush();
    }
}
