package dev.tamp.cli.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.pipeline.Pooling;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import dev.tamp.cli.support.RuntimeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a model: sentence embeddings for encoders (L2-normalised, pooled as sentence-transformers does: "
                + "mean for MiniLM, [CLS] for BGE), generated token ids for decoders.",
                "Input: --text (repeatable) or --input FILE (one text per line)."},
        footer = {"", "Examples:", "  tamp run minilm --text \"The cat sat on the mat.\" --json",
                "  tamp run bge --input sentences.txt --json > embeddings.json",
                "  tamp run stories260k --max-new-tokens 40 --seed 7 --temperature 0.8"})
public final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "Model path or bundled name.")
    String model;

    @Option(names = "--text", paramLabel = "TEXT", description = "A text to embed (repeatable).")
    List<String> texts = new ArrayList<>();

    @Option(names = "--input", paramLabel = "FILE", description = "A file with one text per line.")
    Path input;

    @Option(names = "--pooling", paramLabel = "MODE", description = "mean or cls (default: the model's own).")
    Pooling pooling;

    @Option(names = "--max-length", defaultValue = "0", description = "Truncate texts to this many tokens (default: the tokenizer's).")
    int maxLength;

    @Option(names = "--tokens", split = ",", paramLabel = "ID", description = "Decoder prompt token ids (default: 1, the BOS id).")
    long[] prompt;

    @Option(names = "--max-new-tokens", defaultValue = "32", description = "Decoder: tokens to generate (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "Decoder: 0 = greedy, else sampling temperature.")
    double temperature;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--as", converter = dev.tamp.cli.support.MxFormatConverter.class, paramLabel = "FORMAT",
            description = "Run an MX anchor pack as another MX format, converted in memory at load time (Slice-and-Scale).")
    dev.tamp.core.encoding.MxFormat as;

    @Option(names = "--json", description = "Print one JSON document ({\"embeddings\": ...} or {\"tokens\": ...}).")
    boolean json;

    @Mixin RuntimeOptions rt;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        if (as != null) lm = lm.with(dev.tamp.quantizers.mx.MxSlicer.slice(lm.model, as, progress).model());
        Backend b = Backends.of(rt.backend);
        PrintWriter out = spec.commandLine().getOut();
        if (lm.isDecoder()) {
            long[] p = prompt == null || prompt.length == 0 ? new long[] {1} : prompt;
            long[] seq;
            try (Generator g = new Generator(lm.runnable(), b)) {
                seq = g.generate(p, newTokens, temperature, seed);
            }
            if (json) {
                ObjectNode o = Json.object();
                ArrayNode row = o.putArray("tokens").addArray();
                for (long t : seq) row.add(t);
                out.println(Json.pretty(o));
            } else {
                out.println(Arrays.toString(seq));
            }
            out.flush();
            return 0;
        }
        List<String> all = new ArrayList<>(texts);
        if (input != null) {
            try {
                for (String line : Files.readAllLines(input, StandardCharsets.UTF_8)) if (!line.isBlank()) all.add(line);
            } catch (IOException e) {
                throw BadInputException.inFile(input, "cannot read: " + e.getMessage(), e);
            }
        }
        if (all.isEmpty()) throw new BadInputException("nothing to embed: give --text or --input");
        Pooling pool = pooling != null ? pooling : Pooling.forModel(lm.model);
        float[][] emb;
        try (Embedder e = new Embedder(lm.runnable(), b, lm.tokenizer(), pool, maxLength)) {
            emb = e.embed(all, rt.batchSize, ExecutionListener.NONE);
        }
        if (json) {
            ObjectNode o = Json.object();
            ArrayNode rows = o.putArray("embeddings");
            for (float[] e : emb) {
                ArrayNode r = rows.addArray();
                for (float v : e) r.add(v);
            }
            out.println(Json.pretty(o));
        } else {
            for (int i = 0; i < emb.length; i++) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0; k < Math.min(6, emb[i].length); k++) sb.append(String.format(Locale.ROOT, "%8.4f", emb[i][k]));
                out.printf(Locale.ROOT, "%s ... (%d dims, %s pooling)  %s%n", sb, emb[i].length, pool.name().toLowerCase(Locale.ROOT),
                        all.get(i).length() > 40 ? all.get(i).substring(0, 40) + "…" : all.get(i));
            }
        }
        out.flush();
        return 0;
    }
}
