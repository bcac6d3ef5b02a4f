package dev.tamp.runtime.bench;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.ir.Model;
import dev.tamp.formats.codec.Sparse24Codec;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.kernels.DenseLinearKernel;
import dev.tamp.runtime.kernels.LinearKernel;
import dev.tamp.runtime.kernels.LinearKernels;
import dev.tamp.runtime.kernels.OpenBlas;
import dev.tamp.runtime.kernels.PanelGemm;
import dev.tamp.runtime.kernels.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * scripts/bench.sh sparse: the 2:4 kernel against the dense FP32 kernels on MiniLM's three linear shapes (their real
 * weights, pruned 2 of 4 by magnitude), for one activation row (GEMV) and for batch × sequence rows. Dense is
 * timed twice: through {@link DenseLinearKernel} (OpenBLAS when it loads and rows ≥ 64) and through the pure-Java
 * panel GEMM. One JSON object per shape and row count (median of repeated runs after warm-up).
 * Args: [rows] [reps].
 */
public final class SparseKernelBench {
    public static void main(String[] args) throws Exception {
        int many = args.length > 0 ? Integer.parseInt(args[0]) : 32 * 128;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        Parallel par = Parallel.shared();
        Model m = RuntimeTestModels.miniLm();
        List<String> seen = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(3);
        for (LinearLayers.Linear l : LinearLayers.of(m)) {
            int n = l.outFeatures(), k = l.inFeatures();
            if (seen.contains(n + "x" + k)) continue;
            seen.add(n + "x" + k);
            float[] stored = ((DenseWeight) m.weights().get(l.weight())).tensor().toFloatArray();
            float[] w = new float[n * k];
            for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) w[j * k + p] = l.kAxis() == 0 ? stored[p * n + j] : stored[j * k + p];
            boolean[] keep = new boolean[w.length];
            for (int g = 0; g < w.length; g += 4) {
                int a = 0, b = 1;
                if (Math.abs(w[g + b]) > Math.abs(w[g + a])) { a = 1; b = 0; }
                for (int i = 2; i < 4; i++) {
                    float v = Math.abs(w[g + i]);
                    if (v > Math.abs(w[g + a])) { b = a; a = i; }
                    else if (v > Math.abs(w[g + b])) b = i;
                }
                keep[g + a] = keep[g + b] = true;
            }
            Sparse24Weight sw = Sparse24Codec.encode(w, keep, n, k, new long[] {n, k}, 1);
            LinearKernel sparse = LinearKernels.prepare("w", sw, 1);
            float[] prunedDense = sparse.denseWeight();
            DenseLinearKernel dense = new DenseLinearKernel(prunedDense, n, k);
            float[] panels = PanelGemm.pack(prunedDense, n, k);
            for (int rows : new int[] {1, many}) {
                float[] x = new float[rows * k], out = new float[rows * n];
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                double ts = ExecutorBench.median(reps, () -> sparse.forward(x, rows, out, par));
                double td = ExecutorBench.median(reps, () -> dense.forward(x, rows, out, par));
                double tp = rows >= 8 ? ExecutorBench.median(reps, () -> PanelGemm.gemm(x, panels, out, rows, n, k, par)) : td;
                System.out.printf(Locale.ROOT, "{\"bench\":\"sparse24-kernel\",\"model\":\"all-MiniLM-L6-v2\",\"n\":%d,\"k\":%d,\"rows\":%d,"
                                + "\"threads\":%d,\"openblas\":%b,\"sparse_ms\":%.3f,\"dense_ms\":%.3f,\"dense_java_ms\":%.3f,"
                                + "\"speedup_vs_dense\":%.2f,\"speedup_vs_dense_java\":%.2f}%n",
                        n, k, rows, par.threads(), OpenBlas.available(), ts, td, tp, td / ts, tp / ts);
            }
        }
    }
}
