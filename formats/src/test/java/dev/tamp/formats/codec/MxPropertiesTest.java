package dev.tamp.formats.codec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.MxFormat;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Exhaustive and randomised properties of the element codecs, packing and block conversion. */
class MxPropertiesTest {
    @Test
    void everyCodeRoundTripsExceptNanInfAndNegativeZero() {
        for (MxFormat f : MxFormat.values()) {
            ElementCodec c = ElementCodecs.of(f);
            int n = 1 << c.bits();
            int checked = 0;
            for (int code = 0; code < n; code++) {
                double v = c.decode(code);
                if (Double.isNaN(v) || Double.isInfinite(v)) continue;
                if (v == 0 && code != 0) {
                    assertEquals(0, c.encode(v), f + " −0 encodes as +0");
                    continue;
                }
                if (f.isInteger() && code == (1 << (c.bits() - 1))) {
                    assertEquals(-2.0, v, 0, f + " most negative code decodes to −2");
                    continue; // never produced: symmetric clamp
                }
                assertEquals(code, c.encode(v), f + " code 0x" + Integer.toHexString(code) + " = " + v);
                checked++;
            }
            assertTrue(checked >= n / 2 - 2, f + " checked " + checked);
        }
    }

    /** The brute-force reference: nearest finite table value, ties to the even code, zero as code 0. */
    static int nearest(ElementCodec c, double y) {
        int best = -1;
        double bestDist = Double.POSITIVE_INFINITY;
        for (int code = 0; code < (1 << c.bits()); code++) {
            double v = c.decode(code);
            if (!Double.isFinite(v)) continue;
            if (c instanceof MxIntCodec && code == (1 << (c.bits() - 1))) continue;
            double d = Math.abs(y - v);
            if (d < bestDist || (d == bestDist && (code & 1) == 0 && (best & 1) == 1 && c.decode(best) != v)) {
                best = code;
                bestDist = d;
            }
        }
        return c.decode(best) == 0 ? 0 : best;
    }

    @Test
    void encodingIsTheNearestRepresentableValueTiesToEven() {
        SplittableRandom r = new SplittableRandom(123);
        for (MxFormat f : MxFormat.values()) {
            ElementCodec c = ElementCodecs.of(f);
            double max = c.maxValue();
            int n = 60_000;
            for (int i = 0; i < n; i++) {
                double y;
                switch (i % 4) {
                    case 0 -> y = (r.nextDouble() * 2 - 1) * max * 1.3; // includes the saturating band
                    case 1 -> y = Math.scalb(r.nextDouble() * 2 - 1, -r.nextInt(20)); // small and subnormal
                    case 2 -> { // exact grid midpoints (ties)
                        int a = r.nextInt(1 << c.bits()), b = r.nextInt(1 << c.bits());
                        double va = c.decode(a), vb = c.decode(b);
                        y = Double.isFinite(va) && Double.isFinite(vb) ? (va + vb) / 2 : 0.0;
                    }
                    default -> y = (float) r.nextGaussian() * max / 4;
                }
                int got = c.encode(y);
                int want = nearest(c, y);
                assertEquals(c.decode(want), c.decode(got), f + " y=" + y + " got 0x" + Integer.toHexString(got) + " want 0x" + Integer.toHexString(want));
            }
        }
    }

    @Test
    void floatFastPathEqualsTheReferenceEncoder() {
        SplittableRandom r = new SplittableRandom(77);
        for (MxFormat f : MxFormat.values()) {
            ElementCodec c = ElementCodecs.of(f);
            for (int i = 0; i < 2_000_000; i++) {
                float y = switch (i % 3) {
                    case 0 -> Float.intBitsToFloat(r.nextInt()); // any bit pattern
                    case 1 -> (float) ((r.nextDouble() * 2 - 1) * c.maxValue() * 1.5);
                    default -> (float) Math.scalb(r.nextDouble() * 2 - 1, -r.nextInt(24));
                };
                if (Float.isNaN(y)) continue;
                double v = y;
                int want = Double.isInfinite(v) ? c.encode(Math.copySign(Double.MAX_VALUE, v)) : c.encode(v);
                assertEquals(want, c.encodeFloat(y), f + " " + y);
            }
            // every exact grid point and midpoint, as floats
            for (int a = 0; a < (1 << c.bits()); a++) {
                double va = c.decode(a);
                if (!Double.isFinite(va)) continue;
                for (double d : new double[] {va, va * (1 + 1e-7), va * (1 - 1e-7)}) assertEquals(c.encode((float) d), c.encodeFloat((float) d), f + " " + d);
                for (int b = 0; b < (1 << c.bits()); b += 3) {
                    double vb = c.decode(b);
                    if (Double.isFinite(vb)) assertEquals(c.encode((float) ((va + vb) / 2)), c.encodeFloat((float) ((va + vb) / 2)), f + " mid " + va + " " + vb);
                }
            }
        }
    }

    @Test
    void packingRoundTripsForEveryWidth() {
        SplittableRandom r = new SplittableRandom(5);
        for (int bits : new int[] {4, 6, 8}) {
            for (int count : new int[] {1, 2, 3, 4, 5, 31, 32, 33, 64}) {
                int[] codes = new int[count];
                for (int i = 0; i < count; i++) codes[i] = r.nextInt(1 << bits);
                byte[] out = new byte[Packing.bytes(count, bits)];
                Packing.pack(codes, count, bits, out, 0);
                for (int i = 0; i < count; i++) assertEquals(codes[i], Packing.get(ByteBuffer.wrap(out), 0, i, bits), bits + "-bit #" + i + "/" + count);
            }
        }
        // 6-bit layout: element i at bits 6i..6i+5 of the little-endian 24-bit group
        byte[] six = new byte[3];
        Packing.pack(new int[] {0x3F, 0, 0, 0x21}, 4, 6, six, 0);
        assertArrayEquals(new byte[] {0x3F, 0x00, (byte) 0x84}, six);
    }

