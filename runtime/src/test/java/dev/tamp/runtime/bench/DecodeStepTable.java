package dev.tamp.runtime.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.formats.onnx.OnnxWriter;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.kernels.PackedKernels;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * scripts/bench.sh decode-step: the batch-1 regime that weight compression is for. One token (M = 1) through a chain
 * of 8 linear layers of 4096 × 4096 (the projections of a 7B-class decoder layer; 512 MiB of FP32 weights, far past
 * the last-level cache, so every step streams them), run as one graph by the java backend with FP32, W8 (per-channel
 * INT8, weight-only), W4 g128 or MXFP4 weights packed for this host, against ONNX Runtime FP32 on the same graph
 * written as ONNX. Weights are seeded Gaussians (latency does not depend on values; no real model of this width is
 * bundled).
 *
 * <p>tamp and ORT steps alternate within one process (30 ms apart, so neither runtime's spinning pool threads take the
 * other's cores), and both medians come from the same minutes: on this shared VM
 * the memory bandwidth a process gets moved by up to 2× between runs a minute apart (ORT FP32 14–21 ms), which made
 * figures from separate runs incomparable. Interleaving costs tamp too (W4 13.3 ms alone vs 18.8 ms interleaved, in
 * runs a minute apart; ORT's share of the caches and memory controller is the likely cause), so the ratio is a
 * conservative one. One format per process, as a deployment loads one pack: in a JVM that had
 * JIT-compiled the INT4 GEMV first, the MXFP4 GEMV stayed about 5× slower than in a fresh one.
 * One JSON line: median ms per step of both, their ratio, and GB/s of weight bytes read.
 * Args: [layers] [dim] [reps] [fp32|w8|w4-g128|mxfp4].
 */
public final class DecodeStepTable {
    public static void main(String[] args) throws Exception {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int dim = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 41;
        String format = args.length > 3 ? args[3] : "w4-g128";
        int threads = Parallel.shared().threads();
        Model fp32 = chain(layers, dim);
        Map<String, Value> in = Map.of("x", Value.floats(input(dim), 1, dim));
        Map<String, Function<Tensor, EncodedTensor>> formats = new LinkedHashMap<>();
        formats.put("fp32", null);
        formats.put("w8", t -> IntGroupCodec.quantize(t, 0, 8, true, 0));
        formats.put("w4-g128", t -> IntGroupCodec.quantize(t, 0, 4, false, 128));
        formats.put("mxfp4", t -> MxMatrix.quantize(t, 0, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR));
        if (!formats.containsKey(format)) throw new IllegalArgumentException("format " + format + ": one of " + formats.keySet());
        Layout host = PackedKernels.hostLayout();
        Model m = formats.get(format) == null ? fp32 : encoded(fp32, formats.get(format), host);
        long bytes = m.weights().values().stream().mapToLong(EncodedTensor::storageBytes).sum();
        Path dir = Files.createTempDirectory("tamp-decode-step");
        Path file = dir.resolve("decode-step.onnx");
        try {
            OnnxWriter.write(fp32, file);
            fp32 = null;
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (Session tamp = new JavaBackend().open(m);
                 OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setIntraOpNumThreads(threads);
                o.setInterOpNumThreads(1);
                try (OrtSession ort = env.createSession(file.toString(), o);
                     OnnxTensor x = OnnxTensor.createTensor(env, new float[][] {input(dim)})) {
                    ExecutorBench.Body tampStep = () -> tamp.run(in, List.of("y"), ExecutionListener.NONE);
                    ExecutorBench.Body ortStep = () -> {
                        try (OrtSession.Result res = ort.run(Map.of("x", x))) {
                            res.get(0);
                        }
                    };
                    ExecutorBench.median(3, tampStep); // warm-up (≥ 2 s each: the JIT compiles the hot loops)
                    ExecutorBench.median(3, ortStep);
                    double[] t = new double[reps], r = new double[reps];
                    for (int i = 0; i < reps; i++) {
                        t[i] = timed(tampStep);
                        r[i] = timed(ortStep);
                    }
                    double tm = ExecutorBench.median(t), om = ExecutorBench.median(r);
                    System.out.printf(Locale.ROOT, "{\"bench\":\"decode-step\",\"runtime\":\"tamp\",\"weights\":\"%s\",\"activations\":\"%s\",\"kernels\":\"%s\",\"layout\":\"%s\",\"layers\":%d,\"n\":%d,"
                                    + "\"k\":%d,\"batch\":1,\"threads\":%d,\"weight_bytes\":%d,\"ms\":%.2f,\"weight_gb_s\":%.2f,"
                                    + "\"ort_fp32_ms\":%.2f,\"ort_fp32_gb_s\":%.2f,\"speedup_vs_ort_fp32\":%.2f}%n",
                            format, System.getProperty("tamp.activations", "auto"), dev.tamp.nativekernels.NativeKernels.describe(),
                            host == null ? "GENERIC" : host.name(), layers, dim, dim, threads, bytes, tm, bytes / (tm / 1e3) / 1e9,
                            om, (double) layers * dim * dim * 4 / (om / 1e3) / 1e9, om / tm);
                }
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /** One step, started on a quiet machine: both runtimes' pool threads spin after a run, and would steal the other's cores. */
    private static double timed(ExecutorBench.Body b) throws Exception {
        Thread.sleep(30);
        long s = System.nanoTime();
        b.run();
        return (System.nanoTime() - s) / 1e6;
    }

    /** x → MatMul(W0) → … → MatMul(W[layers-1]) → y, weights [K][N] as ONNX MatMul's B, σ = 1/√K (norms stay put). */
    static Model chain(int layers, int dim) {
        SplittableRandom r = new SplittableRandom(7);
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        List<Node> nodes = new ArrayList<>();
        String prev = "x";
        for (int l = 0; l < layers; l++) {
            float[] v = new float[dim * dim];
            float sigma = (float) (1 / Math.sqrt(dim));
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian() * sigma;
            String name = "w" + l, out = l == layers - 1 ? "y" : "h" + l;
            w.put(name, new DenseWeight(Tensor.ofFloats(v, dim, dim)));
            nodes.add(new Node("linear" + l, "MatMul", "", List.of(prev, name), List.of(out), Map.of()));
            prev = out;
        }
        List<ValueInfo.Dim> dims = List.of(ValueInfo.Dim.fixed(1), ValueInfo.Dim.fixed(dim));
        Graph g = new Graph("decode_step", nodes, List.of(new ValueInfo("x", DType.F32, dims)), List.of(new ValueInfo("y", DType.F32, dims)));
        return new Model(ModelFormat.ONNX, "decode-step", "unknown", g, w, Map.of(), Map.of("", 17L), null, List.of());
    }

    private static Model encoded(Model m, Function<Tensor, EncodedTensor> f, Layout host) {
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        m.weights().forEach((k, v) -> {
            EncodedTensor q = f.apply(((DenseWeight) v).tensor());
            w.put(k, host == null ? q : PackLayouts.pack(q, host));
        });
        return m.withWeights(w);
    }

    private static float[] input(int dim) {
        SplittableRandom r = new SplittableRandom(11);
        float[] x = new float[dim];
        for (int i = 0; i < dim; i++) x[i] = (float) r.nextGaussian();
        return x;
    }
}
