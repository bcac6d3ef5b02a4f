package dev.tamp.quantizers.bench;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.bundled.BundledModels;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.quantizers.mx.MxOptions;
import dev.tamp.quantizers.mx.MxQuantizer;
import dev.tamp.quantizers.mx.MxSlicer;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.eval.EncoderEvaluation;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.util.List;
import java.util.Locale;

/**
 * The MX accuracy table (issue: MX + Slice-and-Scale): for MiniLM and BGE, mean/min cosine to FP32 on held-out
 * sentences and KJV→WEB Recall@1, for direct MX formats and the same targets sliced from MXINT8 and MXFP8
 * anchors. One JSON line per row on stdout. Args: [pairs] [sentences].
 */
public final class MxAccuracyTable {
    public static void main(String[] args) {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int sentences = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        MxFormat[] targets = {MxFormat.MXINT8, MxFormat.MXFP8_E4M3, MxFormat.MXFP6_E3M2, MxFormat.MXFP6_E2M3, MxFormat.MXFP4_E2M1,
                MxFormat.MXINT6, MxFormat.MXINT4};
        for (String name : new String[] {"minilm", "bge"}) {
            Model fp32 = ModelLoader.load(BundledModels.resolve(BundledModels.byName(name).orElseThrow()), Progress.NONE);
            List<String> held = EncoderEvaluation.heldOutSentences(sentences, 0);
            float[][] ref = embed(fp32, held);
            row(name, "fp32", "-", fp32, held, ref, pairs);
            Model int8 = quantize(fp32, MxFormat.MXINT8), fp8 = quantize(fp32, MxFormat.MXFP8_E4M3);
            for (MxFormat f : targets) {
                row(name, f.cliName(), "direct", f == MxFormat.MXINT8 ? int8 : f == MxFormat.MXFP8_E4M3 ? fp8 : quantize(fp32, f), held, ref, pairs);
                if (f != MxFormat.MXINT8) row(name, f.cliName(), "sliced<mxint8", MxSlicer.slice(int8, f, Progress.NONE).model(), held, ref, pairs);
                if (f != MxFormat.MXFP8_E4M3) row(name, f.cliName(), "sliced<mxfp8", MxSlicer.slice(fp8, f, Progress.NONE).model(), held, ref, pairs);
            }
        }
    }

    static Model quantize(Model m, MxFormat f) {
        return MxQuantizer.quantize(m, new MxOptions(f, 32, ScaleRule.FLOOR, List.of()), Progress.NONE).model();
    }

    static float[][] embed(Model m, List<String> texts) {
        try (Embedder e = new Embedder(m, new JavaBackend(), Tokenizers.fromJson(m.tokenizerJson()), Pooling.forModel(m), 0)) {
            return e.embed(texts, 32, ExecutionListener.NONE);
        }
    }

    static void row(String model, String format, String route, Model m, List<String> held, float[][] ref, int pairs) {
        EmbeddingMetrics.CosineStats c = EmbeddingMetrics.cosineStats(embed(m, held), ref);
        EmbeddingMetrics.Retrieval r;
        try (Embedder e = new Embedder(m, new JavaBackend(), Tokenizers.fromJson(m.tokenizerJson()), Pooling.forModel(m), 0)) {
            r = EncoderEvaluation.retrieval(e, pairs, pairs, 0, 32);
        }
        System.out.printf(Locale.ROOT, "{\"model\":\"%s\",\"format\":\"%s\",\"route\":\"%s\",\"cosine_mean\":%.5f,\"cosine_min\":%.5f,\"recall_at_1\":%.4f,\"mrr\":%.4f}%n",
                model, format, route, c.mean(), c.min(), r.recallAt1(), r.mrr());
    }
}
