package dev.tamp.formats.codec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Half;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The MX block edge cases of formats.md §1.5 and the scale rules of §1.7, the brute-force nearest-value oracle
 * for the float fast path, Slice-and-Scale invariants, packing and the matrix paths (both orientations).
 */
class MxEdgeCasesTest {
    static MxVectorsTest.Encoded encode(MxFormat f, ScaleRule rule, float... x) {
        MxBlockCodec codec = new MxBlockCodec(f, 32, rule);
        byte[] codes = new byte[codec.rowBytes(x.length)], scales = new byte[codec.blocks(x.length)];
        codec.quantizeRow(x, 0, x.length, codes, 0, scales, 0);
        return new MxVectorsTest.Encoded(scales[0] & 0xFF, codec.unpackRow(ByteBuffer.wrap(codes), 0, x.length), codes);
    }

    /** Independent oracle: scan every finite code for the nearest value; ties to the even code; zero is code 0. */
    static int nearest(ElementCodec c, double y) {
        // beyond twice the largest value the nearest one is obviously ±max; clamping there keeps y − v exact in double
        y = Math.max(-2 * c.maxValue(), Math.min(2 * c.maxValue(), y));
        int best = -1;
        double bestDist = Double.POSITIVE_INFINITY;
        for (int code = 0; code < (1 << c.bits()); code++) {
            double v = c.decode(code);
            if (!Double.isFinite(v) || (c instanceof MxIntCodec && code == 1 << (c.bits() - 1))) continue;
            double d = Math.abs(y - v);
            if (d < bestDist || (d == bestDist && c.decode(best) != v && (code & 1) == 0)) {
                best = code;
                bestDist = d;
            }
        }
        return c.decode(best) == 0 ? 0 : best;
    }

