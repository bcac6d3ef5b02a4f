package dev.tamp.runtime.calib;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.exec.Value;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.tokenizer.Encoding;
import dev.tamp.runtime.tokenizer.Tokenizer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Runs a model once over calibration batches with a {@link CalibrationObserver} attached, streaming: each
 * batch's activations are reduced into the statistics and dropped.
 */
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

    /**
     * Encoder calibration observing only the linear layers {@code which} accepts (block-wise methods), keeping the
     * first {@code sampleRows} real tokens of each input besides the statistics.
     */
    public static CalibrationStats encoder(Model model, Backend backend, Tokenizer tok, List<String> texts, int maxLength,
                                           int batchSize, Predicate<LinearLayers.Linear> which, boolean withGram, int sampleRows,
                                           Progress progress) {
        List<LinearLayers.Linear> layers = LinearLayers.of(model).stream().filter(which).toList();
        CalibrationObserver obs = new CalibrationObserver(layers, withGram, sampleRows, Parallel.shared());
        List<String> inputs = model.graph().inputs().stream().map(v -> v.name()).toList();
        long tokens = 0;
        progress.begin("calibrate", texts.size());
        try (Session s = backend.open(model)) {
            for (int b = 0; b < texts.size(); b += batchSize) {
                List<Encoding> batch = tok.encodeBatch(texts.subList(b, Math.min(texts.size(), b + batchSize)), maxLength);
                int n = batch.size(), len = batch.get(0).length();
                long[] ids = new long[n * len], mask = new long[n * len], types = new long[n * len];
                boolean[] rowMask = new boolean[n * len];
                for (int i = 0; i < n; i++) {
                    for (int t = 0; t < len; t++) {
                        ids[i * len + t] = batch.get(i).ids()[t];
                        mask[i * len + t] = batch.get(i).attentionMask()[t];
                        types[i * len + t] = batch.get(i).typeIds()[t];
                        rowMask[i * len + t] = mask[i * len + t] != 0;
                        if (rowMask[i * len + t]) tokens++;
                    }
                }
                Map<String, Value> in = new HashMap<>();
                in.put("input_ids", Value.longs(ids, n, len));
                if (inputs.contains("attention_mask")) in.put("attention_mask", Value.longs(mask, n, len));
                if (inputs.contains("token_type_ids")) in.put("token_type_ids", Value.longs(types, n, len));
                obs.setRowMask(rowMask);
                s.run(in, List.of(), obs);
                progress.update(Math.min(texts.size(), b + batchSize), "");
            }
        }
        progress.end();
        Map<String, String> info = new LinkedHashMap<>();
        info.put("mode", "sentence");
        info.put("samples", Integer.toString(texts.size()));
        info.put("tokens", Long.toString(tokens));
        info.put("max_length", Integer.toString(maxLength));
        info.put("calibration_sha256", CalibrationSampler.hash(texts));
        return new CalibrationStats(obs.stats(), inputOfWeight(layers), info);
    }

    /** Decoder calibration on token sequences (all tokens count). */
    public static CalibrationStats decoder(Model model, Backend backend, long[][] sequences, boolean withGram, Progress progress) {
        return decoder(model, backend, sequences, l -> true, withGram, 0, progress);
    }

    public static CalibrationStats decoder(Model model, Backend backend, long[][] sequences, Predicate<LinearLayers.Linear> which,
                                           boolean withGram, Progress progress) {
        return decoder(model, backend, sequences, which, withGram, 0, progress);
    }

    /** Decoder calibration observing only the linear layers {@code which} accepts, keeping {@code sampleRows} tokens each. */
    public static CalibrationStats decoder(Model model, Backend backend, long[][] sequences, Predicate<LinearLayers.Linear> which,
                                           boolean withGram, int sampleRows, Progress progress) {
        List<LinearLayers.Linear> layers = LinearLayers.of(model).stream().filter(which).toList();
        CalibrationObserver obs = new CalibrationObserver(layers, withGram, sampleRows, Parallel.shared());
        progress.begin("calibrate", sequences.length);
        long tokens = 0;
        try (Session s = backend.open(model)) {
            for (int i = 0; i < sequences.length; i++) {
                long[] seq = sequences[i];
                s.run(Map.of("input_ids", Value.longs(seq, 1, seq.length)), List.of(), obs);
                tokens += seq.length;
                progress.update(i + 1, "");
            }
        }
        progress.end();
        Map<String, String> info = new LinkedHashMap<>();
        info.put("mode", "tokens");
        info.put("samples", Integer.toString(sequences.length));
        info.put("tokens", Long.toString(tokens));
        return new CalibrationStats(obs.stats(), inputOfWeight(layers), info);
    }

    static Map<String, String> inputOfWeight(List<LinearLayers.Linear> layers) {
        Map<String, String> m = new LinkedHashMap<>();
        for (LinearLayers.Linear l : layers) m.put(l.weight(), l.input());
        return m;
    }

}
