package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * issue 8 "must show": for every encoding × device layout, real MiniLM layers quantized with the existing RTN / MX /
 * 2:4 code and then packed give the GENERIC model's outputs — bit-exactly where the arithmetic is the same (portable
 * decoder; host-width kernel on many rows: same decoded tiles, same GEMM), within 1e-6 of the output scale where
 * the host kernel's GEMV accumulates in another order — and decode to the identical dense weight.
 */
class PackedLayoutKernelsTest {
    private static final Layout[] LAYOUTS = {Layout.SPLIT16, Layout.SPLIT32, Layout.SPLIT64, Layout.CUDA_ROWS16};
    private static final Parallel PAR = new Parallel(2);
    private static final List<Tensor> LAYERS = new ArrayList<>();
    private static float[] embeddings;

    @BeforeAll
    static void realLayers() {
        Model m = RuntimeTestModels.miniLm();
        boolean sq = false, up = false, down = false;
        for (Map.Entry<String, EncodedTensor> e : m.weights().entrySet()) {
            if (!(e.getValue() instanceof DenseWeight d) || d.tensor().rank() != 2) continue;
            long[] s = d.tensor().shape();
            if (s[0] == 30522 && embeddings == null) embeddings = d.tensor().toFloatArray();
            // ONNX MatMul initializers are [K][N]: 384x384 attention, 384x1536 FFN up, 1536x384 FFN down
            if (s[0] == 384 && s[1] == 384 && !sq) { LAYERS.add(d.tensor()); sq = true; }
            if (s[0] == 384 && s[1] == 1536 && !up) { LAYERS.add(d.tensor()); up = true; }
            if (s[0] == 1536 && s[1] == 384 && !down) { LAYERS.add(d.tensor()); down = true; }
        }
        assertEquals(3, LAYERS.size(), "MiniLM's three linear shapes");
        assertNotNull(embeddings, "MiniLM's word embeddings");
    }

    @AfterAll
    static void close() {
        PAR.close();
    }

    /** The encodings of one real [K][N] weight, built with the existing quantizers. */
    private static Map<String, EncodedTensor> encodings(Tensor t) {
        Map<String, EncodedTensor> out = new LinkedHashMap<>();
        out.put("int4-sym-g128", IntGroupCodec.quantize(t, 0, 4, true, 128));
        out.put("int4-asym-g128", IntGroupCodec.quantize(t, 0, 4, false, 128));
        out.put("int4-sym-g32", IntGroupCodec.quantize(t, 0, 4, true, 32));
        IntGroupedWeight w8 = IntGroupCodec.quantize(t, 0, 8, true, 0);
        out.put("int8-ch", w8);
        out.put("w8a8", new IntGroupedWeight(w8.shape(), w8.kAxis(), 8, true, w8.groupSize(), w8.codes(), w8.scales(), null, null, 8, 0f, Layout.GENERIC));
        out.put("int8-asym-g128", IntGroupCodec.quantize(t, 0, 8, false, 128));
        out.put("mxfp4", MxMatrix.quantize(t, 0, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR));
        out.put("mxint8", MxMatrix.quantize(t, 0, MxFormat.MXINT8, 32, ScaleRule.FLOOR));
        out.put("mxfp6", MxMatrix.quantize(t, 0, MxFormat.MXFP6_E3M2, 32, ScaleRule.FLOOR));
        // 2:4 by magnitude (top 2 of every 4 along K, ties to the lower column), values then quantized
        int k = (int) t.shape()[0], n = (int) t.shape()[1];
        float[] rows = TiledDecodeKernelTest.transpose(t.toFloatArray(), k, n);
        boolean[] keep = new boolean[rows.length];
        for (int g = 0; g < rows.length; g += 4) {
            int a = 0, b = -1;
            for (int i = 1; i < 4; i++) if (Math.abs(rows[g + i]) > Math.abs(rows[g + a])) a = i;
            for (int i = 0; i < 4; i++) if (i != a && (b < 0 || Math.abs(rows[g + i]) > Math.abs(rows[g + b]))) b = i;
            keep[g + a] = true;
            keep[g + b] = true;
        }
        Sparse24Weight sp = Sparse24Codec.encode(rows, keep, n, k, t.shape(), 0);
        Tensor kept = ((DenseWeight) sp.values()).tensor();
        out.put("2:4(int4-g64)", Sparse24Codec.withValues(sp, IntGroupCodec.quantize(kept, 1, 4, true, 64)));
        out.put("2:4(int8)", Sparse24Codec.withValues(sp, IntGroupCodec.quantize(kept, 1, 8, true, 0)));
        out.put("2:4(mxfp4)", Sparse24Codec.withValues(sp, MxMatrix.quantize(kept, 1, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR)));
        return out;
    }

    /** Activations: rows of MiniLM's own word embeddings (a K of 1536 concatenates four of them). */
    private static float[] activations(int rows, int k) {
        float[] x = new float[rows * k];
        for (int i = 0; i < x.length; i++) x[i] = embeddings[(1000 + 37 * (i / 384)) * 384 + i % 384];
        return x;
    }

