package dev.tamp.formats.codec;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.tpk.TpkContents;
import dev.tamp.formats.tpk.TpkReader;
import dev.tamp.formats.tpk.TpkWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device layouts (formats.md §3.7, §6.2): the documented byte order, exact inverses, sizes, and the reader's plane checks. */
class PackLayoutsTest {
    private static final Layout[] DEVICE = {Layout.SPLIT16, Layout.SPLIT32, Layout.SPLIT64, Layout.CUDA_ROWS16};
    @TempDir Path tmp;

    @Test
    void splitByteJHoldsElementsJAndJPlusW() {
        for (Layout l : new Layout[] {Layout.SPLIT16, Layout.SPLIT32, Layout.SPLIT64}) {
            int w = PackLayouts.span(l), count = 2 * w + 5; // two chunks, the second K-padded
            int[] e = new int[count];
            byte[] generic = new byte[(count + 1) / 2];
            for (int i = 0; i < count; i++) {
                e[i] = (i * 7 + 3) & 0xF;
                generic[i / 2] |= (byte) ((i & 1) == 0 ? e[i] : e[i] << 4);
            }
            ByteBuffer packed = PackLayouts.packPlane(ByteBuffer.wrap(generic), 1, 4, count, l);
            assertEquals(2 * w, packed.capacity(), l + ": rows padded to whole 2W-element chunks");
            for (int c = 0; c < 2; c++) {
                for (int j = 0; j < w; j++) {
                    int lo = 2 * w * c + j, hi = lo + w;
                    int want = (lo < count ? e[lo] : 0) | (hi < count ? e[hi] : 0) << 4;
                    assertEquals(want, packed.get(c * w + j) & 0xFF, l + " chunk " + c + " byte " + j);
                }
            }
        }
    }

    @Test
    void rowSizes() {
        assertEquals(200, PackLayouts.rowBytes(Layout.GENERIC, 4, 400));
        assertEquals(208, PackLayouts.rowBytes(Layout.SPLIT16, 4, 400)); // 13 chunks of 32 elements
        assertEquals(224, PackLayouts.rowBytes(Layout.SPLIT32, 4, 400)); // 7 chunks of 64
        assertEquals(256, PackLayouts.rowBytes(Layout.SPLIT64, 4, 400)); // 4 chunks of 128
        assertEquals(208, PackLayouts.rowBytes(Layout.CUDA_ROWS16, 4, 400));
        assertEquals(416, PackLayouts.rowBytes(Layout.SPLIT32, 8, 400));
        assertEquals(384, PackLayouts.rowBytes(Layout.SPLIT64, 8, 384));
        assertEquals(304, PackLayouts.rowBytes(Layout.CUDA_ROWS16, 6, 400)); // 300 bytes of 6-bit codes
        assertThrows(RuntimeException.class, () -> PackLayouts.rowBytes(Layout.ROWS_X4, 4, 400));
    }

    @Test
    void everyEncodingRoundTripsExactlyThroughEveryLayout() {
        SplittableRandom r = new SplittableRandom(8);
        for (int[] s : new int[][] {{5, 70}, {3, 384}, {4, 100}}) {
            int n = s[0], k = s[1];
            float[] v = new float[n * k];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            Tensor t = Tensor.ofFloats(v, n, k);
            EncodedTensor[] ws = {IntGroupCodec.quantize(t, 1, 4, true, 32), IntGroupCodec.quantize(t, 1, 4, false, 0),
                    IntGroupCodec.quantize(t, 1, 8, true, 32), MxMatrix.quantize(t, 1, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR),
                    MxMatrix.quantize(t, 1, MxFormat.MXFP6_E2M3, 32, ScaleRule.FLOOR), MxMatrix.quantize(t, 1, MxFormat.MXINT8, 32, ScaleRule.FLOOR),
                    k % 4 != 0 ? null : Sparse24Codec.withValues(Sparse24Codec.fromDense(prune(v), n, k, new long[] {n, k}, 1),
                            IntGroupCodec.quantize(Tensor.ofFloats(half(v), n, k / 2), 1, 4, true, 16))};
            for (EncodedTensor w : ws) {
                if (w == null) continue;
                float[] want = decode(w);
                for (Layout l : DEVICE) {
                    EncodedTensor p = PackLayouts.pack(w, l);
                    String what = w.describe() + " " + n + "x" + k + " " + l;
                    assertEquals(l, PackLayouts.layoutOf(p));
                    assertEquals(p instanceof Sparse24Weight sp ? PackLayouts.indexPlaneBytes(sp) : PackLayouts.codePlaneBytes(p), planeBytes(p), what + ": plane size");
                    assertArrayEquals(want, decode(p), what);
                    EncodedTensor back = PackLayouts.toGeneric(p);
                    assertEquals(Layout.GENERIC, PackLayouts.layoutOf(back));
                    assertEquals(codes(w), codes(back), what + ": exact inverse");
                    for (Layout other : DEVICE) assertEquals(codes(PackLayouts.pack(w, other)), codes(PackLayouts.pack(p, other)), what + " -> " + other);
                }
            }
        }
    }

