package dev.tamp.runtime.calib;

import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.tokenizer.Encoding;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A fixed calibration set, tokenised once into batches, with the backend that runs it. It can be run through any
 * version of a model ({@link #collect}: the whole model in one pass), and {@link BlockwiseCalibration} pushes the same
 * batches through a model block by block. Statistics are streamed: each batch's activations are reduced and dropped.
 */
public final class CalibrationSource {
    /**
     * One batch as the model reads it: token ids [rows][length], the attention mask and token types of sentence batches
     * (null for raw token sequences), and which flattened rows are real tokens (null: all).
     */
    public record Batch(long[] ids, long[] mask, long[] types, int rows, int length, boolean[] rowMask) {
        /** The model inputs this batch feeds to a graph with the given input names. */
        public Map<String, Value> inputs(Set<String> graphInputs) {
            Map<String, Value> in = new HashMap<>();
            in.put("input_ids", Value.longs(ids, rows, length));
            if (mask != null && graphInputs.contains("attention_mask")) in.put("attention_mask", Value.longs(mask, rows, length));
            if (types != null && graphInputs.contains("token_type_ids")) in.put("token_type_ids", Value.longs(types, rows, length));
            return in;
        }
    }

    private final Backend backend;
    private final List<Batch> batches;
    private final Map<String, String> info;

    private CalibrationSource(Backend backend, List<Batch> batches, Map<String, String> info) {
        this.backend = backend;
        this.batches = List.copyOf(batches);
        this.info = new LinkedHashMap<>(info);
    }

    /** Sentences tokenised to at most {@code maxLength} tokens, {@code batchSize} per batch, padding masked out. */
    public static CalibrationSource sentences(Backend backend, Tokenizer tok, List<String> texts, int maxLength, int batchSize) {
        List<Batch> batches = new ArrayList<>();
        long tokens = 0;
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
            batches.add(new Batch(ids, mask, types, n, len, rowMask));
        }
        Map<String, String> info = new LinkedHashMap<>();
        info.put("mode", "sentence");
        info.put("samples", Integer.toString(texts.size()));
        info.put("tokens", Long.toString(tokens));
        info.put("max_length", Integer.toString(maxLength));
        info.put("calibration_sha256", CalibrationSampler.hash(texts));
        return new CalibrationSource(backend, batches, info);
    }

    /** Token sequences (decoders), one per batch; every token counts. */
    public static CalibrationSource sequences(Backend backend, long[][] sequences) {
        List<Batch> batches = new ArrayList<>();
        long tokens = 0;
        for (long[] seq : sequences) {
            batches.add(new Batch(seq.clone(), null, null, 1, seq.length, null));
            tokens += seq.length;
        }
        Map<String, String> info = new LinkedHashMap<>();
        info.put("mode", "tokens");
        info.put("samples", Integer.toString(sequences.length));
        info.put("tokens", Long.toString(tokens));
        return new CalibrationSource(backend, batches, info);
    }

    /** The same set with one more description entry (a seed, say) in every statistics it produces. */
    public CalibrationSource withInfo(String key, String value) {
        Map<String, String> i = new LinkedHashMap<>(info);
        i.put(key, value);
        return new CalibrationSource(backend, batches, i);
    }

    public Backend backend() {
        return backend;
    }

    public List<Batch> batches() {
        return batches;
    }

    public Map<String, String> info() {
        return new LinkedHashMap<>(info);
    }

    /**
     * Runs the whole model over every batch once, observing the linear layers {@code which} accepts.
     *
     * @param sampleRows real (unpadded) tokens to keep per linear input besides the statistics (0: none)
     */
    public CalibrationStats collect(Model model, Predicate<LinearLayers.Linear> which, boolean withGram, int sampleRows, Progress progress) {
        List<LinearLayers.Linear> layers = LinearLayers.of(model).stream().filter(which).toList();
        CalibrationObserver obs = new CalibrationObserver(layers, withGram, sampleRows, Parallel.shared());
        Set<String> inputs = new HashSet<>();
        for (ValueInfo v : model.graph().inputs()) inputs.add(v.name());
        progress.begin("calibrate", batches.size());
        try (Session s = backend.open(model)) {
            for (int i = 0; i < batches.size(); i++) {
                Batch b = batches.get(i);
                obs.setRowMask(b.rowMask());
                s.run(b.inputs(inputs), List.of(), obs);
                progress.update(i + 1, "");
            }
        }
        progress.end();
        return new CalibrationStats(obs.stats(), inputOfWeight(layers), info);
    }

    static Map<String, String> inputOfWeight(List<LinearLayers.Linear> layers) {
        Map<String, String> m = new LinkedHashMap<>();
        for (LinearLayers.Linear l : layers) m.put(l.weight(), l.input());
        return m;
    }
}
