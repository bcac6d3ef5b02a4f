package dev.tamp.quantizers;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.runtime.kernels.WeightDecoders;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The loop every weight-only method shares: for each selected linear weight (tensor by tensor, so only one
 * float copy is alive at a time), encode it, measure its relative weight error and size, and swap it in —
 * into a new model ({@link #rewrite}) or straight into a writer ({@link #stream}).
 */
public final class LinearWeightRewriter {
    /** One weight encoding: how to encode a dense weight and how to read it back as [N][K] floats. */
    public interface Encoding {
        EncodedTensor encode(DenseWeight w, LinearWeights.Target target);

        /** Decodes row r of {@code e}'s [N][K] view into out[0..K). */
        void decodeRow(EncodedTensor e, int row, float[] out);
    }

    private LinearWeightRewriter() {}

    public static QuantReport rewrite(Model model, List<String> ignore, String method, String stage, Progress progress, Encoding enc) {
        Streamed streamed = stream(model, ignore, method, stage, progress, enc, model.weights()::get);
        Map<String, EncodedTensor> weights = new LinkedHashMap<>();
        for (Map.Entry<String, EncodedTensor> e : streamed.weights()) weights.put(e.getKey(), e.getValue());
        return new QuantReport(model.withWeights(weights), method, streamed.report().rows());
    }

    /**
     * The same rewrite, done while the output is written: iterating {@link Streamed#weights()} (once, in the
     * model's weight order) reads each weight with {@code read}, encodes it if it is selected, and hands it on;
     * nothing is kept, so memory holds one layer. The report's rows fill in as the iteration goes; its model is
     * the input model.
     */
    public static Streamed stream(Model model, List<String> ignore, String method, String stage, Progress progress, Encoding enc,
                                  Function<String, EncodedTensor> read) {
        Map<String, LinearWeights.Target> targets = new LinkedHashMap<>();
        for (LinearWeights.Target t : LinearWeights.select(model, ignore)) targets.put(t.weight(), t);
        List<QuantReport.Row> rows = new ArrayList<>();
        Iterable<Map.Entry<String, EncodedTensor>> weights = () -> new Iterator<>() {
            private final Iterator<String> names = model.weights().keySet().iterator();
            private int done;
            private boolean started, ended;

            @Override public boolean hasNext() {
                boolean more = names.hasNext();
                if (!more && started && !ended) {
                    ended = true;
                    progress.end();
                }
                return more;
            }

            @Override public Map.Entry<String, EncodedTensor> next() {
                String name = names.next();
                if (!started) {
                    started = true;
                    progress.begin(stage, targets.size());
                }
                EncodedTensor w = read.apply(name);
                LinearWeights.Target t = targets.get(name);
                if (t == null) return Map.entry(name, w);
                EncodedTensor q = encodeOne(model, t, w, method, enc, rows);
                progress.update(++done, t.node());
                return Map.entry(name, q);
            }
        };
        Map<String, Integer> order = new HashMap<>();
        for (String w : targets.keySet()) order.put(w, order.size());
        return new Streamed(weights, () -> {
            List<QuantReport.Row> sorted = new ArrayList<>(rows);
            sorted.sort(java.util.Comparator.comparingInt(r -> order.get(r.weight())));
            return new QuantReport(model, method, sorted);
        });
    }

    /**
     * A streamed rewrite: the weights to iterate once, and (after that) the report, its rows in the order of
     * the selected layers (the graph's), whatever order the weights are stored in.
     */
    public record Streamed(Iterable<Map.Entry<String, EncodedTensor>> weights, java.util.function.Supplier<QuantReport> reportAfterWrite) {
        public QuantReport report() { return reportAfterWrite.get(); }
    }

    private static EncodedTensor encodeOne(Model model, LinearWeights.Target t, EncodedTensor w, String method, Encoding enc,
                                           List<QuantReport.Row> rows) {
        if (w instanceof LowRankWeight || w instanceof DictionaryWeight) {
            EncodedTensor q = encodeFactors(model, t, w, enc);
            float[] before = WeightDecoders.decode(t.weight(), w), after = WeightDecoders.decode(t.weight(), q);
            rows.add(new QuantReport.Row(t.weight(), t.node(), q.describe(), WeightError.relative(before, after),
                    q.numel(), w.storageBytes(), q.storageBytes(), "factors quantized"));
            return q;
        }
        if (!(w instanceof DenseWeight d) || !d.tensor().dtype().isFloatingPoint()) {
            throw new UnsupportedModelException("weight " + t.weight() + " is " + w.describe() + "; " + method + " needs a float weight");
        }
        EncodedTensor q;
        try {
            q = enc.encode(d, t);
        } catch (BadInputException | IllegalArgumentException e) {
            throw new BadInputException(model.source() + ": weight " + t.weight() + ": " + e.getMessage(), e);
        }
        EncodedTensor encoded = q;
        double error = WeightError.relative(d.tensor(), t.kAxis(), (r, out) -> enc.decodeRow(encoded, r, out));
        rows.add(new QuantReport.Row(t.weight(), t.node(), q.describe(), error,
                q.numel(), d.storageBytes(), q.storageBytes(), null));
        return q;
    }

    /**
     * A factorised weight (low rank, COMPOT dictionary) with its dense factors encoded: each factor is a
     * [rows][reduction] matrix (kAxis 1) run as its own product, so it is quantized along its own reduction
     * axis. COMPOT's sparse code values stay float (s per output row; algorithms.md §3.5 leaves them optional).
     */
    private static EncodedTensor encodeFactors(Model model, LinearWeights.Target t, EncodedTensor w, Encoding enc) {
        try {
            if (w instanceof LowRankWeight l) {
                return new LowRankWeight(l.shape(), l.kAxis(), part(l.left(), t, "#left", enc), part(l.right(), t, "#right", enc));
            }
            DictionaryWeight d = (DictionaryWeight) w;
            return new DictionaryWeight(d.shape(), d.kAxis(), part(d.dictionary(), t, "#dictionary", enc), d.codeValues(), d.codeMask(),
                    d.sparsity());
        } catch (BadInputException | IllegalArgumentException e) {
            throw new BadInputException(model.source() + ": weight " + t.weight() + ": " + e.getMessage(), e);
        }
    }

    private static EncodedTensor part(EncodedTensor p, LinearWeights.Target t, String suffix, Encoding enc) {
        if (!(p instanceof DenseWeight d)) throw new UnsupportedModelException("factor " + t.weight() + suffix + " is already " + p.describe());
        return enc.encode(d, new LinearWeights.Target(t.weight() + suffix, t.node(), 1));
    }

    /** The [N][K] floats of a dense weight whose reduction axis is {@code kAxis}. */
    public static float[] rowsOf(DenseWeight d, int kAxis) {
        float[] a = d.tensor().toFloatArray();
        if (kAxis == 1) return a;
        long[] s = d.tensor().shape();
        int k = (int) s[0], n = (int) s[1];
        float[] o = new float[a.length];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) o[j * k + p] = a[p * n + j];
        return o;
    }

    /** The inverse of {@link #rowsOf}: [N][K] rows back into a float tensor of the weight's own orientation. */
    public static dev.tamp.core.tensor.Tensor fromRows(float[] rows, int n, int k, int kAxis) {
        if (kAxis == 1) return dev.tamp.core.tensor.Tensor.ofFloats(rows, n, k);
        float[] o = new float[rows.length];
        for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) o[p * n + j] = rows[j * k + p];
        return dev.tamp.core.tensor.Tensor.ofFloats(o, k, n);
    }
}
