package dev.tamp.runtime.bench;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.value.Value;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Time per op type on MiniLM (node-to-node wall time through the listener), for finding hot spots.
 * Args: [batch] [seq] [fp32|w4|w8a8] (the quantized weights packed for this host, as in {@link PackLatencyTable}).
 */
public final class OpProfile {
    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 32, seq = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        String weights = args.length > 2 ? args[2] : "fp32";
        Model m = PackLatencyTable.withWeights(RuntimeTestModels.miniLm(), weights);
        Map<String, Value> in = inputs(batch, seq);
        Map<String, Double> t = new TreeMap<>();
        long[] last = {0};
        ExecutionListener l = timer(t, last, true);
        try (Session s = new JavaBackend().open(m)) {
            for (int rep = 0; rep < 20; rep++) {
                t.clear();
                last[0] = System.nanoTime();
                long start = System.nanoTime();
                s.run(in, List.of(), l);
                if (rep >= 17) System.out.printf("total %.1f ms%n", (System.nanoTime() - start) / 1e6);
            }
        }
        t.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> System.out.printf("  %-20s %8.1f ms%n", e.getKey(), e.getValue()));
    }

    /** MiniLM inputs of batch × seq tokens, every position attended. */
    static Map<String, Value> inputs(int batch, int seq) {
        long[] ids = new long[batch * seq], mask = new long[batch * seq];
        for (int i = 0; i < ids.length; i++) { ids[i] = 1000 + i % 20000; mask[i] = 1; }
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(ids, batch, seq));
        in.put("attention_mask", Value.longs(mask, batch, seq));
        in.put("token_type_ids", Value.longs(new long[batch * seq], batch, seq));
        return in;
    }

    /** Adds each node's wall time since the previous one (last[0]) to t by op type; weight MatMuls apart when asked. */
    static ExecutionListener timer(Map<String, Double> t, long[] last, boolean weightsApart) {
        return (n, i, o) -> {
            long now = System.nanoTime();
            String key = n.opType() + (weightsApart && n.opType().equals("MatMul") && n.inputs().get(1).startsWith("onnx::") ? "(weight)" : "");
            t.merge(key, (now - last[0]) / 1e6, Double::sum);
            last[0] = now;
        };
    }
}