    @Test
    void everyEncodingAndLayoutMatchesGenericOnRealLayers() {
        int checked = 0;
        for (Tensor t : LAYERS) {
            int k = (int) t.shape()[0], n = (int) t.shape()[1];
            for (Map.Entry<String, EncodedTensor> e : encodings(t).entrySet()) {
                EncodedTensor generic = e.getValue();
                float[] dense = WeightDecoders.decode("w", generic);
                LinearKernel ref = LinearKernels.prepareJavaFloat("w", generic, 0);
                for (int rows : new int[] {1, 9, 80}) { // GEMV, tiles, whole-weight BLAS
                    float[] x = activations(rows, k), want = new float[rows * n];
                    ref.forward(x, rows, want, PAR);
                    float scale = 0;
                    for (float v : want) scale = Math.max(scale, Math.abs(v));
                    for (Layout l : LAYOUTS) {
                        EncodedTensor packed = PackLayouts.pack(generic, l);
                        String what = e.getKey() + " " + l + " " + k + "x" + n + " rows " + rows;
                        assertEquals(l, PackLayouts.layoutOf(packed), what);
                        if (rows == 1) {
                            assertArrayEquals(dense, WeightDecoders.decode("w", packed), what + ": decoded weight");
                            assertPlanesEqual(generic, PackLayouts.toGeneric(packed), what);
                        }
                        LinearKernel kern = LinearKernels.prepareJavaFloat("w", packed, 0);
                        float[] got = new float[rows * n];
                        kern.forward(x, rows, got, PAR);
                        boolean hostGemv = rows <= SplitLayoutKernel.GEMV_MAX_ROWS && usesSplitKernel(kern);
                        for (int i = 0; i < got.length; i++) {
                            if (hostGemv) assertEquals(want[i], got[i], 1e-6 * scale, what + " @" + i);
                            else assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), what + " @" + i + ": " + want[i] + " vs " + got[i]);
                        }
                        checked++;
                    }
                }
            }
        }
        assertEquals(3 * 12 * 3 * LAYOUTS.length, checked);
    }

    @Test
    void hostLayoutRunsTheSplitKernel() {
        Layout host = PackedKernels.hostLayout();
        if (host == null) return; // a host with vectors narrower than 64 bits has only the portable path
        Tensor t = LAYERS.get(1);
        for (EncodedTensor w : new EncodedTensor[] {IntGroupCodec.quantize(t, 0, 4, true, 128), IntGroupCodec.quantize(t, 0, 8, true, 0),
                MxMatrix.quantize(t, 0, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR)}) {
            assertTrue(LinearKernels.prepareJavaFloat("w", PackLayouts.pack(w, host), 0) instanceof SplitLayoutKernel, w.describe());
            for (Layout other : LAYOUTS) {
                if (other != host) assertTrue(LinearKernels.prepareJavaFloat("w", PackLayouts.pack(w, other), 0) instanceof TiledDecodeKernel, w.describe() + " " + other);
            }
        }
    }

    /** K that is not a whole number of chunks (the padded tail runs the scalar path): same results as GENERIC. */
    @Test
    void paddedTailsOfTheHostKernel() {
        Layout host = PackedKernels.hostLayout();
        if (host == null) return;
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int k : new int[] {100, 72, 200}) {
            int n = 24;
            float[] v = new float[n * k];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            Tensor t = Tensor.ofFloats(v, n, k);
            for (EncodedTensor w : new EncodedTensor[] {IntGroupCodec.quantize(t, 1, 4, false, 32), IntGroupCodec.quantize(t, 1, 8, true, 0),
                    IntGroupCodec.quantize(t, 1, 8, false, 64), MxMatrix.quantize(t, 1, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR)}) {
                LinearKernel ref = LinearKernels.prepareJavaFloat("w", w, 1), fast = LinearKernels.prepareJavaFloat("w", PackLayouts.pack(w, host), 1);
                assertTrue(fast instanceof SplitLayoutKernel, w.describe());
                assertArrayEquals(ref.denseWeight(), fast.denseWeight(), w.describe() + " K " + k);
                for (int rows : new int[] {1, 9, 70}) {
                    float[] x = new float[rows * k], want = new float[rows * n], got = new float[rows * n];
                    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
                    ref.forward(x, rows, want, PAR);
                    fast.forward(x, rows, got, PAR);
                    float scale = 0;
                    for (float y : want) scale = Math.max(scale, Math.abs(y));
                    for (int i = 0; i < got.length; i++) assertEquals(want[i], got[i], rows == 1 ? 1e-6 * scale : 0f, w.describe() + " K " + k + " rows " + rows);
                }
            }
        }
    }

    private static boolean usesSplitKernel(LinearKernel k) {
        return k instanceof SplitLayoutKernel || k instanceof ActivationQuantizingKernel a && a.weightsKernel() instanceof SplitLayoutKernel;
    }

    private static void assertPlanesEqual(EncodedTensor a, EncodedTensor b, String what) {
        if (a instanceof Sparse24Weight sa) {
            Sparse24Weight sb = (Sparse24Weight) b;
            assertEquals(sa.indices().rewind(), sb.indices().rewind(), what + ": indices");
            assertPlanesEqual(sa.values(), sb.values(), what + " values");
        } else if (a instanceof IntGroupedWeight ia) {
            assertEquals(ia.codes().rewind(), ((IntGroupedWeight) b).codes().rewind(), what + ": codes");
        } else if (a instanceof dev.tamp.core.encoding.MxWeight ma) {
            assertEquals(ma.codes().rewind(), ((dev.tamp.core.encoding.MxWeight) b).codes().rewind(), what + ": codes");
        }
    }
}
