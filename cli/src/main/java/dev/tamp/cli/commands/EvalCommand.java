package dev.tamp.cli.commands;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.cli.support.Backends;
import dev.tamp.cli.support.LoadedModel;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.StderrProgress;
import dev.tamp.runtime.eval.DecoderEvaluation;
import dev.tamp.runtime.eval.DecoderMetrics;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.eval.EncoderEvaluation;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.pipeline.Pooling;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import dev.tamp.cli.support.RuntimeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Measure a model. Encoders: KJV→WEB paraphrase retrieval (Recall@1, MRR) and, with --reference, "
                + "cosine to the reference's embeddings on held-out sentences. Decoders: KL(reference‖model), top-1 "
                + "agreement and perplexity on sequences sampled from the reference (the model itself without --reference)."},
        footer = {"", "Examples:", "  tamp eval minilm --pairs 2000 --pool 2000",
                "  tamp eval minilm-w8a8.tpk --reference minilm --json", "  tamp eval stories-w4.tpk --reference stories260k"})
public final class EvalCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL") String model;

    @Option(names = "--reference", paramLabel = "REF", description = "Reference model (e.g. the FP32 original).")
    String reference;

    @Option(names = "--pairs", defaultValue = "2000", description = "Retrieval queries (default: ${DEFAULT-VALUE}).")
    int pairs;

    @Option(names = "--pool", defaultValue = "0", description = "Retrieval candidates, ≥ pairs (default: = pairs).")
    int pool;

    @Option(names = "--sentences", defaultValue = "256", description = "Held-out sentences for cosine (default: ${DEFAULT-VALUE}).")
    int sentences;

    @Option(names = "--sequences", defaultValue = "16", description = "Decoder: sampled sequences (default: ${DEFAULT-VALUE}).")
    int sequences;

    @Option(names = "--seq-len", defaultValue = "64", description = "Decoder: tokens per sequence (default: ${DEFAULT-VALUE}).")
    int seqLen;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the held-out sample and decoder sampling (default: ${DEFAULT-VALUE}).") long seed;

    @Option(names = "--json", description = "Print one JSON document {\"metrics\": {...}}.") boolean json;

    @Mixin RuntimeOptions rt;

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        StderrProgress progress = StderrProgress.forStderr();
        Backend b = Backends.of(rt.backend);
        LoadedModel cand = LoadedModel.load(model, rt.tokenizer, progress);
        LoadedModel ref = reference == null ? null : LoadedModel.load(reference, rt.tokenizer, progress);
        if (ref != null && ref.isDecoder() != cand.isDecoder()) {
            throw new dev.tamp.core.error.BadInputException(model + " is " + (cand.isDecoder() ? "a decoder" : "an encoder") + " but reference "
                    + reference + " is " + (ref.isDecoder() ? "a decoder" : "an encoder") + "; compare like with like");
        }
        ObjectNode metrics = Json.object();
        if (cand.isDecoder()) {
            try (Generator c = new Generator(cand.runnable(), b);
                 Generator r = ref == null ? null : new Generator(ref.runnable(), b)) {
                Generator refGen = r == null ? c : r;
                long[][] seqs = DecoderEvaluation.sample(refGen, sequences, seqLen, seed);
                DecoderMetrics m = DecoderEvaluation.compare(refGen, c, seqs);
                metrics.put("positions", m.positions());
                metrics.put("kl", m.meanKl());
                metrics.put("top1_agreement", m.top1Agreement());
                metrics.put("perplexity", m.candidatePerplexity());
                metrics.put("reference_perplexity", m.referencePerplexity());
            }
        } else {
            Pooling pooling = Pooling.forModel(cand.model);
            try (Embedder e = new Embedder(cand.runnable(), b, cand.tokenizer(), pooling, 0)) {
                progress.info("retrieval: " + pairs + " KJV queries, pool " + Math.max(pool, pairs));
                EmbeddingMetrics.Retrieval rr = EncoderEvaluation.retrieval(e, pairs, Math.max(pool, pairs), seed, rt.batchSize);
                metrics.put("recall_at_1", rr.recallAt1());
                metrics.put("mrr", rr.mrr());
                metrics.put("queries", rr.queries());
                metrics.put("pool", rr.pool());
                if (ref != null) {
                    List<String> held = EncoderEvaluation.heldOutSentences(sentences, seed);
                    float[][] got = e.embed(held, rt.batchSize, ExecutionListener.NONE);
                    float[][] want;
                    try (Embedder re = new Embedder(ref.runnable(), b, ref.tokenizer(), Pooling.forModel(ref.model), 0)) {
                        want = re.embed(held, rt.batchSize, ExecutionListener.NONE);
                    }
                    EmbeddingMetrics.CosineStats cs = EmbeddingMetrics.cosineStats(got, want);
                    metrics.put("cosine_mean", cs.mean());
                    metrics.put("cosine_min", cs.min());
                    metrics.put("cosine_p5", cs.p5());
                    metrics.put("sentences", cs.count());
                }
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectNode o = Json.object();
            o.put("model", cand.path.toString());
            if (ref != null) o.put("reference", ref.path.toString());
            o.set("metrics", metrics);
            out.println(Json.pretty(o));
        } else {
            metrics.fields().forEachRemaining(f -> out.printf(Locale.ROOT, "%-22s %s%n", f.getKey(),
                    f.getValue().isDouble() ? String.format(Locale.ROOT, "%.4f", f.getValue().asDouble()) : f.getValue().asText()));
        }
        out.flush();
        return 0;
    }
}
