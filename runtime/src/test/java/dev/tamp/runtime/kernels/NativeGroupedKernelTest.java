package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.nativekernels.NativeKernels;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every native variant this CPU runs (plain C, AVX2, AVX-512 VNNI) against the Java kernels, for 4- and 8-bit codes,
 * symmetric and with zero points, groups of 32 to one a row, every pack layout and ragged K, in the three activation
 * modes: float (the Java decoder's weights), int8 per block of 32 and W8A8 per token / static with an input scale.
 * Integer parts bit-exact (the int8 activation codes and their scales against {@link ActivationQuantization}), float
 * outputs within summation-order error of Σ|w·x|.
 */
class NativeGroupedKernelTest {
    private static final Parallel PAR = new Parallel(2);
    private static final Layout[] LAYOUTS = {Layout.GENERIC, Layout.SPLIT16, Layout.SPLIT32, Layout.SPLIT64, Layout.CUDA_ROWS16};

    /** Skips where the library was not built, except under TAMP_REQUIRE_NATIVE=1 (.ci/run), where that fails. */
    static void requireNative() {
        if ("1".equals(System.getenv("TAMP_REQUIRE_NATIVE"))) assertTrue(NativeKernels.available(), NativeKernels.describe());
        assumeTrue(NativeKernels.available(), NativeKernels.describe());
    }

    private static List<NativeKernels.Isa> variants() {
        requireNative();
        List<NativeKernels.Isa> v = new ArrayList<>();
        for (NativeKernels.Isa i : NativeKernels.Isa.values()) if (i.ordinal() <= NativeKernels.cpuIsa().ordinal()) v.add(i);
        return v;
    }

    private static Tensor weights(int n, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n * k];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian() * (i % 7 == 0 ? 3 : 1) + (i % 5 == 0 ? 0.3f : 0);
        return Tensor.ofFloats(v, n, k);
    }

    private static float[] input(int rows, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * (i % 13 == 0 ? 8 : 1);
        return x;
    }

    /** |a − b| ≤ tol·Σ|w·x| + 1e-6 per output, where Σ|w·x| bounds the summation-order error. */
    private static void assertClose(float[] ref, float[] got, float[] w, float[] x, int rows, int n, int k, String what) {
        assertClose(ref, got, w, x, rows, n, k, false, what);
    }

    /**
     * With {@code shifted}, the bound also holds the zero point's share: the integer kernels sum unsigned codes and take
     * z·s·Σq off at the end, so their rounding scales with Σ|(q − z)·s·x| + |z·s|·Σ|x|, where |z·s| ≤ 1.5·max|w| of the row
     * (symmetric 4-bit: 8/7 of it; MXFP4: the block's largest element).
     */
    private static void assertClose(float[] ref, float[] got, float[] w, float[] x, int rows, int n, int k, boolean shifted, String what) {
        for (int m = 0; m < rows; m++) {
            for (int r = 0; r < n; r++) {
                double mag = 0, wmax = 0, xsum = 0;
                for (int j = 0; j < k; j++) {
                    mag += Math.abs(w[r * k + j] * x[m * k + j]);
                    wmax = Math.max(wmax, Math.abs(w[r * k + j]));
                    xsum += Math.abs(x[m * k + j]);
                }
                if (shifted) mag += 1.5 * wmax * xsum;
                double d = Math.abs(ref[m * n + r] - got[m * n + r]);
                assertTrue(d <= 2e-6 * mag + 1e-6, what + " row " + m + " out " + r + ": " + ref[m * n + r] + " vs " + got[m * n + r]);
            }
        }
    }

    /**
     * ref and nat on the same input rows, within {@link #assertClose}; the error bound uses the activations the kernels
     * multiply: x itself, or x quantized per block of 32 where {@code int8}.
     */
    private static void assertSameOutputs(LinearKernel ref, LinearKernel nat, float[] dense, float[] x, int rows, int n, int k,
                                          boolean int8, String what) {
        float[] xq = x.clone();
        if (int8) ActivationQuantization.quantizeBlocks(xq, 0, rows, k, 32, 127, 0f);
        float[] a = new float[rows * n], b = new float[rows * n];
        ref.forward(x, rows, a, PAR);
        nat.forward(x, rows, b, PAR);
        assertClose(a, b, dense, xq, rows, n, k, int8, what);
    }

    @Test
    void floatActivationsMatchTheJavaKernelsEverywhere() {
        int[] ks = {64, 96, 99, 200, 384, 1000, 1536};
        for (NativeKernels.Isa isa : variants()) {
            for (int bits : new int[] {4, 8}) {
                for (boolean sym : new boolean[] {true, false}) {
                    for (int group : new int[] {32, 64, 128, 0}) {
                        for (int k : ks) {
                            int n = 37;
                            IntGroupedWeight g = IntGroupCodec.quantize(weights(n, k, k + bits), 1, bits, sym, group);
                            float[] dense = IntGroupCodec.dequantize(g);
                            for (Layout l : LAYOUTS) {
                                IntGroupedWeight w = (IntGroupedWeight) PackLayouts.pack(g, l);
                                LinearKernel java = LinearKernels.prepareJavaFloat("w", w, 1);
                                NativeGroupedKernel nat = NativeGroupedKernel.of(w, java, isa, NativeGroupedKernel.Activations.FLOAT);
                                String what = isa + " " + w.describe() + " " + l + " K=" + k;
                                assertNotNull(nat, what);
                                for (int rows : new int[] {1, 3, 16}) {
                                    assertSameOutputs(java, nat, dense, input(rows, k, rows * 31L + k), rows, n, k, false, what);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void int8BlockActivationsMatchFakeQuantizedJava() {
        for (NativeKernels.Isa isa : variants()) {
            for (int bits : new int[] {4, 8}) {
                for (boolean sym : new boolean[] {true, false}) {
                    for (int group : new int[] {32, 128, 0}) {
                        for (int k : new int[] {64, 99, 200, 384, 2048}) {
                            int n = 21;
                            IntGroupedWeight g = IntGroupCodec.quantize(weights(n, k, 3 * k + bits), 1, bits, sym, group);
                            float[] dense = IntGroupCodec.dequantize(g);
                            for (Layout l : LAYOUTS) {
                                IntGroupedWeight w = (IntGroupedWeight) PackLayouts.pack(g, l);
                                LinearKernel java = LinearKernels.prepareJavaFloat("w", w, 1);
                                LinearKernel ref = new ActivationQuantizingKernel(java, 8, 0f, null, NativeGroupedKernel.BLOCK);
                                if (bits == 4) { // the default for 4-bit weights, native or not
                                    LinearKernel dflt = LinearKernels.prepareJava("w", w, 1);
                                    assertTrue(dflt instanceof ActivationQuantizingKernel, "W4 defaults to int8 activations");
                                }
                                NativeGroupedKernel nat = NativeGroupedKernel.of(w, java, isa, NativeGroupedKernel.Activations.INT8_BLOCK);
                                String what = isa + " " + w.describe() + " " + l + " K=" + k;
                                assertNotNull(nat, what);
                                for (int rows : new int[] {1, 4, 17, 45}) { // 17, 45: past MAX_ROWS (AVX2: the Java path) and past a panel of the blocked kernels (K = 2048)
                                    assertSameOutputs(ref, nat, dense, input(rows, k, rows * 7L + k), rows, n, k, true, what);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The AVX-512 int8 kernels block many activation rows against each block of weight rows (and W8A8 runs a VNNI-order
     * GEMM past 16 rows); blocking must not change a row's result: each of 45 rows gives the bits of its own 1-row call
     * (the GEMV), for W8A8 per token (32-row GEMM blocks and a row-major tail), W4 g128 (one group a chunk) and W4 g32 and
     * MXFP4 (groups per lane), in two layouts.
     */
    @Test
    void manyRowsGiveEachRowTheBitsOfItsOwnCall() {
        requireNative();
        assumeTrue(NativeKernels.cpuIsa() == NativeKernels.Isa.AVX512, "blocked kernels are AVX-512's");
        NativeKernels.Isa isa = NativeKernels.Isa.AVX512;
      for (int[] nk : new int[][] {{72, 384}, {101, 64}, {64, 96}}) {
        int n = nk[0], k = nk[1], rows = 45;
        Tensor t = weights(n, k, 17);
        List<Object[]> cases = new ArrayList<>();
        IntGroupedWeight w8 = IntGroupCodec.quantize(t, 1, 8, true, 0);
        cases.add(new Object[] {new IntGroupedWeight(w8.shape(), 1, 8, true, 0, w8.codes(), w8.scales(), null, null, 8, 0f, Layout.GENERIC),
                NativeGroupedKernel.Activations.INT8_ROW});
        for (Layout l : new Layout[] {Layout.GENERIC, Layout.SPLIT64}) {
            cases.add(new Object[] {PackLayouts.pack(IntGroupCodec.quantize(t, 1, 4, false, 128), l), NativeGroupedKernel.Activations.INT8_BLOCK});
            cases.add(new Object[] {PackLayouts.pack(IntGroupCodec.quantize(t, 1, 4, true, 32), l), NativeGroupedKernel.Activations.INT8_BLOCK});
            cases.add(new Object[] {PackLayouts.pack(MxMatrix.quantize(t, 1, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR), l),
                    NativeGroupedKernel.Activations.INT8_BLOCK});
        }
        float[] x = input(rows, k, 99);
        for (Object[] c : cases) {
            NativeGroupedKernel nat = c[0] instanceof MxWeight mx
                    ? NativeGroupedKernel.of(mx, LinearKernels.prepareJavaFloat("w", mx, 1), isa, (NativeGroupedKernel.Activations) c[1])
                    : NativeGroupedKernel.of((IntGroupedWeight) c[0], LinearKernels.prepareJavaFloat("w", (IntGroupedWeight) c[0], 1), isa,
                            (NativeGroupedKernel.Activations) c[1]);
            assertNotNull(nat, String.valueOf(c[0]));
            float[] all = new float[rows * n];
            nat.forward(x, rows, all, PAR);
            for (int m = 0; m < rows; m++) {
                float[] one = new float[n];
                nat.forward(java.util.Arrays.copyOfRange(x, m * k, (m + 1) * k), 1, one, PAR);
                assertArrayEquals(one, java.util.Arrays.copyOfRange(all, m * n, (m + 1) * n), c[0] + " K=" + k + " row " + m);
            }
        }
      }
    }

    @Test
    void w8a8PerTokenAndStaticWithInputScaleMatchTheSimulatedKernel() {
        for (NativeKernels.Isa isa : variants()) {
          for (int bits : new int[] {8, 4}) {
            for (float stat : new float[] {0f, 0.05f}) {
                for (int k : new int[] {384, 1536, 100}) {
                    int n = 40;
                    IntGroupedWeight g = IntGroupCodec.quantize(weights(n, k, k), 1, bits, true, 0);
                    float[] s = new float[k];
                    for (int j = 0; j < k; j++) s[j] = 0.5f + (j % 9) * 0.25f;
                    IntGroupedWeight w8a8 = new IntGroupedWeight(g.shape(), 1, bits, true, g.groupSize(), g.codes(), g.scales(), null,
                            Tensor.ofFloats(s, k), 8, stat, Layout.GENERIC);
                    LinearKernel ref = LinearKernels.prepareJava("w", w8a8, 1);
                    assertTrue(ref instanceof ActivationQuantizingKernel);
                    LinearKernel java = ((ActivationQuantizingKernel) ref).weightsKernel();
                    NativeGroupedKernel nat = NativeGroupedKernel.of(w8a8, java, isa, NativeGroupedKernel.Activations.INT8_ROW);
                    assertNotNull(nat);
                    float[] dense = IntGroupCodec.dequantize(g);
                    for (int rows : new int[] {1, 5, 32, 103}) {
                        float[] x = input(rows, k, 5L * rows + k);
                        float[] xs = new float[rows * k];
                        for (int i = 0; i < xs.length; i++) xs[i] = x[i] * s[i % k];
                        float[] a = new float[rows * n], b = new float[rows * n];
                        ref.forward(x, rows, a, PAR);
                        nat.forward(x, rows, b, PAR);
                        assertClose(a, b, dense, xs, rows, n, k, true, isa + " W" + bits + "A8 static=" + stat + " K=" + k);
                    }
                }
            }
          }
        }
    }

    /**
     * MX weights: MXFP4 and MXINT4 through the kernels' 16-entry code table, MXINT8 as signed bytes, against the Java
     * MX kernels (float activations: the same decoded values; int8: the same quantized activations), every layout,
     * ragged K (padded to whole blocks). Formats without an exact integer form here are left to the Java kernels.
     */
    @Test
    void mxWeightsMatchTheJavaKernels() {
        MxFormat[] native8or4 = {MxFormat.MXFP4_E2M1, MxFormat.MXINT4, MxFormat.MXINT8};
        for (NativeKernels.Isa isa : variants()) {
            for (MxFormat f : native8or4) {
                for (int k : new int[] {64, 99, 200, 384, 2048}) {
                    int n = 19;
                    MxWeight g = MxMatrix.quantize(weights(n, k, 11L * k + f.bits()), 1, f, 32, ScaleRule.FLOOR);
                    float[] dense = MxMatrix.dequantize(g);
                    for (Layout l : LAYOUTS) {
                        MxWeight w = (MxWeight) PackLayouts.pack(g, l);
                        LinearKernel java = LinearKernels.prepareJavaFloat("w", w, 1);
                        for (NativeGroupedKernel.Activations mode : new NativeGroupedKernel.Activations[] {
                                NativeGroupedKernel.Activations.FLOAT, NativeGroupedKernel.Activations.INT8_BLOCK}) {
                            boolean int8 = mode == NativeGroupedKernel.Activations.INT8_BLOCK;
                            LinearKernel ref = int8 ? new ActivationQuantizingKernel(java, 8, 0f, null, NativeGroupedKernel.BLOCK) : java;
                            NativeGroupedKernel nat = NativeGroupedKernel.of(w, java, isa, mode);
                            String what = isa + " " + f + " " + l + " K=" + k + " " + mode;
                            assertNotNull(nat, what);
                            for (int rows : new int[] {1, 4, 17}) {
                                assertSameOutputs(ref, nat, dense, input(rows, k, rows * 13L + k), rows, n, k, int8, what);
                            }
                        }
                    }
                }
            }
        }
        MxWeight fp8 = MxMatrix.quantize(weights(4, 64, 1), 1, MxFormat.MXFP8_E4M3, 32, ScaleRule.FLOOR);
        MxWeight fp6 = MxMatrix.quantize(weights(4, 64, 1), 1, MxFormat.MXFP6_E2M3, 32, ScaleRule.FLOOR);
        for (MxWeight w : new MxWeight[] {fp8, fp6}) {
            assertNull(NativeGroupedKernel.of(w, LinearKernels.prepareJavaFloat("w", w, 1), NativeKernels.cpuIsa(),
                    NativeGroupedKernel.Activations.FLOAT), w.format() + " has no exact int8 form");
        }
    }

    /** The integer forms: MXFP4 is ggml's doubled E2M1 table made unsigned; MXINT8 signed bytes; MXFP8 has none. */
    @Test
    void mxIntegerForms() {
        MxIntegerForm fp4 = MxIntegerForm.of(MxFormat.MXFP4_E2M1);
        assertEquals(1, fp4.shift());
        assertEquals(12, fp4.zero());
        assertArrayEquals(new byte[] {12, 13, 14, 15, 16, 18, 20, 24, 12, 11, 10, 9, 8, 6, 4, 0}, fp4.table());
        MxIntegerForm int4 = MxIntegerForm.of(MxFormat.MXINT4);
        assertEquals(2, int4.shift());
        MxIntegerForm int8 = MxIntegerForm.of(MxFormat.MXINT8);
        assertEquals(6, int8.shift());
        assertEquals(128, int8.zero());
        assertNull(int8.table());
        assertNull(MxIntegerForm.of(MxFormat.MXFP8_E4M3));
        assertNull(MxIntegerForm.of(MxFormat.MXFP8_E5M2));
        assertNull(MxIntegerForm.of(MxFormat.MXFP6_E3M2));
    }

    /** The int8 codes and block scales the native side computes are the Java quantizer's, bit for bit. */
    @Test
    void activationCodesAreBitExact() {
        for (NativeKernels.Isa isa : variants()) {
            for (Layout l : LAYOUTS) {
                int k = 328, n = 2, rows = 3;
                IntGroupedWeight w = (IntGroupedWeight) PackLayouts.pack(IntGroupCodec.quantize(weights(n, k, 1), 1, 4, true, 32), l);
                int rowBytes = Math.toIntExact(PackLayouts.rowBytes(l, 4, k));
                int[][] el = NativeGroupedKernel.elements(l, 4, k, rowBytes);
                ByteBuffer codes = ByteBuffer.allocateDirect(w.codes().capacity());
                codes.put(0, w.codes(), 0, codes.capacity());
                NativeKernels.Plan p = new NativeKernels.Plan(isa, 4, n, k, 32, 32, rowBytes, false, codes, 0,
                        w.scales().toFloatArray(), new byte[n * w.groupsPerRow()], el[0], el[1], null);
                float[] x = input(rows, k, 99);
                x[5] = 0; // a block with an exact zero and an all-zero block
                for (int j = 64; j < 96; j++) x[j] = 0;
                byte[] act = new byte[rows * p.actIntBytes()];
                p.prepareInt(x, rows, 32, 0f, act);
                float[] ref = x.clone();
                ActivationQuantization.quantizeBlocks(ref, 0, rows, k, 32, 127, 0f);
                int pb = (rowBytes + 63) / 64 * 64; // act layout (tamp_kernels.h): six planes of pb bytes, then per-chunk totals
                ByteBuffer a = ByteBuffer.wrap(act).order(ByteOrder.LITTLE_ENDIAN);
                for (int m = 0; m < rows; m++) {
                    float[] got = new float[k];
                    int base = m * p.actIntBytes();
                    for (int b = 0; b < pb; b++) {
                        for (int half = 0; half < 2; half++) {
                            int e = b < rowBytes ? el[half][b] : -1;
                            int q = act[base + half * pb + b];
                            float d = a.getFloat(base + (2 + half) * pb + 4 * (b / 4));
                            float sum = a.getFloat(base + (4 + half) * pb + 4 * (b / 4));
                            if (e < 0) {
                                assertEquals(0, q, "padding code");
                                continue;
                            }
                            got[e] = q * d;
                            int lane = b / 4, s = 0;
                            for (int j = 0; j < 4; j++) s += act[base + half * pb + lane * 4 + j];
                            assertEquals(s, sum, 0f, "lane code sum");
                        }
                    }
                    float[] want = java.util.Arrays.copyOfRange(ref, m * k, m * k + k);
                    assertArrayEquals(want, got, 0f, isa + " " + l + " row " + m);
                }
            }
        }
    }

    /** Groups that split a 4-byte lane of codes are refused by the plan; the Java kernel runs them. */
    @Test
    void unfitGroupsFallBackToJava() {
        requireNative();
        IntGroupedWeight w = IntGroupCodec.quantize(weights(8, 120, 2), 1, 4, true, 20);
        assertNull(NativeGroupedKernel.of(w, LinearKernels.prepareJavaFloat("w", w, 1), NativeKernels.isa(), NativeGroupedKernel.Activations.FLOAT));
        assertTrue(!(LinearKernels.prepare("w", w, 1) instanceof NativeGroupedKernel));
        IntGroupedWeight ok = IntGroupCodec.quantize(weights(8, 256, 2), 1, 4, true, 64);
        assertTrue(LinearKernels.prepare("w", ok, 1) instanceof NativeGroupedKernel);
    }
}
