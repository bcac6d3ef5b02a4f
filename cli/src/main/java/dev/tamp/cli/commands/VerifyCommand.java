package dev.tamp.cli.commands;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.cli.support.RuntimeOptions;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.ThresholdNotMetException;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.ProcessStats;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.runtime.eval.DecoderEvaluation;
import dev.tamp.runtime.eval.DecoderMetrics;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.eval.EncoderEvaluation;
import dev.tamp.runtime.eval.LayerErrors;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Run a candidate (e.g. a compressed .tpk) and its reference on the same held-out inputs, on one or "
                + "several backends, and check accuracy thresholds: exit 1 when one is not met (for CI).",
                "Encoders: cosine to the reference's embeddings (mean/min) on held-out sentences (bundled, or --eval FILE with "
                + "one text per line) and KJV→WEB Recall@1. Decoders: KL(reference‖candidate), top-1 agreement and perplexity on "
                + "sequences sampled from the reference. Per backend: the metrics, latency per item and peak RSS; with several "
                + "backends, the largest difference between their candidate outputs. The reference runs on the java backend."},
        footer = {"", "Examples:", "  tamp verify minilm-w4.tpk --reference minilm --min-cosine 0.95 --min-recall 0.94",
                "  tamp verify minilm-w8a8.tpk --reference minilm --backend java,torch --json",
                "  tamp verify stories-w4.tpk --reference stories260k --max-kl 0.5 --max-ppl-increase 0.2",
                "  tamp verify llama-w4.tpk --reference llama-f32.gguf --compare llama-Q4_K_M.gguf   (llama.cpp's quantization, same inputs)"})
