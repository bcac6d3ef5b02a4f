package dev.tamp.runtime.bench;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.value.Value;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * scripts/bench.sh: java-backend latency of one BERT-style encoder pack (any encodings) on batch × seq
 * random token ids, median after warm-up; one JSON line. Args: MODEL.tpk LABEL [batch] [seq] [reps].
 * System properties that choose kernels (e.g. -Dtamp.factored=products) are reported in the label.
 */
public final class PackLatencyBench {
    public static void main(String[] args) throws Exception {
        Model m = ModelLoader.load(Path.of(args[0]), Progress.NONE);
        String label = args[1];
        int batch = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int seq = args.length > 3 ? Integer.parseInt(args[3]) : 128;
        int reps = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        SplittableRandom r = new SplittableRandom(1);
        long[] ids = new long[batch * seq], mask = new long[batch * seq];
        for (int i = 0; i < batch; i++) {
            for (int t = 0; t < seq; t++) {
                ids[i * seq + t] = t == 0 ? 101 : t == seq - 1 ? 102 : 1000 + r.nextInt(29000);
                mask[i * seq + t] = 1;
            }
        }
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(ids, batch, seq));
        in.put("attention_mask", Value.longs(mask, batch, seq));
        in.put("token_type_ids", Value.longs(new long[batch * seq], batch, seq));
        String out = m.graph().outputs().get(0).name();
        double ms;
        try (Session s = new JavaBackend().open(m)) {
            ms = ExecutorBench.median(reps, () -> s.run(in, List.of(out), ExecutionListener.NONE));
        }
        System.out.printf(Locale.ROOT, "{\"bench\":\"pack-latency\",\"label\":\"%s\",\"batch\":%d,\"seq\":%d,\"ms\":%.1f}%n", label, batch, seq, ms);
    }
}
