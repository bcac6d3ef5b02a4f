package dev.tamp.runtime.exec;

import static org.junit.jupiter.api.Assertions.*;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Our time vs ONNX Runtime's on MiniLM, batch 32 × 128 tokens, same thread count. Runs alternate between the
 * two engines so a shared machine's load changes hit both alike; medians are printed. No timing assertion
 * (machines differ); the outputs are checked to agree so the timed work is the real work.
 */
@Tag("slow")
class OrtTimingTest {
    @Test
    void miniLmBatch32x128AgainstOnnxRuntime() throws Exception {
        int batch = 32, seq = 128, reps = Integer.getInteger("tamp.timing.reps", 5);
        int threads = Parallel.shared().threads();
        OrtAgreementTest.Batch b = OrtAgreementTest.batch(batch, seq, 5);
        for (long[] m : b.mask()) Arrays.fill(m, 1); // full length: the timed shape is exactly 32 × 128
        for (long[] ids : b.ids()) { ids[seq - 1] = 102; }
        Model model = RuntimeTestModels.miniLm();
        String out = model.graph().outputs().get(0).name();
        Map<String, Value> in = OrtAgreementTest.inputs(b);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double[] ours = new double[reps], theirs = new double[reps];
        float[] ourLast, ortLast;
        try (Session s = new JavaBackend().open(model);
             OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            try (OrtSession ort = env.createSession(RuntimeTestModels.miniLmPath().toString(), o);
                 OnnxTensor ids = OnnxTensor.createTensor(env, b.ids());
                 OnnxTensor mask = OnnxTensor.createTensor(env, b.mask());
                 OnnxTensor types = OnnxTensor.createTensor(env, new long[batch][seq])) {
                Map<String, OnnxTensor> oin = Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types);
                ourLast = s.run(in, List.of(out), ExecutionListener.NONE).get(out).floats; // warm-up
                try (OrtSession.Result r = ort.run(oin)) { ortLast = flatten((float[][][]) r.get(0).getValue()); }
                for (int i = 0; i < reps; i++) {
                    long t0 = System.nanoTime();
                    s.run(in, List.of(out), ExecutionListener.NONE);
                    long t1 = System.nanoTime();
                    try (OrtSession.Result r = ort.run(oin)) { r.get(0); }
                    long t2 = System.nanoTime();
                    ours[i] = (t1 - t0) / 1e6;
                    theirs[i] = (t2 - t1) / 1e6;
                }
            }
        }
        double maxDiff = 0;
        for (int i = 0; i < ourLast.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ourLast[i] - ortLast[i]));
        Arrays.sort(ours);
        Arrays.sort(theirs);
        double t = ours[reps / 2], o = theirs[reps / 2];
        System.err.printf(Locale.ROOT, "MiniLM %dx%d, %d threads: java backend %.0f ms, ONNX Runtime %.0f ms, ratio %.2f (medians of %d alternating runs; blas=%s; max |Δ| %.2g)%n",
                batch, seq, threads, t, o, t / o, reps, dev.tamp.runtime.kernels.OpenBlas.available(), maxDiff);
        assertTrue(maxDiff <= 1e-4, "outputs differ by " + maxDiff);
    }

    static float[] flatten(float[][][] v) {
        int d = v[0][0].length, s = v[0].length;
        float[] f = new float[v.length * s * d];
        for (int i = 0; i < v.length; i++) for (int t = 0; t < s; t++) System.arraycopy(v[i][t], 0, f, (i * s + t) * d, d);
        return f;
    }
}