public final class VerifyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CANDIDATE") String candidate;

    @Option(names = "--reference", required = true, paramLabel = "REF", description = "The reference model (e.g. the FP32 original).")
    String reference;

    @Option(names = "--eval", paramLabel = "FILE", description = "Held-out texts, one per line, instead of the bundled ones (encoders).")
    Path evalFile;

    @Option(names = "--sentences", defaultValue = "256", description = "Held-out sentences for cosine (default: ${DEFAULT-VALUE}).")
    int sentences;

    @Option(names = "--pairs", defaultValue = "500", description = "Retrieval queries for Recall@1; 0 skips it (default: ${DEFAULT-VALUE}).")
    int pairs;

    @Option(names = "--sequences", defaultValue = "16", description = "Decoder: sampled sequences (default: ${DEFAULT-VALUE}).")
    int sequences;

    @Option(names = "--seq-len", defaultValue = "64", description = "Decoder: tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the held-out sample and decoder sampling (default: ${DEFAULT-VALUE}).") long seed;

    @Option(names = "--min-cosine", description = "Fail when the mean embedding cosine to the reference is below this.") Double minCosine;

    @Option(names = "--min-recall", description = "Fail when Recall@1 is below this.") Double minRecall;

    @Option(names = "--max-kl", description = "Decoders: fail when the mean KL(reference‖candidate) is above this.") Double maxKl;

    @Option(names = "--max-ppl-increase", description = "Decoders: fail when perplexity / reference perplexity − 1 is above this.")
    Double maxPplIncrease;

    @Option(names = "--layers", description = "Also report each linear layer's output error ‖y − y_ref‖/‖y_ref‖ against the reference "
            + "(java backend; 16 held-out sentences or 4 sequences), to see where the error comes from.")
    boolean layers;

    @Option(names = "--compare", paramLabel = "MODEL", description = "Also measure this model (repeatable; e.g. a llama.cpp Q4_K_M GGUF "
            + "of the same checkpoint) against the reference on the same inputs, java backend, reported beside the candidate; "
            + "thresholds apply to the candidate only.")
    List<String> compare = new ArrayList<>();

    @Option(names = "--json", description = "Print one JSON report.") boolean json;

    @Mixin RuntimeOptions rt;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        List<String> backends = List.of((rt.backend == null ? "java" : rt.backend).split(","));
        LoadedModel cand = LoadedModel.load(candidate, rt.tokenizer, progress);
        LoadedModel ref = LoadedModel.load(reference, rt.tokenizer, progress);
        likeWithLike(candidate, cand, ref);
        List<ObjectNode> compared = new ArrayList<>();
        if (cand.isDecoder() && (minCosine != null || minRecall != null)) throw new BadInputException("--min-cosine/--min-recall apply to encoders");
        if (!cand.isDecoder() && (maxKl != null || maxPplIncrease != null)) throw new BadInputException("--max-kl/--max-ppl-increase apply to decoders");
        Backend java = Backends.of("java");
        progress.info("kernels: " + dev.tamp.runtime.kernels.LinearKernels.describe());
        List<ObjectNode> perBackend = new ArrayList<>();
        List<float[][]> outputs = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        if (cand.isDecoder()) {
            long[][] seqs;
            try (Generator r = new Generator(ref.runnable(), java)) {
                seqs = DecoderEvaluation.sample(r, sequences, seqLen, seed);
                for (String name : backends) {
                    progress.info("verify on " + name);
                    try (Generator c = new Generator(cand.runnable(), Backends.of(name))) {
                        long t0 = System.nanoTime();
                        DecoderMetrics m = DecoderEvaluation.compare(r, c, seqs);
                        double ms = (System.nanoTime() - t0) / 1e6;
                        perBackend.add(decoderRow(name, m, ms / seqs.length));
                        double increase = m.candidatePerplexity() / m.referencePerplexity() - 1;
                        check(failures, name, "kl", m.meanKl(), maxKl, false);
                        check(failures, name, "perplexity increase", increase, maxPplIncrease, false);
                    }
                }
                for (String other : compare) {
                    progress.info("verify " + other + " (compared)");
                    LoadedModel om = LoadedModel.load(other, rt.tokenizer, progress);
                    likeWithLike(other, om, ref);
                    try (Generator c = new Generator(om.runnable(), java)) {
                        long t0 = System.nanoTime();
                        DecoderMetrics m = DecoderEvaluation.compare(r, c, seqs);
                        compared.add(decoderRow(other, m, (System.nanoTime() - t0) / 1e6 / seqs.length));
                    }
                }
            }
        } else {
            List<String> held = evalFile != null ? readLines(evalFile) : EncoderEvaluation.heldOutSentences(sentences, seed);
            float[][] want;
            try (Embedder re = new Embedder(ref.runnable(), java, ref.tokenizer(), Pooling.forModel(ref.model), 0)) {
                want = re.embed(held, rt.batchSize, ExecutionListener.NONE);
            }
            for (String name : backends) {
                progress.info("verify on " + name);
                try (Embedder e = new Embedder(cand.runnable(), Backends.of(name), cand.tokenizer(), Pooling.forModel(cand.model), 0)) {
                    long t0 = System.nanoTime();
                    float[][] got = e.embed(held, rt.batchSize, ExecutionListener.NONE);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    outputs.add(got);
                    EmbeddingMetrics.CosineStats cs = EmbeddingMetrics.cosineStats(got, want);
                    ObjectNode o = cosineRow(name, cs);
                    check(failures, name, "mean cosine", cs.mean(), minCosine, true);
                    if (pairs > 0) {
                        EmbeddingMetrics.Retrieval rr = EncoderEvaluation.retrieval(e, pairs, pairs, seed, rt.batchSize);
                        o.put("recall_at_1", rr.recallAt1());
                        o.put("mrr", rr.mrr());
                        check(failures, name, "Recall@1", rr.recallAt1(), minRecall, true);
                    }
                    o.put("ms_per_sentence", ms / held.size());
                    o.put("peak_rss_mb", ProcessStats.peakRssMb());
                    perBackend.add(o);
                }
            }
            for (String other : compare) {
                LoadedModel om = LoadedModel.load(other, rt.tokenizer, progress);
                likeWithLike(other, om, ref);
                try (Embedder e = new Embedder(om.runnable(), java, om.tokenizer(), Pooling.forModel(om.model), 0)) {
                    ObjectNode o = cosineRow(other, EmbeddingMetrics.cosineStats(e.embed(held, rt.batchSize, ExecutionListener.NONE), want));
                    if (pairs > 0) o.put("recall_at_1", EncoderEvaluation.retrieval(e, pairs, pairs, seed, rt.batchSize).recallAt1());
                    compared.add(o);
                }
            }
        }
        Map<String, Double> layerErrors = layers ? layerErrors(cand, ref, progress) : null;
        double agreement = maxAbsDifference(outputs);
        print(perBackend, compared, agreement, failures, layerErrors);
        if (!failures.isEmpty()) throw new ThresholdNotMetException(candidate + ": " + String.join("; ", failures));
        return 0;
    }

    /** Per linear layer, the candidate's output error on the reference's, on a few held-out inputs (java backend). */
    private Map<String, Double> layerErrors(LoadedModel cand, LoadedModel ref, StderrProgress progress) {
        progress.info("per-layer errors on java");
        Backend java = Backends.of("java");
        LayerErrors le = new LayerErrors(ref.runnable());
        if (cand.isDecoder()) {
            try (Generator r = new Generator(ref.runnable(), java); Generator c = new Generator(cand.runnable(), java)) {
                for (long[] seq : DecoderEvaluation.sample(r, 4, seqLen, seed)) {
                    r.logits(new long[][] {seq}, le.reference());
                    c.logits(new long[][] {seq}, le.candidate());
                }
            }
        } else {
            List<String> held = evalFile != null ? readLines(evalFile) : EncoderEvaluation.heldOutSentences(sentences, seed);
            held = held.subList(0, Math.min(16, held.size()));
            try (Embedder r = new Embedder(ref.runnable(), java, ref.tokenizer(), Pooling.forModel(ref.model), 0);
                 Embedder c = new Embedder(cand.runnable(), java, cand.tokenizer(), Pooling.forModel(cand.model), 0)) {
                for (int i = 0; i < held.size(); i += 4) {
                    List<String> batch = held.subList(i, Math.min(held.size(), i + 4));
                    r.embed(batch, 4, le.reference());
                    c.embed(batch, 4, le.candidate());
                }
            }
        }
        return le.result();
    }

    /** Adds a failure when {@code value} is on the wrong side of {@code limit} (no limit: no check). */
    private static void check(List<String> failures, String backend, String what, double value, Double limit, boolean atLeast) {
        if (limit == null) return;
        boolean ok = atLeast ? value >= limit : value <= limit;
        if (!ok) failures.add(String.format(Locale.ROOT, "%s %.5f %s %s on %s", what, value, atLeast ? "<" : ">", limit, backend));
    }

    /** Largest |Δ| between any backend's outputs and the first backend's; NaN with one backend. */
    private static double maxAbsDifference(List<float[][]> outputs) {
        if (outputs.size() < 2) return Double.NaN;
        double d = 0;
        float[][] a = outputs.get(0);
        for (float[][] b : outputs.subList(1, outputs.size())) {
            for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) d = Math.max(d, Math.abs(a[i][j] - b[i][j]));
        }
        return d;
    }

    private List<String> readLines(Path file) {
        try {
            List<String> lines = new ArrayList<>();
            for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!l.isBlank()) lines.add(l.strip());
            if (lines.isEmpty()) throw BadInputException.inFile(file, "no texts (one per line expected)");
            return lines;
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage());
        }
    }

    /** Every layer's error in graph order, with the worst marked: one line each. */
    private static void printLayers(PrintWriter out, Map<String, Double> layerErrors) {
        double worst = layerErrors.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
        out.println("  per-layer output error (java):");
        layerErrors.forEach((k, v) -> out.printf(Locale.ROOT, "    %-60s %.5f%s%n", k, v, v == worst ? "  <- worst" : ""));
    }

    private void likeWithLike(String path, LoadedModel m, LoadedModel ref) {
        if (ref.isDecoder() != m.isDecoder()) {
            throw new BadInputException(path + " is " + (m.isDecoder() ? "a decoder" : "an encoder") + " but reference " + reference
                    + " is " + (ref.isDecoder() ? "a decoder" : "an encoder") + "; compare like with like");
        }
    }

    private static ObjectNode cosineRow(String name, EmbeddingMetrics.CosineStats cs) {
        ObjectNode o = Json.object();
        o.put("backend", name);
        if (name.equals("java")) o.put("kernels", dev.tamp.runtime.kernels.LinearKernels.describe());
        o.put("cosine_mean", cs.mean());
        o.put("cosine_min", cs.min());
        o.put("cosine_p5", cs.p5());
        o.put("sentences", cs.count());
        return o;
    }

    private static ObjectNode decoderRow(String name, DecoderMetrics m, double msPerSequence) {
        ObjectNode o = Json.object();
        o.put("backend", name);
        if (name.equals("java")) o.put("kernels", dev.tamp.runtime.kernels.LinearKernels.describe());
        o.put("kl", m.meanKl());
        o.put("top1_agreement", m.top1Agreement());
        o.put("perplexity", m.candidatePerplexity());
        o.put("reference_perplexity", m.referencePerplexity());
        o.put("ms_per_sequence", msPerSequence);
        o.put("peak_rss_mb", ProcessStats.peakRssMb());
        return o;
    }

    private void print(List<ObjectNode> perBackend, List<ObjectNode> compared, double agreement, List<String> failures,
                       Map<String, Double> layerErrors) {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Double> thresholds = new LinkedHashMap<>();
        if (minCosine != null) thresholds.put("min_cosine", minCosine);
        if (minRecall != null) thresholds.put("min_recall", minRecall);
        if (maxKl != null) thresholds.put("max_kl", maxKl);
        if (maxPplIncrease != null) thresholds.put("max_ppl_increase", maxPplIncrease);
        if (json) {
            ObjectNode o = Json.object();
            o.put("candidate", candidate);
            o.put("reference", reference);
            // the first backend's metrics are "the" metrics; every backend's are under its name
            ObjectNode metrics = perBackend.get(0).deepCopy();
            metrics.remove("backend");
            o.set("metrics", metrics);
            ObjectNode backendsNode = o.putObject("backends");
            for (ObjectNode b : perBackend) {
                ObjectNode copy = b.deepCopy();
                copy.remove("backend");
                backendsNode.set(b.get("backend").asText(), copy);
            }
            if (!Double.isNaN(agreement)) o.put("backend_max_abs_diff", agreement);
            if (!compared.isEmpty()) {
                ObjectNode cmp = o.putObject("compared");
                for (ObjectNode b : compared) {
                    ObjectNode copy = b.deepCopy();
                    copy.remove("backend");
                    cmp.set(b.get("backend").asText(), copy);
                }
            }
            ObjectNode t = o.putObject("thresholds");
            thresholds.forEach(t::put);
            ArrayNode f = o.putArray("failures");
            failures.forEach(f::add);
            o.put("passed", failures.isEmpty());
            if (layerErrors != null) {
                ObjectNode l = o.putObject("layers");
                layerErrors.forEach(l::put);
            }
            out.println(Json.pretty(o));
        } else {
            out.printf(Locale.ROOT, "verify %s against %s%n", candidate, reference);
            List<ObjectNode> rows = new ArrayList<>(perBackend);
            for (ObjectNode c : compared) rows.add(c.deepCopy().put("backend", "compared: " + c.get("backend").asText()));
            for (ObjectNode b : rows) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-10s", b.get("backend").asText()));
                b.fields().forEachRemaining(e -> {
                    if (e.getKey().equals("backend")) return;
                    line.append(String.format(Locale.ROOT, "  %s %s", e.getKey(),
                            e.getValue().isDouble() ? String.format(Locale.ROOT, "%.4f", e.getValue().asDouble()) : e.getValue().asText()));
                });
                out.println(line);
            }
            if (!Double.isNaN(agreement)) out.printf(Locale.ROOT, "  backends agree to max |Δ| %.3g%n", agreement);
            if (layerErrors != null) printLayers(out, layerErrors);
            out.println(failures.isEmpty() ? (thresholds.isEmpty() ? "  no thresholds given" : "  PASS " + thresholds)
                    : "  FAIL " + String.join("; ", failures));
        }
        out.flush();
    }
}
