package dev.tamp.cli.support;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.calib.BlockwiseCalibration;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.DecoderEvaluation;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.pipeline.Generator;
import java.nio.file.Path;
import java.util.List;

/**
 * Calibration as the commands run it: sentences from the bundled calibration split (or --data) for models with a
 * tokenizer, sequences sampled from the model itself for decoders without one.
 */
public final class CalibrationRunner {
    private CalibrationRunner() {}

    public static CalibrationStats run(LoadedModel lm, Backend backend, Path data, int samples, int seqLen, long seed, int batchSize,
                                       boolean withGram, int sampleRows, Progress progress) {
        return BlockwiseCalibration.collect(lm.runnable(), source(lm, backend, data, samples, seqLen, seed, batchSize, progress), l -> true,
                withGram, sampleRows, progress);
    }

    /**
     * The calibration set, drawn once (sentences, or sequences sampled from the FP model), as a source that
     * block-wise methods can run through successive versions of the model.
     */
    public static CalibrationSource source(LoadedModel lm, Backend backend, Path data, int samples, int seqLen, long seed, int batchSize,
                                           Progress progress) {
        Model m = lm.runnable();
        CalibrationSource src;
        if (lm.isDecoder() && lm.model.tokenizerJson() == null) {
            long[][] seqs;
            try (Generator g = new Generator(m, backend)) {
                seqs = DecoderEvaluation.sample(g, samples, seqLen, seed);
            }
            src = CalibrationSource.sequences(backend, seqs);
        } else {
            List<TextCorpus.Document> docs = data != null ? TextCorpus.fromPath(data) : TextCorpus.bundled(TextCorpus.Split.CALIBRATION);
            // decoders read running text: windows long enough to fill --seq-len tokens (llm-compressor's max_seq_length samples)
            List<String> texts = lm.isDecoder()
                    ? CalibrationSampler.sample(docs, CalibrationSampler.Mode.WINDOW, samples, seed, 8 * seqLen)
                    : CalibrationSampler.sample(docs, CalibrationSampler.Mode.SENTENCE, samples, seed, 0);
            src = CalibrationSource.sentences(backend, lm.tokenizer(), texts, seqLen, batchSize);
        }
        return src.withInfo("seed", Long.toString(seed));
    }
}
