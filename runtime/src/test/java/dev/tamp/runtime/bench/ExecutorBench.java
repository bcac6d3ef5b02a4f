package dev.tamp.runtime.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * scripts/bench.sh: tamp's java backend vs ONNX Runtime on MiniLM, batch × sequence tokens, same process,
 * same thread count; prints one JSON object (median of repeated runs after warm-up, peak RSS).
 * Args: [batch] [seq] [reps].
 */
public final class ExecutorBench {
    public static void main(String[] args) throws Exception {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 32;
        int seq = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int threads = Parallel.shared().threads();
        Model m = RuntimeTestModels.miniLm();
        Path path = RuntimeTestModels.miniLmPath();
        SplittableRandom r = new SplittableRandom(1);
        long[][] ids = new long[batch][seq], mask = new long[batch][seq], types = new long[batch][seq];
        long[] flatIds = new long[batch * seq], flatMask = new long[batch * seq];
        for (int i = 0; i < batch; i++) {
            for (int t = 0; t < seq; t++) {
                ids[i][t] = t == 0 ? 101 : t == seq - 1 ? 102 : 1000 + r.nextInt(29000);
                mask[i][t] = 1;
                flatIds[i * seq + t] = ids[i][t];
                flatMask[i * seq + t] = 1;
            }
        }
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(flatIds, batch, seq));
        in.put("attention_mask", Value.longs(flatMask, batch, seq));
        in.put("token_type_ids", Value.longs(new long[batch * seq], batch, seq));
        String out = m.graph().outputs().get(0).name();
        double tamp;
        try (Session s = new JavaBackend().open(m)) {
            tamp = median(reps, () -> s.run(in, List.of(out), ExecutionListener.NONE));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double ort;
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            try (OrtSession s = env.createSession(path.toString(), o);
                 OnnxTensor a = OnnxTensor.createTensor(env, ids);
                 OnnxTensor b = OnnxTensor.createTensor(env, mask);
                 OnnxTensor c = OnnxTensor.createTensor(env, types)) {
                Map<String, OnnxTensor> oin = Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c);
                ort = median(reps, () -> {
                    try (OrtSession.Result res = s.run(oin)) {
                        res.get(0);
                    }
                });
            }
        }
        System.out.printf(Locale.ROOT, "{\"bench\":\"executor-vs-ort\",\"model\":\"all-MiniLM-L6-v2\",\"batch\":%d,\"seq\":%d,\"threads\":%d,"
                        + "\"tamp_ms\":%.1f,\"ort_ms\":%.1f,\"ratio\":%.3f,\"peak_rss_mb\":%d}%n",
                batch, seq, threads, tamp, ort, tamp / ort, dev.tamp.core.progress.ProcessStats.peakRssMb());
    }

    interface Body { void run() throws Exception; }

    static double median(int reps, Body b) throws Exception {
        // warm-up: at least 3 runs and 2 s, so the JIT has compiled the hot loops (short inputs need many runs)
        long until = System.nanoTime() + 2_000_000_000L;
        for (int i = 0; i < 3 || System.nanoTime() < until; i++) b.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            b.run();
            t[i] = (System.nanoTime() - s) / 1e6;
        }
        return median(t);
    }

    /** The middle of the sorted timings (the upper one of an even count). */
    static double median(double[] t) {
        double[] c = t.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }
}
