package dev.tamp.runtime.pipeline;

import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.tokenizer.Encoding;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Sentence embeddings from an encoder: tokenize, run in batches of similar length (less padding), pool
 * (mean over unmasked tokens or [CLS]) and L2-normalise, as sentence-transformers does. Results come back in
 * input order and do not depend on the batching (padding is masked).
 */
public final class Embedder implements AutoCloseable {
    private final Session session;
    private final Tokenizer tokenizer;
    private final Pooling pooling;
    private final String hiddenOutput;
    private final List<String> inputNames;
    private final int maxLength;

    public Embedder(Model model, Backend backend, Tokenizer tokenizer, Pooling pooling, int maxLength) {
        this.tokenizer = tokenizer;
        this.pooling = pooling;
        this.maxLength = maxLength;
        this.inputNames = model.graph().inputs().stream().map(ValueInfo::name).toList();
        if (!inputNames.contains("input_ids")) throw new UnsupportedModelException(model.source() + ": encoder graph has no input_ids input");
        this.hiddenOutput = model.graph().outputs().stream().filter(v -> v.dims() == null || v.dims().size() == 3)
                .map(ValueInfo::name).findFirst()
                .orElseThrow(() -> new UnsupportedModelException(model.source() + ": no [batch, seq, hidden] output to pool"));
        this.session = backend.open(model);
    }

    /** Unit-length embeddings, one per text, in input order. */
    public float[][] embed(List<String> texts, int batchSize, ExecutionListener listener) {
        List<Encoding> encs = new ArrayList<>();
        for (String t : texts) encs.add(tokenizer.encode(t, maxLength));
        Integer[] order = IntStream.range(0, texts.size()).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, Comparator.comparingInt((Integer i) -> encs.get(i).length()).thenComparingInt(i -> i));
        float[][] out = new float[texts.size()][];
        for (int b = 0; b < order.length; b += batchSize) {
            int n = Math.min(batchSize, order.length - b);
            int len = 0;
            for (int i = 0; i < n; i++) len = Math.max(len, encs.get(order[b + i]).length());
            long[] ids = new long[n * len], mask = new long[n * len], types = new long[n * len];
            for (int i = 0; i < n; i++) {
                Encoding e = encs.get(order[b + i]);
                for (int t = 0; t < len; t++) ids[i * len + t] = tokenizer.padId();
                for (int t = 0; t < e.length(); t++) {
                    ids[i * len + t] = e.ids()[t];
                    mask[i * len + t] = e.attentionMask()[t];
                    types[i * len + t] = e.typeIds()[t];
                }
            }
            Map<String, Value> in = new HashMap<>();
            in.put("input_ids", Value.longs(ids, n, len));
            if (inputNames.contains("attention_mask")) in.put("attention_mask", Value.longs(mask, n, len));
            if (inputNames.contains("token_type_ids")) in.put("token_type_ids", Value.longs(types, n, len));
            Value h = session.run(in, List.of(hiddenOutput), listener).get(hiddenOutput);
            int d = h.shape[2];
            for (int i = 0; i < n; i++) out[order[b + i]] = pool(h, i, len, d, mask);
        }
        return out;
    }

    private float[] pool(Value h, int row, int len, int d, long[] mask) {
        double[] acc = new double[d];
        if (pooling == Pooling.CLS) {
            for (int k = 0; k < d; k++) acc[k] = h.floats[(row * len) * d + k];
        } else {
            int count = 0;
            for (int t = 0; t < len; t++) {
                if (mask[row * len + t] == 0) continue;
                count++;
                for (int k = 0; k < d; k++) acc[k] += h.floats[(row * len + t) * d + k];
            }
            for (int k = 0; k < d; k++) acc[k] /= Math.max(1, count);
        }
        double norm = 0;
        for (double v : acc) norm += v * v;
        norm = Math.max(Math.sqrt(norm), 1e-12);
        float[] e = new float[d];
        for (int k = 0; k < d; k++) e[k] = (float) (acc[k] / norm);
        return e;
    }

    @Override
    public void close() {
        session.close();
    }
}
