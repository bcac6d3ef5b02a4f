package dev.tamp.runtime.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.formats.codec.Sparse24Codec;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.kernels.LinearKernel;
import dev.tamp.runtime.kernels.LinearKernels;
import dev.tamp.runtime.kernels.PackedKernels;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * scripts/bench.sh pack-latency: MiniLM in the java backend as FP32, W8A8 (RTN per-channel INT8, dynamic per-token
 * INT8 activations), W4 g128 (RTN, zero points), MXFP4 and 2:4 (magnitude, INT8 values), each packed for this host's
 * vector width, against ONNX Runtime FP32 in the same run, at batch 1 and batch 32 (× seq tokens); then batch-1 W4
 * GEMV on 4096×4096 layers (cycling through enough of them to miss the last-level cache) as GB/s of packed weight
 * read, against a measured stream-read bandwidth of this machine. One JSON line per figure.
 * Args: [seq] [reps], or {@code gemv} for the GEMV figure alone.
 */
public final class PackLatencyTable {
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("gemv")) { // scripts/bench.sh pack-gemv: the GEMV figure alone
            gemv(PackedKernels.hostLayout(), Parallel.shared().threads());
            return;
        }
        int seq = args.length > 0 ? Integer.parseInt(args[0]) : 128;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Layout host = PackedKernels.hostLayout();
        int threads = Parallel.shared().threads();
        Model fp32 = RuntimeTestModels.miniLm();
        Map<String, Function<Tensor, EncodedTensor>> methods = methods();
        for (int batch : new int[] {1, 32}) {
            Map<String, Value> in = inputs(batch, seq);
            String out = fp32.graph().outputs().get(0).name();
            for (Map.Entry<String, Function<Tensor, EncodedTensor>> e : methods.entrySet()) {
                Model m = e.getValue() == null ? fp32 : quantized(fp32, e.getValue(), host);
                double ms;
                try (Session s = new JavaBackend().open(m)) {
                    ms = ExecutorBench.median(reps, () -> s.run(in, List.of(out), ExecutionListener.NONE));
                }
                line(e.getKey(), host, batch, seq, ms, threads);
            }
            line("ort-fp32", null, batch, seq, ort(batch, seq, reps, threads), threads);
        }
        gemv(host, threads);
    }

    /** The weight encodings of the table, by name (null: FP32 as loaded). */
    static Map<String, Function<Tensor, EncodedTensor>> methods() {
        Map<String, Function<Tensor, EncodedTensor>> methods = new LinkedHashMap<>();
        methods.put("fp32", null);
        methods.put("w8a8", t -> {
            IntGroupedWeight w = IntGroupCodec.quantize(t, 0, 8, true, 0);
            return new IntGroupedWeight(w.shape(), 0, 8, true, w.groupSize(), w.codes(), w.scales(), null, null, 8, 0f, Layout.GENERIC);
        });
        methods.put("w4-g128", t -> IntGroupCodec.quantize(t, 0, 4, false, 128));
        methods.put("mxfp4", t -> MxMatrix.quantize(t, 0, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR));
        methods.put("2:4-int8", PackLatencyTable::sparse24);
        return methods;
    }

    /** MiniLM with the table's encoding {@code name} (fp32, w8a8, w4-g128, mxfp4, 2:4-int8), packed for this host. */
    static Model withWeights(Model fp32, String name) {
        Map<String, Function<Tensor, EncodedTensor>> methods = methods();
        if (!methods.containsKey(name)) throw new IllegalArgumentException("weights " + name + ": one of " + methods.keySet());
        return methods.get(name) == null ? fp32 : quantized(fp32, methods.get(name), PackedKernels.hostLayout());
    }

    private static void line(String what, Layout l, int batch, int seq, double ms, int threads) {
        System.out.printf(Locale.ROOT, "{\"bench\":\"pack-latency\",\"model\":\"all-MiniLM-L6-v2\",\"weights\":\"%s\",\"layout\":\"%s\",\"batch\":%d,"
                + "\"seq\":%d,\"threads\":%d,\"ms\":%.1f}%n", what, l == null ? "-" : l.name(), batch, seq, threads, ms);
    }

    /** MiniLM with every MatMul initializer ([K][N]) encoded and packed for the host. */
    private static Model quantized(Model m, Function<Tensor, EncodedTensor> f, Layout host) {
        Map<String, EncodedTensor> w = new LinkedHashMap<>(m.weights());
        for (Map.Entry<String, EncodedTensor> e : m.weights().entrySet()) {
            if (e.getKey().startsWith("onnx::MatMul") && e.getValue() instanceof DenseWeight d && d.tensor().rank() == 2) {
                EncodedTensor q = f.apply(d.tensor());
                w.put(e.getKey(), host == null ? q : PackLayouts.pack(q, host));
            }
        }
        return m.withWeights(w);
    }

    private static EncodedTensor sparse24(Tensor t) {
        int k = (int) t.shape()[0], n = (int) t.shape()[1];
        float[] kn = t.toFloatArray(), rows = new float[n * k];
        for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) rows[j * k + p] = kn[p * n + j];
        boolean[] keep = new boolean[rows.length];
        for (int g = 0; g < rows.length; g += 4) {
            int a = 0, b = -1;
            for (int i = 1; i < 4; i++) if (Math.abs(rows[g + i]) > Math.abs(rows[g + a])) a = i;
            for (int i = 0; i < 4; i++) if (i != a && (b < 0 || Math.abs(rows[g + i]) > Math.abs(rows[g + b]))) b = i;
            keep[g + a] = true;
            keep[g + b] = true;
        }
        Sparse24Weight s = Sparse24Codec.encode(rows, keep, n, k, t.shape(), 0);
        return Sparse24Codec.withValues(s, IntGroupCodec.quantize(((DenseWeight) s.values()).tensor(), 1, 8, true, 0));
    }

    private static Map<String, Value> inputs(int batch, int seq) {
        SplittableRandom r = new SplittableRandom(1);
        long[] ids = new long[batch * seq], mask = new long[batch * seq];
        for (int i = 0; i < batch * seq; i++) {
            int t = i % seq;
            ids[i] = t == 0 ? 101 : t == seq - 1 ? 102 : 1000 + r.nextInt(29000);
            mask[i] = 1;
        }
        Map<String, Value> in = new HashMap<>();
        in.put("input_ids", Value.longs(ids, batch, seq));
        in.put("attention_mask", Value.longs(mask, batch, seq));
        in.put("token_type_ids", Value.longs(new long[batch * seq], batch, seq));
        return in;
    }

    private static double ort(int batch, int seq, int reps, int threads) throws Exception {
        Map<String, Value> in = inputs(batch, seq);
        long[][] ids = new long[batch][seq], mask = new long[batch][seq], types = new long[batch][seq];
        Value flat = in.get("input_ids");
        for (int i = 0; i < batch; i++) {
            for (int t = 0; t < seq; t++) {
                ids[i][t] = flat.getLong(i * seq + t);
                mask[i][t] = 1;
            }
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            try (OrtSession s = env.createSession(RuntimeTestModels.miniLmPath().toString(), o);
                 OnnxTensor a = OnnxTensor.createTensor(env, ids);
                 OnnxTensor b = OnnxTensor.createTensor(env, mask);
                 OnnxTensor c = OnnxTensor.createTensor(env, types)) {
                Map<String, OnnxTensor> oin = Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c);
                return ExecutorBench.median(reps, () -> {
                    try (OrtSession.Result res = s.run(oin)) {
                        res.get(0);
                    }
                });
            }
        }
    }

    /** Batch-1 W4 g128 GEMV on 4096×4096 layers packed for the host vs a stream read of a 512 MiB array. */
    private static void gemv(Layout host, int threads) throws Exception {
        int n = 4096, k = 4096, layers = 8; // 8 × 8.5 MB of codes and scales: well past a 32 MiB L3
        SplittableRandom r = new SplittableRandom(3);
        LinearKernel[] ks = new LinearKernel[layers];
        long bytes = 0;
        float[] v = new float[n * k];
        for (int i = 0; i < layers; i++) {
            for (int j = 0; j < v.length; j++) v[j] = (float) r.nextGaussian() * 0.02f;
            IntGroupedWeight w = IntGroupCodec.quantize(Tensor.ofFloats(v, n, k), 1, 4, true, 128);
            EncodedTensor p = host == null ? w : PackLayouts.pack(w, host);
            bytes = p.storageBytes();
            ks[i] = LinearKernels.prepare("gemv", p, 1);
        }
        v = null;
        float[] x = new float[k], y = new float[n];
        for (int i = 0; i < k; i++) x[i] = (float) r.nextGaussian();
        Parallel par = Parallel.shared();
        int[] at = {0};
        double ms = ExecutorBench.median(41, () -> ks[at[0]++ % layers].forward(x, 1, y, par));
        double gemvGbs = bytes / (ms / 1e3) / 1e9;
        double streamGbs = streamRead(par);
        System.out.printf(Locale.ROOT, "{\"bench\":\"pack-gemv\",\"weights\":\"w4-sym-g128\",\"layout\":\"%s\",\"n\":%d,\"k\":%d,\"threads\":%d,"
                        + "\"weight_bytes\":%d,\"ms\":%.3f,\"gemv_gb_s\":%.2f,\"stream_read_gb_s\":%.2f,\"fraction_of_stream\":%.2f}%n",
                host == null ? "GENERIC" : host.name(), n, k, threads, bytes, ms, gemvGbs, streamGbs, gemvGbs / streamGbs);
    }

    /**
     * GB/s of summing a 512 MiB float array with all threads (vector loads), median of repeats. The loop is a static
     * method the lambda calls: written inline in the lambda it measured 10 GB/s here, 33–47 GB/s as a method (and
     * ORT's FP32 GEMV streams 24–38 GB/s), so the GEMV fraction had been taken against a third of the bandwidth.
     */
    private static double streamRead(Parallel par) throws Exception {
        float[] a = new float[128 << 20];
        for (int i = 0; i < a.length; i += 1024) a[i] = i;
        float[] sink = new float[64];
        double ms = ExecutorBench.median(7, () -> par.forRange(a.length, 1 << 20, (from, to) -> sink[(from >>> 20) & 63] += sum(a, from, to)));
        return (double) a.length * 4 / (ms / 1e3) / 1e9;
    }

    private static float sum(float[] a, int from, int to) {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        FloatVector acc0 = FloatVector.zero(s), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        int l = s.length(), i = from;
        for (; i + 4 * l <= to; i += 4 * l) {
            acc0 = acc0.add(FloatVector.fromArray(s, a, i));
            acc1 = acc1.add(FloatVector.fromArray(s, a, i + l));
            acc2 = acc2.add(FloatVector.fromArray(s, a, i + 2 * l));
            acc3 = acc3.add(FloatVector.fromArray(s, a, i + 3 * l));
        }
        float t = acc0.add(acc1).add(acc2).add(acc3).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) t += a[i];
        return t;
    }
}