    @Test
    void rowsWithRaggedTailsQuantizeBlockwiseAndDequantizeToTheGrid() {
        SplittableRandom r = new SplittableRandom(8);
        for (MxFormat f : MxFormat.values()) {
            MxBlockCodec codec = new MxBlockCodec(f, 32, ScaleRule.FLOOR);
            int k = 77; // three blocks, the last padded
            float[] x = new float[k];
            for (int i = 0; i < k; i++) x[i] = (float) (r.nextGaussian() * (i < 32 ? 0.01 : 3));
            byte[] codes = new byte[codec.rowBytes(k)], scales = new byte[codec.blocks(k)];
            codec.quantizeRow(x, 0, k, codes, 0, scales, 0);
            assertEquals(3, scales.length);
            float[] back = new float[k];
            codec.dequantizeRow(ByteBuffer.wrap(codes), 0, ByteBuffer.wrap(scales), 0, k, back, 0);
            ElementCodec c = ElementCodecs.of(f);
            for (int i = 0; i < k; i++) {
                double s = E8M0.decode(scales[i / 32]);
                double want = c.decode(c.encode(x[i] / s)) * s;
                assertEquals(want, back[i], 0.0, f + " element " + i);
                // relative error bounded by half a quantum at the block's scale (or saturation at the top)
                double amax = 0;
                for (int j = i / 32 * 32; j < Math.min(k, i / 32 * 32 + 32); j++) amax = Math.max(amax, Math.abs(x[j]));
                assertTrue(Math.abs(back[i] - x[i]) <= amax * 0.26 + 1e-30, f + " error " + (back[i] - x[i]) + " at " + i);
            }
        }
    }

    @Test
    void slicingMatchesRequantizingTheDecodedAnchor() {
        SplittableRandom r = new SplittableRandom(31);
        MxFormat[][] pairs = {{MxFormat.MXINT8, MxFormat.MXINT4}, {MxFormat.MXINT8, MxFormat.MXINT6}, {MxFormat.MXFP8_E4M3, MxFormat.MXFP4_E2M1},
                {MxFormat.MXFP8_E4M3, MxFormat.MXFP6_E3M2}, {MxFormat.MXFP8_E4M3, MxFormat.MXFP6_E2M3}, {MxFormat.MXINT8, MxFormat.MXFP4_E2M1}};
        // formats.md §2.5: measured mismatch rates on Gaussian blocks (an independent implementation)
        double[] expectedPercent = {3.4, 12.6, 9.4, 24.3, 6.2, 4.8};
        for (int pi = 0; pi < pairs.length; pi++) {
            MxFormat[] p = pairs[pi];
            MxBlockCodec anchor = new MxBlockCodec(p[0], 32, ScaleRule.FLOOR), target = new MxBlockCodec(p[1], 32, ScaleRule.FLOOR);
            long mismatches = 0, total = 0;
            for (int blk = 0; blk < 2000; blk++) {
                float[] x = new float[32];
                for (int i = 0; i < 32; i++) x[i] = (float) r.nextGaussian();
                byte[] ac = new byte[anchor.rowBytes(32)], as = new byte[1];
                anchor.quantizeRow(x, 0, 32, ac, 0, as, 0);
                int[] codes = anchor.unpackRow(ByteBuffer.wrap(ac), 0, 32);
                int[] sliced = new int[32];
                int scale = SliceAndScale.sliceBlock(p[0], codes, 0, as[0] & 0xFF, p[1], sliced, 0, 32);
                // oracle: the OCP conversion of the dequantized anchor
                float[] deq = new float[32];
                anchor.dequantizeRow(ByteBuffer.wrap(ac), 0, ByteBuffer.wrap(as), 0, 32, deq, 0);
                byte[] tc = new byte[target.rowBytes(32)], ts = new byte[1];
                target.quantizeRow(deq, 0, 32, tc, 0, ts, 0);
                assertEquals(ts[0] & 0xFF, scale, p[0] + "→" + p[1] + " scale");
                assertArrayEquals(target.unpackRow(ByteBuffer.wrap(tc), 0, 32), sliced, p[0] + "→" + p[1]);
                if (p[0].isInteger() && p[1].isInteger()) assertEquals(as[0] & 0xFF, scale, "MXINT targets keep the anchor's scale");
                byte[] dc = new byte[target.rowBytes(32)], ds = new byte[1];
                target.quantizeRow(x, 0, 32, dc, 0, ds, 0);
                int[] direct = target.unpackRow(ByteBuffer.wrap(dc), 0, 32);
                for (int i = 0; i < 32; i++) if (direct[i] != sliced[i]) mismatches++;
                total += 32;
            }
            double pct = 100.0 * mismatches / total;
            System.err.printf("slice %s → %s: %.1f%% of codes differ from direct quantization (spec %.1f%%)%n", p[0], p[1], pct, expectedPercent[pi]);
            assertEquals(expectedPercent[pi], pct, 1.5, p[0] + "→" + p[1] + " mismatch rate");
        }
    }
}
