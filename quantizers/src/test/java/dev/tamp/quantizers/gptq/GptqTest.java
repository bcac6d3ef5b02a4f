package dev.tamp.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.quantizers.FakeQuant;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * GPTQ on random layers whose inputs are correlated (where feeding the rounding error forward pays) and on Gram
 * matrices with known answers: diagonal (nothing to feed forward: exactly RTN), dead, indefinite, broken.
 */
class GptqTest {
    static final int N = 64, K = 256, TOKENS = 512;

    /** X = Z·A for Gaussian Z and a fixed mixing A (a shared component plus channel scales of 0.25..4). */
    static double[] correlatedGram(long seed, int k, int tokens) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) a[i * k + j] = (i == j ? 1 : 0) + 0.6 * r.nextGaussian() / Math.sqrt(k) + 0.3 / Math.sqrt(k);
        }
        double[] scale = new double[k];
        for (int j = 0; j < k; j++) scale[j] = Math.pow(2, r.nextDouble(-2, 2));
        double[] x = new double[tokens * k], z = new double[k];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < k; i++) z[i] = r.nextGaussian();
            for (int j = 0; j < k; j++) {
                double s = 0;
                for (int i = 0; i < k; i++) s += z[i] * a[i * k + j];
                x[t * k + j] = s * scale[j];
            }
        }
        return gramOf(x, tokens, k);
    }

    static double[] gramOf(double[] x, int tokens, int k) {
        double[] g = new double[k * k];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < k; i++) {
                double xi = x[t * k + i];
                if (xi == 0) continue;
                for (int j = 0; j < k; j++) g[i * k + j] += xi * x[t * k + j];
            }
        }
        return g;
    }

    static float[] gaussian(long seed, int len) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[len];
        for (int i = 0; i < len; i++) w[i] = (float) (0.05 * r.nextGaussian());
        return w;
    }

    /** tr((W−Q)·H·(W−Q)ᵀ): the squared calibration output error. */
    static double outputError(float[] w, float[] q, int n, int k, double[] h) {
        double total = 0;
        double[] d = new double[k];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) d[j] = (double) w[r * k + j] - q[r * k + j];
            for (int i = 0; i < k; i++) {
                if (d[i] == 0) continue;
                double s = 0;
                for (int j = 0; j < k; j++) s += h[i * k + j] * d[j];
                total += d[i] * s;
            }
        }
        return total;
    }

    static Gptq.Result gptq(float[] w, int n, int k, double[] gram, int bits, boolean sym, int group, boolean actOrder) {
        return Gptq.quantize(w, n, k, gram, bits, sym, group, actOrder, 0.01, 128);
    }

    static byte[] bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        d.rewind();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    static void assertSameEncoding(IntGroupedWeight expected, IntGroupedWeight actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        assertEquals(expected.kAxis(), actual.kAxis(), what);
        assertEquals(expected.groupSize(), actual.groupSize(), what);
        assertArrayEquals(bytes(expected.codes()), bytes(actual.codes()), what + ": codes");
        assertArrayEquals(bytes(expected.scales().data()), bytes(actual.scales().data()), what + ": scales");
        assertEquals(expected.zeroPoints() == null, actual.zeroPoints() == null, what);
        if (expected.zeroPoints() != null) {
            assertArrayEquals(bytes(expected.zeroPoints().data()), bytes(actual.zeroPoints().data()), what + ": zeros");
        }
    }

    @Test
    void beatsRoundToNearestOnCorrelatedInputs() {
        double[] h = correlatedGram(11, K, TOKENS);
        float[] w = gaussian(12, N * K);
        record Case(int bits, boolean sym, int group, boolean actOrder, double maxRatio) {}
        for (Case c : new Case[] {
                new Case(4, false, 128, false, 0.75), new Case(4, true, 128, false, 0.75),
                new Case(8, true, 0, false, 0.75), new Case(4, false, 128, true, 0.75), new Case(8, true, 0, true, 0.75)}) {
            Gptq.Result g = gptq(w, N, K, h, c.bits, c.sym, c.group, c.actOrder);
            float[] rtn = FakeQuant.apply(w, N, K, c.bits, c.sym, c.group);
            double eG = outputError(w, g.effective(), N, K, h), eR = outputError(w, rtn, N, K, h);
            System.err.printf("GPTQ %s%s on correlated X: output error %.4e vs RTN %.4e, ratio %.3f%n",
                    g.weight().describe(), c.actOrder ? " act-order" : "", eG, eR, eG / eR);
            assertFalse(g.fellBack());
            assertEquals(0.01, g.dampening());
            assertTrue(eG < c.maxRatio * eR, c + ": GPTQ " + eG + " vs RTN " + eR + " (ratio " + eG / eR + ")");
        }
    }

    /**
     * The paper's sweep without its two tricks (no Cholesky rows, no lazy batches): after each column, the OBS
     * update through the explicit inverse Hessian of the columns still free, which is then shrunk by eliminating
     * that column. The grid of a group comes from the codec on the group's current weights; a value is coded
     * by algorithms.md §0.2.
     */
    static float[] unbatchedObs(float[] w, int n, int k, double[] gram, int bits, boolean sym, int g, int[] order, boolean staticGroups) {
        double[] h = gram.clone();
        double[] wd = new double[n * k];
        for (int i = 0; i < wd.length; i++) wd[i] = w[i];
        double trace = 0;
        for (int j = 0; j < k; j++) {
            if (h[j * k + j] == 0) {
                h[j * k + j] = 1;
                for (int r = 0; r < n; r++) wd[r * k + j] = 0;
            }
            trace += h[j * k + j];
        }
        for (int j = 0; j < k; j++) h[j * k + j] += 0.01 * trace / k;
        double[] hinv = Linalg.inverseFromCholesky(Linalg.cholesky(new Matrix(k, k, h), Linalg.Backend.JAVA).orElseThrow(), Linalg.Backend.JAVA).data();
        int groups = (k + g - 1) / g;
        float[] scale = new float[n * groups];
        int[] zero = new int[n * groups];
        float[] out = new float[n * k];
        boolean[] done = new boolean[k];
        for (int t = 0; t < k; t++) {
            int c = order[t];
            if (staticGroups ? t == 0 : c % g == 0) {
                for (int gi = staticGroups ? 0 : c / g; gi < (staticGroups ? groups : c / g + 1); gi++) {
                    int from = gi * g, len = Math.min(k, from + g) - from;
                    float[] slice = new float[n * len];
                    for (int r = 0; r < n; r++) for (int j = 0; j < len; j++) slice[r * len + j] = (float) wd[r * k + from + j];
                    IntGroupedWeight e = FakeQuant.encode(slice, n, len, bits, sym, 0);
                    float[] sc = e.scales().toFloatArray();
                    byte[] zp = e.zeroPoints() == null ? null : bytes(e.zeroPoints().data());
                    for (int r = 0; r < n; r++) {
                        scale[r * groups + gi] = sc[r];
                        zero[r * groups + gi] = zp == null ? 0 : zp[r] & 0xFF;
                    }
                }
            }
            int qmax = sym ? (1 << (bits - 1)) - 1 : (1 << bits) - 1, lowest = sym ? -qmax : 0;
            double d = hinv[c * k + c];
            for (int r = 0; r < n; r++) {
                float s = scale[r * groups + c / g];
                int z = zero[r * groups + c / g];
                double v = wd[r * k + c];
                int q = (int) Math.max(lowest, Math.min(qmax, Math.rint((float) v / (double) s) + z));
                out[r * k + c] = (q - z) * s;
                double err = (v - out[r * k + c]) / d;
                for (int j = 0; j < k; j++) if (!done[j] && j != c) wd[r * k + j] -= err * hinv[c * k + j];
            }
            done[c] = true;
            double[] next = hinv.clone();
            for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) next[i * k + j] -= hinv[i * k + c] * hinv[c * k + j] / d;
            hinv = next;
        }
        return out;
    }

    @Test
    void matchesTheUnbatchedObsSweep() {
        int n = 12, k = 96;
        double[] h = correlatedGram(91, k, 300);
        float[] w = gaussian(92, n * k);
        int[] plain = new int[k];
        for (int j = 0; j < k; j++) plain[j] = j;
        for (boolean act : new boolean[] {false, true}) {
            for (int group : new int[] {0, 32, 40}) {
                for (int block : new int[] {128, 16, 7}) {
                    for (boolean sym : new boolean[] {true, false}) {
                        int g = group == 0 ? k : group;
                        float[] ref = unbatchedObs(w, n, k, h, 4, sym, g, act ? Gptq.descendingDiagonal(h, k) : plain, act);
                        Gptq.Result res = Gptq.quantize(w, n, k, h, 4, sym, group, act, 0.01, block);
                        int same = 0;
                        for (int i = 0; i < ref.length; i++) if (ref[i] == res.effective()[i]) same++;
                        double eRef = outputError(w, ref, n, k, h), e = outputError(w, res.effective(), n, k, h);
                        String what = (sym ? "sym" : "asym") + " g" + group + (act ? " act" : "") + " B" + block;
                        assertTrue(same >= 0.99 * ref.length, what + ": " + same + " of " + ref.length + " weights agree");
                        assertEquals(eRef, e, 1e-3 * eRef, what);
                        if (same < ref.length) System.err.printf("GPTQ vs unbatched OBS, %s: %d of %d weights differ%n", what, ref.length - same, ref.length);
                    }
                }
            }
        }
    }

    @Test
    void codesDecodeBitForBitToTheWeightsTheSweepUsed() {
        int n = 7, k = 100;
        double[] h = correlatedGram(21, k, 300);
        float[] w = gaussian(22, n * k);
        for (int bits : new int[] {4, 8}) {
            for (boolean sym : new boolean[] {true, false}) {
                for (int group : new int[] {0, 32, 64, 100, 7}) {
                    for (boolean act : new boolean[] {false, true}) {
                        for (int block : new int[] {128, 16, 5}) {
                            String what = bits + "-bit " + (sym ? "sym" : "asym") + " g" + group + (act ? " act" : "") + " B" + block;
                            Gptq.Result g = Gptq.quantize(w, n, k, h, bits, sym, group, act, 0.01, block);
                            assertArrayEquals(g.effective(), IntGroupCodec.dequantize(g.weight()), what);
                            assertEquals(group == 0 ? k : group, g.weight().groupSize(), what);
                            assertArrayEquals(new long[] {n, k}, g.weight().shape());
                            assertEquals(1, g.weight().kAxis());
                        }
                    }
                }
            }
        }
    }

    @Test
    void aDiagonalHessianFeedsNothingForwardSoGptqIsRoundToNearest() {
        int n = 9, k = 200;
        float[] w = gaussian(31, n * k);
        SplittableRandom r = new SplittableRandom(32);
        double[] h = new double[k * k];
        for (int j = 0; j < k; j++) h[j * k + j] = r.nextDouble(0.1, 10);
        double[] eye = new double[k * k];
        for (int j = 0; j < k; j++) eye[j * k + j] = 3;
        for (double[] gram : new double[][] {eye, h}) {
            for (int bits : new int[] {4, 8}) {
                for (boolean sym : new boolean[] {true, false}) {
                    for (int group : new int[] {0, 128, 48}) {
                        for (boolean act : new boolean[] {false, true}) {
                            String what = bits + "-bit " + (sym ? "sym" : "asym") + " g" + group + (act ? " act" : "") + (gram == eye ? " H=3I" : " H diagonal");
                            Gptq.Result g = gptq(w, n, k, gram, bits, sym, group, act);
                            IntGroupedWeight rtn = FakeQuant.encode(w, n, k, bits, sym, group);
                            assertSameEncoding(rtn, g.weight(), what);
                            assertArrayEquals(IntGroupCodec.dequantize(rtn), g.effective(), what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void deadInputsAreZeroedAndReported() {
        int n = 8, k = 64, tokens = 200;
        SplittableRandom r = new SplittableRandom(41);
        double[] x = new double[tokens * k];
        for (int t = 0; t < tokens; t++) {
            double common = r.nextGaussian();
            for (int j = 0; j < k; j++) x[t * k + j] = j == 3 || j == 40 ? 0 : common + r.nextGaussian();
        }
        double[] h = gramOf(x, tokens, k);
        float[] w = gaussian(42, n * k);
        for (boolean act : new boolean[] {false, true}) {
            for (boolean sym : new boolean[] {true, false}) {
                Gptq.Result g = gptq(w, n, k, h, 4, sym, 16, act);
                assertArrayEquals(new int[] {3, 40}, g.deadColumns());
                float[] decoded = IntGroupCodec.dequantize(g.weight());
                for (int row = 0; row < n; row++) {
                    for (int j : new int[] {3, 40}) {
                        assertEquals(0f, g.effective()[row * k + j], "row " + row + " col " + j);
                        assertEquals(0f, decoded[row * k + j], "row " + row + " col " + j);
                    }
                }
                assertFalse(g.fellBack());
            }
        }
    }

    @Test
    void anIndefiniteGramIsRetriedWithMoreDampingAndStillHelps() {
        int n = 16, k = 128, tokens = 64;
        // rank 64 of 128, then shifted down by 5% of its mean diagonal: the null space has eigenvalue −0.05·mean,
        // which damping of 1% cannot lift and 10% can
        double[] h = correlatedGram(51, k, tokens);
        double mean = 0;
        for (int j = 0; j < k; j++) mean += h[j * k + j] / k;
        double[] shifted = h.clone();
        for (int j = 0; j < k; j++) shifted[j * k + j] -= 0.05 * mean;
        float[] w = gaussian(52, n * k);
        Gptq.Result g = gptq(w, n, k, shifted, 4, false, 32, false);
        assertFalse(g.fellBack());
        assertEquals(0.1, g.dampening(), 1e-12);
        for (float v : g.effective()) assertTrue(Float.isFinite(v));
        assertArrayEquals(g.effective(), IntGroupCodec.dequantize(g.weight()));
        double eG = outputError(w, g.effective(), n, k, h), eR = outputError(w, FakeQuant.apply(w, n, k, 4, false, 32), n, k, h);
        System.err.printf("GPTQ on an indefinite Gram (retried at λ = %.2f): output error %.4e vs RTN %.4e, ratio %.3f%n",
                g.dampening(), eG, eR, eG / eR);
        assertTrue(eG < eR, "GPTQ " + eG + " vs RTN " + eR);

        // rank-deficient and undamped: λ = 0 cannot factor it; the first retry is the references' 0.01
        Gptq.Result undamped = Gptq.quantize(w, n, k, h, 4, false, 32, false, 0, 128);
        assertFalse(undamped.fellBack());
        assertTrue(undamped.dampening() > 0, "λ = " + undamped.dampening());
        for (float v : undamped.effective()) assertTrue(Float.isFinite(v));
    }

    @Test
    void aGramNoDampingCanRepairFallsBackToRoundToNearest() {
        int n = 6, k = 40;
        float[] w = gaussian(61, n * k);
        double[] negative = correlatedGram(62, k, 80);
        for (int i = 0; i < negative.length; i++) negative[i] = -negative[i];
        double[] nan = correlatedGram(63, k, 80);
        nan[5 * k + 7] = Double.NaN;
        for (double[] h : new double[][] {negative, nan}) {
            for (boolean act : new boolean[] {false, true}) {
                Gptq.Result g = gptq(w, n, k, h, 8, true, 0, act);
                assertTrue(g.fellBack());
                assertEquals(Gptq.MAX_DAMPENING, g.dampening(), 1e-12);
                IntGroupedWeight rtn = FakeQuant.encode(w, n, k, 8, true, 0);
                assertSameEncoding(rtn, g.weight(), "fallback");
                assertArrayEquals(IntGroupCodec.dequantize(rtn), g.effective());
            }
        }
    }

    @Test
    void theWeightCanBeLabelledForAnOnnxMatMul() {
        int n = 5, k = 24;
        Gptq.Result g = gptq(gaussian(71, n * k), n, k, correlatedGram(72, k, 50), 4, true, 8, false);
        IntGroupedWeight onnx = g.weightAs(new long[] {k, n}, 0);
        assertEquals(n, onnx.rows());
        assertEquals(k, onnx.cols());
        assertArrayEquals(g.effective(), IntGroupCodec.dequantize(onnx));
        assertThrows(IllegalArgumentException.class, () -> g.weightAs(new long[] {n, k}, 0));
    }

    @Test
    void badArgumentsAreRefused() {
        int n = 2, k = 8;
        double[] h = correlatedGram(81, k, 20);
        float[] w = gaussian(82, n * k);
        assertThrows(IllegalArgumentException.class, () -> gptq(w, n, k, h, 3, true, 0, false));
        assertThrows(IllegalArgumentException.class, () -> gptq(w, n, k + 1, h, 4, true, 0, false));
        assertThrows(IllegalArgumentException.class, () -> Gptq.quantize(w, n, k, h, 4, true, 0, false, 0.01, 0));
        assertThrows(IllegalArgumentException.class, () -> Gptq.quantize(w, n, k, h, 4, true, 0, false, -1, 128));
        float[] bad = w.clone();
        bad[11] = Float.NaN;
        BadInputException e = assertThrows(BadInputException.class, () -> gptq(bad, n, k, h, 4, true, 0, false));
        assertEquals("row 1: non-finite value NaN at index 3", e.getMessage());
    }
}