    @Test
    void packedTensorsSurviveTheContainerAndWrongPlaneSizesAreRefused() throws Exception {
        SplittableRandom r = new SplittableRandom(9);
        float[] v = new float[6 * 96];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        Tensor t = Tensor.ofFloats(v, 6, 96);
        Map<String, EncodedTensor> ws = new LinkedHashMap<>();
        ws.put("int4", PackLayouts.pack(IntGroupCodec.quantize(t, 1, 4, true, 32), Layout.SPLIT64));
        ws.put("mxfp4", PackLayouts.pack(MxMatrix.quantize(t, 1, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR), Layout.SPLIT16));
        ws.put("sparse", PackLayouts.pack(Sparse24Codec.withValues(Sparse24Codec.fromDense(prune(v), 6, 96, new long[] {6, 96}, 1),
                IntGroupCodec.quantize(Tensor.ofFloats(half(v), 6, 48), 1, 8, true, 0)), Layout.CUDA_ROWS16));
        Path f = tmp.resolve("p.tpk");
        TpkWriter.write(f, new TpkContents(ws, Map.of(), Json.object()));
        Map<String, EncodedTensor> back = TpkReader.open(f).contents().tensors();
        for (String name : ws.keySet()) {
            assertEquals(PackLayouts.layoutOf(ws.get(name)), PackLayouts.layoutOf(back.get(name)), name);
            assertArrayEquals(decode(ws.get(name)), decode(back.get(name)), name);
        }
        // a SPLIT64 int4 code plane one row short, labelled correctly otherwise
        IntGroupedWeight g = (IntGroupedWeight) ws.get("int4");
        ByteBuffer shortCodes = ByteBuffer.wrap(Arrays.copyOf(g.codes().array(), g.codes().capacity() - 64));
        IntGroupedWeight bad = new IntGroupedWeight(g.shape(), g.kAxis(), 4, true, 32, shortCodes, g.scales(), null, null, 0, 0f, Layout.SPLIT64);
        Path fb = tmp.resolve("bad.tpk");
        TpkWriter.write(fb, new TpkContents(Map.of("w", bad), Map.of(), Json.object()));
        BadInputException e = assertThrows(BadInputException.class, () -> TpkReader.open(fb).contents());
        assertTrue(e.getMessage().contains("bad.tpk") && e.getMessage().contains("SPLIT64"), e.getMessage());
        // GENERIC codes relabelled as SPLIT32 without re-laying them: 48 bytes a row is not a SPLIT32 row (64)
        IntGroupedWeight generic = IntGroupCodec.quantize(t, 1, 4, true, 32);
        IntGroupedWeight lying = new IntGroupedWeight(g.shape(), 1, 4, true, 32, generic.codes(), generic.scales(), null, null, 0, 0f, Layout.SPLIT32);
        Path fl = tmp.resolve("lying.tpk");
        TpkWriter.write(fl, new TpkContents(Map.of("w", lying), Map.of(), Json.object()));
        assertThrows(BadInputException.class, () -> TpkReader.open(fl).contents());
    }

    private static float[] decode(EncodedTensor w) {
        if (w instanceof IntGroupedWeight g) return IntGroupCodec.dequantize(g);
        if (w instanceof MxWeight m) return MxMatrix.dequantize(m);
        return Sparse24Codec.decode((Sparse24Weight) w);
    }

    private static long planeBytes(EncodedTensor w) {
        if (w instanceof IntGroupedWeight g) return g.codes().capacity();
        if (w instanceof MxWeight m) return m.codes().capacity();
        return ((Sparse24Weight) w).indices().capacity();
    }

    private static ByteBuffer codes(EncodedTensor w) {
        if (w instanceof IntGroupedWeight g) return g.codes().duplicate().rewind();
        if (w instanceof MxWeight m) return m.codes().duplicate().rewind();
        Sparse24Weight s = (Sparse24Weight) w;
        ByteBuffer a = s.indices().duplicate().rewind(), b = codes(s.values());
        ByteBuffer out = ByteBuffer.allocate(a.capacity() + b.capacity());
        return out.put(a).put(b).flip();
    }

    /** Keeps elements 0 and 2 of every group of 4 (a legal 2:4 pattern). */
    private static float[] prune(float[] v) {
        float[] p = v.clone();
        for (int i = 0; i < p.length; i++) if (i % 4 == 1 || i % 4 == 3) p[i] = 0;
        return p;
    }

    private static float[] half(float[] v) {
        float[] h = new float[v.length / 2];
        for (int i = 0; i < h.length; i++) h[i] = v[2 * i];
        return h;
    }
}
