package dev.tamp.runtime.calib;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.tokenizer.Tokenizer;
import java.util.List;
import java.util.function.Predicate;

/** One whole-model calibration pass over sentences or token sequences ({@link CalibrationSource#collect}). */
public final class Calibrator {
    private Calibrator() {}

    /** Encoder calibration on sentences (padding masked out of every statistic). */
    public static CalibrationStats encoder(Model model, Backend backend, Tokenizer tok, List<String> texts, int maxLength,
                                           int batchSize, boolean withGram, Progress progress) {
        return encoder(model, backend, tok, texts, maxLength, batchSize, l -> true, withGram, 0, progress);
    }

    public static CalibrationStats encoder(Model model, Backend backend, Tokenizer tok, List<String> texts, int maxLength,
                                           int batchSize, Predicate<LinearLayers.Linear> which, boolean withGram, Progress progress) {
        return encoder(model, backend, tok, texts, maxLength, batchSize, which, withGram, 0, progress);
    }

    /** Observes only the linear layers {@code which} accepts, keeping the first {@code sampleRows} real tokens of each input. */
    public static CalibrationStats encoder(Model model, Backend backend, Tokenizer tok, List<String> texts, int maxLength,
                                           int batchSize, Predicate<LinearLayers.Linear> which, boolean withGram, int sampleRows,
                                           Progress progress) {
        return CalibrationSource.sentences(backend, tok, texts, maxLength, batchSize).collect(model, which, withGram, sampleRows, progress);
    }

    /** Decoder calibration on token sequences (all tokens count). */
    public static CalibrationStats decoder(Model model, Backend backend, long[][] sequences, boolean withGram, Progress progress) {
        return decoder(model, backend, sequences, l -> true, withGram, 0, progress);
    }

    public static CalibrationStats decoder(Model model, Backend backend, long[][] sequences, Predicate<LinearLayers.Linear> which,
                                           boolean withGram, Progress progress) {
        return decoder(model, backend, sequences, which, withGram, 0, progress);
    }

    public static CalibrationStats decoder(Model model, Backend backend, long[][] sequences, Predicate<LinearLayers.Linear> which,
                                           boolean withGram, int sampleRows, Progress progress) {
        return CalibrationSource.sequences(backend, sequences).collect(model, which, withGram, sampleRows, progress);
    }
}
