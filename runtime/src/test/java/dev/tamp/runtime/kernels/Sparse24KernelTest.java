package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.ir.Model;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.Sparse24Codec;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.calib.LinearLayers;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The 2:4 kernel equals the reference GEMM on the decoded dense weight, on MiniLM's three linear shapes (its real
 * weights, pruned to 2 of 4 by magnitude) in both stored orientations, for row counts on and off the vector tile.
 */
class Sparse24KernelTest {
    /** Keeps the two largest |w| of every group of 4 (ties: lower column), rows [n][k]. */
    static boolean[] magnitudeMask(float[] w, int n, int k) {
        boolean[] keep = new boolean[w.length];
        for (int g = 0; g < w.length; g += 4) {
            int a = -1, b = -1;
            for (int i = 0; i < 4; i++) {
                float v = Math.abs(w[g + i]);
                if (a < 0 || v > Math.abs(w[g + a])) { b = a; a = i; }
                else if (b < 0 || v > Math.abs(w[g + b])) b = i;
            }
            keep[g + a] = keep[g + b] = true;
        }
        return keep;
    }

    /** MiniLM's first layer of each distinct (N, K) shape as [N][K] rows. */
    static List<float[]> miniLmShapes(List<int[]> shapes) {
        Model m = RuntimeTestModels.miniLm();
        List<float[]> out = new ArrayList<>();
        for (LinearLayers.Linear l : LinearLayers.of(m)) {
            int n = l.outFeatures(), k = l.inFeatures();
            if (shapes.stream().anyMatch(s -> s[0] == n && s[1] == k)) continue;
            float[] stored = ((DenseWeight) m.weights().get(l.weight())).tensor().toFloatArray();
            out.add(l.kAxis() == 1 ? stored : TiledDecodeKernelTest.transpose(stored, k, n));
            shapes.add(new int[] {n, k});
        }
        return out;
    }

    @Test
    void matchesReferenceOnMiniLmShapes() {
        List<int[]> shapes = new ArrayList<>();
        List<float[]> weights = miniLmShapes(shapes);
        assertTrue(shapes.size() >= 3, "MiniLM has 384x384, 1536x384 and 384x1536 linears: " + shapes.size());
        SplittableRandom r = new SplittableRandom(11);
        Parallel par = new Parallel(2);
        double worst = 0;
        for (int s = 0; s < shapes.size(); s++) {
            int n = shapes.get(s)[0], k = shapes.get(s)[1];
            float[] w = weights.get(s);
            boolean[] keep = magnitudeMask(w, n, k);
            for (int kAxis : new int[] {0, 1}) {
                long[] shape = kAxis == 1 ? new long[] {n, k} : new long[] {k, n};
                Sparse24Weight sw = Sparse24Codec.encode(w, keep, n, k, shape, kAxis);
                float[] dense = WeightDecoders.decode("w", sw);
                assertArrayEquals(Sparse24Codec.decode(sw), dense);
                LinearKernel kern = LinearKernels.prepare("w", sw, kAxis);
                assertTrue(kern instanceof Sparse24Kernel, kern.getClass().getName());
                assertArrayEquals(dense, kern.denseWeight());
                for (int rows : new int[] {1, 5, 37, 4 * jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() * 4 + 3}) {
                    float[] x = new float[rows * k];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    float[] got = new float[rows * n], want = new float[rows * n];
                    kern.forward(x, rows, got, par);
                    GemmReference.gemm(x, dense, want, rows, n, k);
                    for (int i = 0; i < want.length; i++) {
                        double err = Math.abs(want[i] - got[i]) / (1 + Math.abs(want[i]));
                        worst = Math.max(worst, err);
                        assertTrue(err < 1e-5, n + "x" + k + " kAxis " + kAxis + " rows " + rows + " @" + i + ": " + got[i] + " vs " + want[i]);
                    }
                    float[] again = new float[rows * n];
                    kern.forward(x, rows, again, new Parallel(1));
                    assertArrayEquals(got, again, "same bits with 1 or 2 threads");
                }
            }
        }
        System.err.printf("2:4 kernel vs reference on MiniLM shapes: worst relative error %.2e%n", worst);
        par.close();
    }

    @Test
    void quantizedValuesRunThroughTheSameKernel() {
        SplittableRandom r = new SplittableRandom(5);
        int n = 48, k = 96, rows = 40;
        float[] w = new float[n * k], x = new float[rows * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Sparse24Weight f = Sparse24Codec.encode(w, magnitudeMask(w, n, k), n, k, new long[] {n, k}, 1);
        IntGroupedWeight q = IntGroupCodec.quantize(((DenseWeight) f.values()).tensor(), 1, 4, true, 16);
        EncodedTensor sq = Sparse24Codec.withValues(f, q);
        float[] dense = WeightDecoders.decode("w", sq);
        LinearKernel kern = LinearKernels.prepare("w", sq, 1);
        float[] got = new float[rows * n], want = new float[rows * n];
        kern.forward(x, rows, got, new Parallel(1));
        GemmReference.gemm(x, dense, want, rows, n, k);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), "@" + i);
        assertThrows(IllegalArgumentException.class, () -> new Sparse24Kernel(new float[3], new int[3], 1, 8));
    }
}
