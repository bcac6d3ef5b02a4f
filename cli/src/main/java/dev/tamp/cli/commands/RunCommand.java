package dev.tamp.cli.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.RuntimeOptions;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.formats.io.AtomicFiles;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.pipeline.Pooling;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
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
                "  tamp run stories260k --max-new-tokens 40 --seed 7 --temperature 0.8",
                "  tamp run model.gguf --tokens 1,450,22 --logits -o logits.f32   (float32 [3][vocab], little-endian)"})
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

    @Option(names = "--logits", description = "Decoder: instead of generating, the next-token logits at every position of "
            + "--tokens: a float32 little-endian file [tokens][vocab] with -o, {\"shape\": [tokens, vocab], \"logits\": ...} with --json, "
            + "else the top 5 per position.")
    boolean logits;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "With --logits: write them here (float32, atomically).")
    Path output;

    @Option(names = "--json", description = "Print one JSON document ({\"embeddings\": ...}, {\"tokens\": ...} or {\"logits\": ...}).")
    boolean json;

    @Mixin RuntimeOptions rt;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    private int printLogits(LoadedModel lm, Backend b, long[] tokens, PrintWriter out) {
        if (lm.model.config().get("vocab_size") instanceof Number v) {
            for (long t : tokens) {
                if (t < 0 || t >= v.longValue()) throw new BadInputException(model + ": token id " + t + " is outside the vocabulary (0.." + (v.longValue() - 1) + ")");
            }
        }
        float[][] rows;
        try (Generator g = new Generator(lm.runnable(), b)) {
            rows = g.logits(new long[][] {tokens}, ExecutionListener.NONE)[0];
        }
        int vocab = rows[0].length;
        if (output != null) {
            AtomicFiles.writeStream(output, os -> {
                ByteBuffer buf = ByteBuffer.allocate(vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float[] row : rows) {
                    buf.clear();
                    buf.asFloatBuffer().put(row);
                    os.write(buf.array());
                }
            });
        }
        if (json) {
            ObjectNode o = Json.object();
            o.putArray("shape").add(rows.length).add(vocab);
            if (output != null) o.put("file", output.toString());
            else {
                ArrayNode all = o.putArray("logits");
                for (float[] row : rows) {
                    ArrayNode r = all.addArray();
                    for (float v : row) r.add(v);
                }
            }
            out.println(Json.pretty(o));
        } else if (output != null) {
            out.printf(Locale.ROOT, "logits [%d][%d] float32 -> %s%n", rows.length, vocab, output);
        } else {
            for (int t = 0; t < rows.length; t++) {
                StringBuilder sb = new StringBuilder();
                for (int id : topK(rows[t], 5)) sb.append(String.format(Locale.ROOT, "  %d:%.4f", id, rows[t][id]));
                out.printf(Locale.ROOT, "after %d (position %d):%s%n", tokens[t], t, sb);
            }
        }
        out.flush();
        return 0;
    }

    private static int[] topK(float[] x, int k) {
        Integer[] ids = new Integer[x.length];
        for (int i = 0; i < ids.length; i++) ids[i] = i;
        Arrays.sort(ids, (a, c) -> Float.compare(x[c], x[a]) != 0 ? Float.compare(x[c], x[a]) : Integer.compare(a, c));
        int[] out = new int[Math.min(k, x.length)];
        for (int i = 0; i < out.length; i++) out[i] = ids[i];
        return out;
    }

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        LoadedModel lm = LoadedModel.load(model, rt.tokenizer, progress);
        if (as != null) lm = lm.with(dev.tamp.quantizers.mx.MxSlicer.slice(lm.model, as, progress).model());
        Backend b = Backends.of(rt.backend);
        if (rt.backend == null || rt.backend.equals("java")) progress.info("kernels: " + dev.tamp.runtime.kernels.LinearKernels.describe());
        PrintWriter out = spec.commandLine().getOut();
        if ((logits || output != null) && !lm.isDecoder()) {
            throw new BadInputException(model + ": --logits and -o are for decoders; this model is an encoder (its output is an embedding)");
        }
        if (output != null && !logits) throw new BadInputException("-o " + output + " needs --logits (generation prints token ids)");
        if (lm.isDecoder()) {
            long[] p = prompt == null || prompt.length == 0 ? new long[] {1} : prompt;
            if (logits) return printLogits(lm, b, p, out);
            long[] seq;
            try (Generator g = new Generator(lm.runnable(), b)) {
                seq = g.generate(p, newTokens, temperature, seed);
                if (g.lastTimings() != null) progress.info(g.lastTimings().describe());
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
