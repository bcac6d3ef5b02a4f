package dev.tamp.runtime.bench;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.exec.*;
import dev.tamp.runtime.value.Value;
import java.util.*;
/**
 * scripts/bench.sh cold-profile: MiniLM FP32 at batch 32 × 40 tokens, the first four runs of a fresh process with the time
 * per op type (top 8) of each: what a short-lived process pays before the JIT has compiled the Java kernels.
 */
public final class ColdProfile {
    public static void main(String[] args) {
        int batch = 32, seq = 40;
        Model m = RuntimeTestModels.miniLm();
        Map<String, Value> in = OpProfile.inputs(batch, seq);
        Map<String, Double> t = new TreeMap<>();
        long[] last = {0};
        ExecutionListener l = OpProfile.timer(t, last, false);
        try (Session s = new JavaBackend().open(m)) {
            for (int rep = 0; rep < 4; rep++) {
                t.clear();
                last[0] = System.nanoTime();
                long start = System.nanoTime();
                s.run(in, List.of(), l);
                System.out.printf("run %d total %.1f ms:", rep, (System.nanoTime() - start) / 1e6);
                t.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(8)
                    .forEach(e -> System.out.printf(" %s %.0f", e.getKey(), e.getValue()));
                System.out.println();
            }
        }
    }
}