    @Test
    void floatFastPathIsTheNearestValueTiesToEvenOnAMillionFloats() {
        SplittableRandom r = new SplittableRandom(2026);
        int perFormat = 1_000_000 / MxFormat.values().length, ties = 0, saturated = 0, tiny = 0;
        for (MxFormat f : MxFormat.values()) {
            ElementCodec c = ElementCodecs.of(f);
            for (int i = 0; i < perFormat; i++) {
                float y = switch (i % 5) {
                    case 0 -> Float.intBitsToFloat(r.nextInt() & 0x7FFFFFFF | (r.nextBoolean() ? 0x80000000 : 0)); // huge, FP32-subnormal, anything
                    case 1 -> (float) ((r.nextDouble() * 2 - 1) * c.maxValue() * 1.4); // the grid and the saturating band
                    case 2 -> (float) Math.scalb((r.nextBoolean() ? -1 : 1) * (1 + r.nextDouble()), r.nextInt(-30, 20)); // every binade
                    case 3 -> { // midpoints of neighbouring grid values, exact or one float ulp off
                        int a = r.nextInt(1 << c.bits());
                        double va = c.decode(a), vb = c.decode(a + 1 < (1 << c.bits()) ? a + 1 : a);
                        float mid = Double.isFinite(va) && Double.isFinite(vb) ? (float) ((va + vb) / 2) : 0f;
                        yield switch (r.nextInt(3)) { case 0 -> Math.nextUp(mid); case 1 -> Math.nextDown(mid); default -> mid; };
                    }
                    default -> (float) (r.nextGaussian() * c.maxValue() / 3);
                };
                if (Float.isNaN(y) || Float.isInfinite(y)) continue;
                int want = nearest(c, y), got = c.encodeFloat(y);
                if (got != want) fail(f + " y=" + y + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(y)) + ") got 0x"
                        + Integer.toHexString(got) + " want 0x" + Integer.toHexString(want));
                assertEquals(want, c.encode(y), f + " exact routine, y=" + y);
                if (Math.abs(y) > c.maxValue()) saturated++;
                if (Math.abs(y) < Math.scalb(1.0, -126)) tiny++;
                double d = Math.abs(y - c.decode(want));
                for (int other = 0; other < (1 << c.bits()); other++) {
                    double v = c.decode(other);
                    if (Double.isFinite(v) && v != c.decode(want) && Math.abs(y - v) == d) {
                        ties++;
                        break;
                    }
                }
            }
        }
        System.err.printf("brute-force oracle: %d floats, %d exact ties, %d saturating, %d below 2^-126%n", perFormat * MxFormat.values().length, ties, saturated, tiny);
        assertTrue(ties > 10_000 && saturated > 50_000 && tiny > 1_000, "coverage: ties " + ties + ", saturated " + saturated + ", tiny " + tiny);
    }

    @Test
    void saturatingBandClampsTheBlockMaxToTheLargestElement() {
        // amax/X in (max normal, 2^(emax+1)) for every element type (formats.md §1.4 table)
        Object[][] band = {{MxFormat.MXFP4_E2M1, 7f, 0x7}, {MxFormat.MXFP6_E3M2, 30f, 0x1F}, {MxFormat.MXFP6_E2M3, 7.9f, 0x1F},
                {MxFormat.MXFP8_E4M3, 500f, 0x7E}, {MxFormat.MXFP8_E5M2, 65000f, 0x7B}, {MxFormat.MXINT8, 1.995f, 0x7F}};
        for (Object[] b : band) {
            MxFormat f = (MxFormat) b[0];
            MxVectorsTest.Encoded e = encode(f, ScaleRule.FLOOR, (float) b[1], -(float) b[1], 1f);
            assertEquals(0x7F, e.scale(), f + " scale");
            assertEquals((int) b[2], e.codes()[0], f + " +max");
            assertEquals(ElementCodecs.of(f).maxValue(), -ElementCodecs.of(f).decode(e.codes()[1]), 0, f + " −max");
        }
        // E4M3: 470 (would round to 480 = the NaN code) → 448
        assertEquals(0x7E, encode(MxFormat.MXFP8_E4M3, ScaleRule.FLOOR, 470f).codes()[0]);
        assertEquals(0xFE, encode(MxFormat.MXFP8_E4M3, ScaleRule.FLOOR, 464f, -479.9f).codes()[1]);
    }

    @Test
    void scaleRulesFloorEvenRceil() {
        // §1.7 example: block max 960 in MXFP8-E4M3; 957 → 896 (FLOOR) or 960 (RCEIL)
        MxVectorsTest.Encoded floor = encode(MxFormat.MXFP8_E4M3, ScaleRule.FLOOR, 960f, 957f);
        assertEquals(0x80, floor.scale());
        assertEquals(896.0, ElementCodecs.of(MxFormat.MXFP8_E4M3).decode(floor.codes()[1]) * 2, 0);
        MxVectorsTest.Encoded rceil = encode(MxFormat.MXFP8_E4M3, ScaleRule.RCEIL, 960f, 957f);
        assertEquals(0x81, rceil.scale());
        assertEquals(0x77, rceil.codes()[1]);
        assertEquals(0x77, rceil.codes()[0]);
        // EVEN bumps the exponent only when the max rounds up into the next binade at the element's precision
        assertEquals(0x80, encode(MxFormat.MXFP4_E2M1, ScaleRule.EVEN, 7.9f).scale()); // 7.9 → 8 at 1 mantissa bit
        assertEquals(0x6, encode(MxFormat.MXFP4_E2M1, ScaleRule.EVEN, 7.9f).codes()[0]); // 7.9/2 → 4.0 (code 6)
        assertEquals(0x7F, encode(MxFormat.MXFP4_E2M1, ScaleRule.EVEN, 5.9f).scale()); // stays: 5.9 → 6
        assertEquals(0x7F, encode(MxFormat.MXFP4_E2M1, ScaleRule.FLOOR, 7.9f).scale());
        // RCEIL never saturates: every block max decodes within half a quantum of itself
        SplittableRandom r = new SplittableRandom(3);
        for (MxFormat f : MxFormat.values()) {
            ElementCodec c = ElementCodecs.of(f);
            for (int i = 0; i < 2000; i++) {
                float amax = (float) Math.scalb(1 + r.nextDouble(), r.nextInt(-40, 40));
                MxVectorsTest.Encoded e = encode(f, ScaleRule.RCEIL, amax);
                double y = amax / E8M0.decode(e.scale());
                assertTrue(y <= c.maxValue(), f + " RCEIL saturated " + amax + " (y=" + y + ")");
                assertTrue(y > c.maxValue() / 2, f + " RCEIL scale too coarse for " + amax);
            }
        }
    }

    @Test
    void blockEdgeCases() {
        // FP32-subnormal amax: scale 0x00; E5M2 keeps it (2^-130 = 2^-127 · 2^-3 → code 0x30)
        MxVectorsTest.Encoded sub = encode(MxFormat.MXFP8_E5M2, ScaleRule.FLOOR, (float) Math.scalb(1.0, -130), 0f);
        assertEquals(0x00, sub.scale());
        assertEquals(0x30, sub.codes()[0]);
        assertEquals(0x00, encode(MxFormat.MXINT8, ScaleRule.FLOOR, Float.MIN_VALUE).scale());
        // near FLT_MAX: no overflow to NaN, scale 0xFE for every element type
        for (MxFormat f : MxFormat.values()) {
            MxVectorsTest.Encoded big = encode(f, ScaleRule.FLOOR, Float.MAX_VALUE, -Float.MAX_VALUE);
            assertTrue(big.scale() <= 0xFE, f + " scale " + big.scale());
            assertTrue(ElementCodecs.of(f).decode(big.codes()[0]) > 0 && ElementCodecs.of(f).decode(big.codes()[1]) < 0, f.toString());
        }
        // negative values that round to zero are +0; all-zero blocks (also ±0 mixed) are scale 0x00
        MxVectorsTest.Encoded negZero = encode(MxFormat.MXFP4_E2M1, ScaleRule.FLOOR, 4f, -0.1f, -0f);
        assertEquals(0, negZero.codes()[1]);
        assertEquals(0, negZero.codes()[2]);
        assertEquals(0x00, encode(MxFormat.MXFP6_E3M2, ScaleRule.FLOOR, -0f, 0f, -0f).scale());
        // K not a multiple of the block: zero-padded tail, codes and scales for ceil(K/32) blocks
        for (MxFormat f : MxFormat.values()) {
            MxBlockCodec codec = new MxBlockCodec(f, 32, ScaleRule.FLOOR);
            float[] x = new float[33];
            Arrays.fill(x, 0.75f);
            x[32] = -3f;
            byte[] codes = new byte[codec.rowBytes(33)], scales = new byte[2];
            codec.quantizeRow(x, 0, 33, codes, 0, scales, 0);
            assertEquals(Packing.bytes(64, f.bits()), codes.length);
            int[] all = codec.unpackRow(ByteBuffer.wrap(codes), 0, 33);
            for (int i = 33; i < 64; i++) assertEquals(0, all[i], f + " padding code " + i);
            float[] back = new float[33];
            codec.dequantizeRow(ByteBuffer.wrap(codes), 0, ByteBuffer.wrap(scales), 0, 33, back, 0);
            assertEquals(-3f, back[32], 0f, f + " tail block");
        }
        // a NaN scale byte decodes its whole block as NaN
        MxBlockCodec codec = new MxBlockCodec(MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR);
        float[] out = new float[64];
        codec.dequantizeRow(ByteBuffer.wrap(new byte[32]), 0, ByteBuffer.wrap(new byte[] {0x7F, (byte) 0xFF}), 0, 64, out, 0);
        assertEquals(0f, out[31]);
        assertTrue(Float.isNaN(out[32]) && Float.isNaN(out[63]));
        // other block sizes pack whole bytes or are refused
        assertThrows(IllegalArgumentException.class, () -> new MxBlockCodec(MxFormat.MXFP6_E2M3, 30, ScaleRule.FLOOR));
        assertEquals(16, new MxBlockCodec(MxFormat.MXFP4_E2M1, 16, ScaleRule.FLOOR).blocks(250));
    }

    @Test
    void integerSlicingIsTheExactRoundingRoutineOnTheShiftedInteger() {
        // §2.2's shift-and-round equals the generic routine applied to q·2^-6 for every MXINT8 code
        for (MxFormat to : new MxFormat[] {MxFormat.MXINT6, MxFormat.MXINT4}) {
            MxIntCodec a = (MxIntCodec) ElementCodecs.of(MxFormat.MXINT8), t = (MxIntCodec) ElementCodecs.of(to);
            int[] codes = new int[255], out = new int[255];
            for (int q = -127; q <= 127; q++) codes[q + 127] = a.fromInt(q);
            SliceAndScale.sliceInteger(a, t, codes, 0, out, 0, 255);
            for (int q = -127; q <= 127; q++) {
                assertEquals(t.encode(q < 0, Math.abs(q), -6), out[q + 127], to + " q8=" + q);
                assertEquals(t.encode(q / 64.0), out[q + 127], to + " q8=" + q);
            }
        }
    }

    @Test
    void slicingSpecialBlocksAndE5M2Anchors() {
        int[] out = new int[32];
        int[] zero = new int[32];
        assertEquals(0x00, SliceAndScale.sliceBlock(MxFormat.MXFP8_E4M3, zero, 0, 0x90, MxFormat.MXFP4_E2M1, out, 0, 32));
        int[] nanElement = new int[32];
        nanElement[3] = 0x7F; // E4M3 NaN
        assertEquals(0xFF, SliceAndScale.sliceBlock(MxFormat.MXFP8_E4M3, nanElement, 0, 0x7F, MxFormat.MXFP6_E2M3, out, 0, 32));
        int[] inf = new int[32];
        inf[0] = 0xFC; // E5M2 −Inf
        assertEquals(0xFF, SliceAndScale.sliceBlock(MxFormat.MXFP8_E5M2, inf, 0, 0x7F, MxFormat.MXFP4_E2M1, out, 0, 32));
        assertEquals(0xFF, SliceAndScale.sliceBlock(MxFormat.MXINT8, zero, 0, 0xFF, MxFormat.MXINT4, out, 0, 32));
        // E5M2 anchors: the §2.3 conversion equals re-quantizing the dequantized anchor
        SplittableRandom r = new SplittableRandom(4);
        MxBlockCodec anchor = new MxBlockCodec(MxFormat.MXFP8_E5M2, 32, ScaleRule.FLOOR);
        for (MxFormat to : new MxFormat[] {MxFormat.MXFP4_E2M1, MxFormat.MXFP6_E3M2, MxFormat.MXINT8, MxFormat.MXINT4}) {
            MxBlockCodec target = new MxBlockCodec(to, 32, ScaleRule.FLOOR);
            for (int blk = 0; blk < 500; blk++) {
                float[] x = new float[32];
                for (int i = 0; i < 32; i++) x[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-20, 20)));
                MxVectorsTest.Encoded a = encode(MxFormat.MXFP8_E5M2, ScaleRule.FLOOR, x);
                int s = SliceAndScale.sliceBlock(MxFormat.MXFP8_E5M2, a.codes(), 0, a.scale(), to, out, 0, 32);
                float[] deq = new float[32];
                anchor.dequantizeRow(ByteBuffer.wrap(a.packed()), 0, ByteBuffer.wrap(new byte[] {(byte) a.scale()}), 0, 32, deq, 0);
                MxVectorsTest.Encoded want = encode(to, ScaleRule.FLOOR, deq);
                assertEquals(want.scale(), s, "E5M2→" + to + " scale");
                assertArrayEquals(want.codes(), out, "E5M2→" + to);
            }
        }
    }

    @Test
    void matrixPathsAgreeAcrossOrientationsAndDtypesAndReportTheLowestBadRow() {
        SplittableRandom r = new SplittableRandom(9);
        int n = 37, k = 70;
        float[] nk = new float[n * k], kn = new float[n * k];
        for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) kn[j * n + i] = nk[i * k + j] = (float) (r.nextGaussian() * 0.05);
        short[] halfBits = new short[n * k];
        byte[] halfBytes = new byte[2 * n * k];
        for (int i = 0; i < n * k; i++) {
            halfBits[i] = Half.floatToF16(nk[i]);
            halfBytes[2 * i] = (byte) halfBits[i];
            halfBytes[2 * i + 1] = (byte) (halfBits[i] >> 8);
        }
        for (MxFormat f : MxFormat.values()) {
            MxWeight a = MxMatrix.quantize(Tensor.ofFloats(nk, n, k), 1, f, 32, ScaleRule.FLOOR);
            MxWeight b = MxMatrix.quantize(Tensor.ofFloats(kn, k, n), 0, f, 32, ScaleRule.FLOOR);
            assertEquals(a.codes(), b.codes(), f + " codes of [N][K] and [K][N]");
            assertEquals(a.scales(), b.scales(), f + " scales");
            assertEquals(n * (long) Packing.bytes(96, f.bits()), a.codes().capacity());
            float[] back = MxMatrix.dequantize(a);
            float[] row = new float[k];
            MxMatrix.dequantizeRow(a, 5, row, 0);
            assertArrayEquals(Arrays.copyOfRange(back, 5 * k, 6 * k), row, 0f);
            // F16 input quantizes its exact float values
            float[] halfValues = new float[n * k];
            for (int i = 0; i < n * k; i++) halfValues[i] = Half.f16ToFloat(halfBits[i]);
            MxWeight h = MxMatrix.quantize(Tensor.ofBytes(DType.F16, halfBytes, n, k), 1, f, 32, ScaleRule.FLOOR);
            assertEquals(MxMatrix.quantize(Tensor.ofFloats(halfValues, n, k), 1, f, 32, ScaleRule.FLOOR).codes(), h.codes(), f + " F16");
        }
        float[] bad = nk.clone();
        bad[30 * k + 7] = Float.NaN;
        bad[12 * k + 69] = Float.NEGATIVE_INFINITY;
        for (int rep = 0; rep < 3; rep++) {
            BadInputException e = assertThrows(BadInputException.class, () -> MxMatrix.quantize(Tensor.ofFloats(bad, n, k), 1, MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR));
            assertEquals("row 12: non-finite value -Infinity at index 69", e.getMessage());
        }
    }

    @Test
    void sixBitPartialGroupsAndUnpack() {
        int[] codes = {0x01, 0x3F, 0x2A, 0x15, 0x33};
        for (int count = 1; count <= 5; count++) {
            byte[] out = new byte[Packing.bytes(count, 6)];
            Packing.pack(codes, count, 6, out, 0); // writes exactly ceil(6·count/8) bytes
            int[] back = new int[count];
            Packing.unpack(ByteBuffer.wrap(out), 0, count, 6, back);
            assertArrayEquals(Arrays.copyOf(codes, count), back, "count " + count);
        }
        byte[] five = new byte[4];
        Packing.pack(codes, 5, 6, five, 0);
        assertArrayEquals(new byte[] {(byte) 0xC1, (byte) 0xAF, 0x56, 0x33}, five);
    }
}
