package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.ScaleRule;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The on-the-fly MX and int-group kernels equal the reference GEMM on the decoded weight, for both weight orientations. */
class TiledDecodeKernelTest {
    @Test
    void matchesReferenceOnDecodedWeights() {
        SplittableRandom r = new SplittableRandom(4);
        Parallel par = new Parallel(2);
        int[][] shapes = {{1, 40, 70}, {7, 33, 96}, {65, 100, 130}};
        for (MxFormat f : new MxFormat[] {MxFormat.MXFP4_E2M1, MxFormat.MXINT8, MxFormat.MXFP6_E3M2}) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                float[] wv = new float[n * k], x = new float[m * k];
                for (int i = 0; i < wv.length; i++) wv[i] = (float) r.nextGaussian();
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                for (int kAxis : new int[] {0, 1}) {
                    Tensor t = kAxis == 1 ? Tensor.ofFloats(wv, n, k) : Tensor.ofFloats(transpose(wv, n, k), k, n);
                    MxWeight w = MxMatrix.quantize(t, kAxis, f, 32, ScaleRule.FLOOR);
                    LinearKernel kern = LinearKernels.prepareJavaFloat("w", w, kAxis);
                    assertTrue(kern instanceof TiledDecodeKernel);
                    float[] got = new float[m * n], want = new float[m * n];
                    kern.forward(x, m, got, par);
                    GemmReference.gemm(x, MxMatrix.dequantize(w), want, m, n, k);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), f + " " + m + "x" + n + "x" + k + " kAxis " + kAxis + " @" + i);
                    }
                }
            }
        }
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] wv = new float[n * k], x = new float[m * k];
            for (int i = 0; i < wv.length; i++) wv[i] = (float) r.nextGaussian();
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            for (boolean sym : new boolean[] {true, false}) {
                for (int bits : new int[] {4, 8}) {
                    var w = dev.tamp.formats.codec.IntGroupCodec.quantize(Tensor.ofFloats(wv, n, k), 1, bits, sym, 32);
                    LinearKernel kern = LinearKernels.prepareJavaFloat("w", w, 1);
                    assertTrue(kern instanceof TiledDecodeKernel);
                    float[] got = new float[m * n], want = new float[m * n];
                    kern.forward(x, m, got, par);
                    GemmReference.gemm(x, dev.tamp.formats.codec.IntGroupCodec.dequantize(w), want, m, n, k);
                    for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), "int" + bits + " sym " + sym);
                }
            }
        }
        par.close();
    }

    static float[] transpose(float[] a, int rows, int cols) {
        float[] o = new float[a.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) o[j * rows + i] = a[i * cols + j];
        return o;
    }
}
