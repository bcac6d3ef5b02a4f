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
import dev.tamp.runtime.exec.Value;
import dev.tamp.runtime.kernels.PackedKernels;
import dev.tamp.runtime.kernels.Parallel;
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
 * INT8, weight-only), W4 g128 and MXFP4 weights packed for this host, against ONNX Runtime FP32 on the same graph
 * written as ONNX. Weights are seeded Gaussians (latency does not depend on values; no real model of this width is
 * bundled). One JSON line: median ms per step and GB/s of weight bytes read.
 * Args: [layers] [dim] [reps] [fp32|w8|w4-g128|mxfp4|ort-fp32]. One format per process, as a deployment loads one pack:
 * in a JVM that had JIT-compiled the INT4 GEMV first, the MXFP4 GEMV stayed about 5× slower than in a fresh one.
 */
public final class DecodeStepTable {
    public static void main(String[] args) throws Exception {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int dim = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
        int reps = args.length > 2 ? Integer.parseInt(args[2]) : 21;
        String only = args.length > 3 ? args[3] : "fp32";
        int threads = Parallel.shared().threads();
        Model fp32 = chain(layers, dim);
        Map<String, Value> in = Map.of("x", Value.floats(input(dim), 1, dim));
        Map<String, Function<Tensor, EncodedTensor>> formats = new LinkedHashMap<>();
        formats.put("fp32", null);
        formats.put("w8", t -> IntGroupCodec.quantize(t, 0, 8, true, 0));
        formats.put("w4-g128", t -> IntGroupCodec.quantize(t, 0, 4, false, 128));
        formats.put("mxfp4", t -> MxMatrix.quantize(t, 0, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR));
        if (only.equals("ort-fp32")) {
            line(only, "-", layers, dim, threads, (long) layers * dim * dim * 4, ort(fp32, dim, reps, threads));
            return;
        }
        if (!formats.containsKey(only)) throw new IllegalArgumentException("format " + only + ": one of " + formats.keySet() + " or ort-fp32");
        Layout host = PackedKernels.hostLayout();
        Model m = formats.get(only) == null ? fp32 : encoded(fp32, formats.get(only), host);
        long bytes = m.weights().values().stream().mapToLong(EncodedTensor::storageBytes).sum();
        double ms;
        try (Session s = new JavaBackend().open(m)) {
            ms = ExecutorBench.median(reps, () -> s.run(in, List.of("y"), ExecutionListener.NONE));
        }
        line(only, host == null ? "GENERIC" : host.name(), layers, dim, threads, bytes, ms);
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

    private static double ort(Model fp32, int dim, int reps, int threads) throws Exception {
        Path dir = Files.createTempDirectory("tamp-decode-step");
        Path file = dir.resolve("decode-step.onnx");
        try {
            OnnxWriter.write(fp32, file);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setIntraOpNumThreads(threads);
                o.setInterOpNumThreads(1);
                try (OrtSession s = env.createSession(file.toString(), o);
                     OnnxTensor x = OnnxTensor.createTensor(env, new float[][] {input(dim)})) {
                    return ExecutorBench.median(reps, () -> {
                        try (OrtSession.Result res = s.run(Map.of("x", x))) {
                            res.get(0);
                        }
                    });
                }
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void line(String weights, String layout, int layers, int dim, int threads, long bytes, double ms) {
        System.out.printf(Locale.ROOT, "{\"bench\":\"decode-step\",\"weights\":\"%s\",\"layout\":\"%s\",\"layers\":%d,\"n\":%d,\"k\":%d,"
                        + "\"batch\":1,\"threads\":%d,\"weight_bytes\":%d,\"ms\":%.2f,\"weight_gb_s\":%.2f}%n",
                weights, layout, layers, dim, dim, threads, bytes, ms, bytes / (ms / 1e3) / 1e9);
    }
}
