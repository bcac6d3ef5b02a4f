package dev.tamp.formats.codec;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * Device layouts of code planes (formats.md §3.7, §5, §6.2) and their exact inverses. Every layout keeps the
 * scales (and zero points) as the separate row-major [N][groups] plane; only the code plane's rows change:
 * <ul>
 *   <li>{@code GENERIC}: row-major, ceil(count·bits/8) bytes a row, 4-bit codes in pair order.</li>
 *   <li>{@code SPLIT16/32/64} (span W = 16, 32, 64 bytes: NEON, AVX2, AVX-512): 4-bit rows are padded with zero
 *       nibbles to a multiple of 2W elements and each 2W-element chunk becomes W bytes, byte j = e[j] | e[j+W] &lt;&lt; 4,
 *       so one W-byte load unpacks with AND 0x0F and SHR 4 into two runs of W codes already in activation order; a
 *       chunk never straddles rows. Rows of 6- and 8-bit codes keep GENERIC order, zero-padded to a multiple of W
 *       bytes so every row starts vector-aligned.</li>
 *   <li>{@code CUDA_ROWS16}: GENERIC order with each row zero-padded to a multiple of 16 bytes (one 128-bit load per
 *       thread; for 4-bit codes this is the TinyChatEngine GEMV word order).</li>
 * </ul>
 * A 2:4 weight's kept values are laid out as above (they are an [N][K/2] encoded matrix); its index plane keeps the CPU
 * canonical order (§5.2) for GENERIC and SPLIT layouts and is padded to 16-byte rows for CUDA_ROWS16 (row by row the
 * canonical nibbles are already the mma.sp metadata order: 4 groups a 16-bit word, first group lowest; the per-thread
 * fragment shuffle is opaque and produced on the device, §5.1). The other layout tags (AWQ GEMM, row interleaves) are
 * not produced and are refused.
 */
public final class PackLayouts {
    private PackLayouts() {}

    /** The layout {@code tamp pack --device D} produces: generic, neon, avx2, avx512, cuda. */
    public static Layout forDevice(String device) {
        return switch (device.toLowerCase(Locale.ROOT)) {
            case "generic" -> Layout.GENERIC;
            case "neon" -> Layout.SPLIT16;
            case "avx2" -> Layout.SPLIT32;
            case "avx512", "avx-512" -> Layout.SPLIT64;
            case "cuda" -> Layout.CUDA_ROWS16;
            default -> throw new IllegalArgumentException("unknown device " + device + " (generic, neon, avx2, avx512, cuda)");
        };
    }

    /** The SPLIT layout whose span is a vector of {@code bytes} bytes (16, 32, 64), else null. */
    public static Layout splitForVectorBytes(int bytes) {
        return switch (bytes) {
            case 16 -> Layout.SPLIT16;
            case 32 -> Layout.SPLIT32;
            case 64 -> Layout.SPLIT64;
            default -> null;
        };
    }

    /** Whether tamp reads and writes this layout. */
    public static boolean supported(Layout l) {
        return l == Layout.GENERIC || span(l) > 0;
    }

    /** The span W in bytes of a SPLIT layout, 16 for CUDA_ROWS16, 0 for GENERIC and -1 for unsupported tags. */
    public static int span(Layout l) {
        return switch (l) {
            case GENERIC -> 0;
            case SPLIT16, CUDA_ROWS16 -> 16;
            case SPLIT32 -> 32;
            case SPLIT64 -> 64;
            default -> -1;
        };
    }

    /** Whether this layout nibble-splits 4-bit codes. */
    public static boolean isSplit(Layout l) {
        return l == Layout.SPLIT16 || l == Layout.SPLIT32 || l == Layout.SPLIT64;
    }

    /** Bytes of one row of {@code count} codes of {@code bits} bits in layout {@code l}. */
    public static long rowBytes(Layout l, int bits, long count) {
        long generic = (count * bits + 7) / 8;
        int w = span(l);
        if (w < 0) throw new UnsupportedModelException("layout " + l + " is not supported");
        if (w == 0) return generic;
        if (bits == 4 && isSplit(l)) return (count + 2L * w - 1) / (2L * w) * w;
        return (generic + w - 1) / w * w;
    }

    /** Converts one GENERIC row at src[srcOff ..] into layout {@code l} at dst[dstOff ..] (dst pre-zeroed). */
    public static void packRow(Layout l, int bits, int count, ByteBuffer src, int srcOff, byte[] dst, int dstOff) {
        int generic = (count * bits + 7) / 8;
        if (bits == 4 && isSplit(l)) {
            int w = span(l);
            for (int i = 0; i < count; i++) {
                int b = src.get(srcOff + (i >>> 1)) & 0xFF;
                int nib = (i & 1) == 0 ? b & 0xF : b >>> 4;
                int chunk = i / (2 * w), o = i % (2 * w);
                int at = dstOff + chunk * w + (o % w);
                dst[at] |= (byte) (o < w ? nib : nib << 4);
            }
        } else {
            src.get(srcOff, dst, dstOff, generic);
        }
    }

    /** Converts one row in layout {@code l} at src[srcOff ..] back to GENERIC at dst[dstOff ..] (dst pre-zeroed). */
    public static void unpackRow(Layout l, int bits, int count, ByteBuffer src, int srcOff, byte[] dst, int dstOff) {
        int generic = (count * bits + 7) / 8;
        if (bits == 4 && isSplit(l)) {
            int w = span(l);
            for (int i = 0; i < count; i++) {
                int chunk = i / (2 * w), o = i % (2 * w);
                int b = src.get(srcOff + chunk * w + (o % w)) & 0xFF;
                int nib = o < w ? b & 0xF : b >>> 4;
                dst[dstOff + (i >>> 1)] |= (byte) ((i & 1) == 0 ? nib : nib << 4);
            }
        } else {
            src.get(srcOff, dst, dstOff, generic);
        }
    }

    /** A whole plane of {@code rows} rows of {@code count} codes from GENERIC into {@code l}. */
    public static ByteBuffer packPlane(ByteBuffer generic, int rows, int bits, int count, Layout l) {
        int in = Math.toIntExact(rowBytes(Layout.GENERIC, bits, count)), out = Math.toIntExact(rowBytes(l, bits, count));
        requirePlane(generic, rows, in, "GENERIC");
        byte[] dst = new byte[Math.multiplyExact(rows, out)];
        for (int r = 0; r < rows; r++) packRow(l, bits, count, generic, r * in, dst, r * out);
        return ByteBuffer.wrap(dst);
    }

    /** A whole plane in layout {@code l} back to GENERIC: the exact inverse of {@link #packPlane}. */
    public static ByteBuffer unpackPlane(ByteBuffer packed, int rows, int bits, int count, Layout l) {
        int in = Math.toIntExact(rowBytes(l, bits, count)), out = Math.toIntExact(rowBytes(Layout.GENERIC, bits, count));
        requirePlane(packed, rows, in, l.name());
        byte[] dst = new byte[Math.multiplyExact(rows, out)];
        for (int r = 0; r < rows; r++) unpackRow(l, bits, count, packed, r * in, dst, r * out);
        return ByteBuffer.wrap(dst);
    }

    private static void requirePlane(ByteBuffer b, int rows, int rowBytes, String layout) {
        if (b.capacity() < (long) rows * rowBytes) {
            throw new BadInputException("code plane of " + b.capacity() + " bytes is too small for " + rows + " " + layout + " rows of " + rowBytes + " bytes");
        }
    }

    /** The layout of an encoded tensor (GENERIC for encodings without one). */
    public static Layout layoutOf(EncodedTensor t) {
        if (t instanceof IntGroupedWeight w) return w.layout();
        if (t instanceof MxWeight w) return w.layout();
        if (t instanceof Sparse24Weight w) return w.layout();
        return Layout.GENERIC;
    }

    /**
     * The same weight re-laid out for {@code target}, from whatever layout it has. Encodings without a code plane
     * (dense, low-rank, dictionary) are returned unchanged.
     */
    public static EncodedTensor pack(EncodedTensor t, Layout target) {
        if (!supported(target)) throw new UnsupportedModelException("layout " + target + " is not produced by tamp pack");
        EncodedTensor g = toGeneric(t);
        if (target == Layout.GENERIC) return g;
        if (g instanceof IntGroupedWeight w) {
            int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
            return withCodes(w, packPlane(w.codes(), n, w.bits(), k, target), target);
        }
        if (g instanceof MxWeight w) {
            int n = Math.toIntExact(w.rows()), count = Math.toIntExact(w.paddedCols());
            return new MxWeight(w.shape(), w.kAxis(), w.format(), w.blockSize(), packPlane(w.codes(), n, w.format().bits(), count, target),
                    w.scales(), w.anchor(), target);
        }
        if (g instanceof Sparse24Weight w) {
            int n = Math.toIntExact(w.rows()), ib = Sparse24Codec.indexRowBytes(Math.toIntExact(w.cols()));
            ByteBuffer idx = target == Layout.CUDA_ROWS16 ? packPlane(w.indices(), n, 8, ib, target) : w.indices();
            return new Sparse24Weight(w.shape(), w.kAxis(), pack(w.values(), target), idx, target);
        }
        return g;
    }

    /** The same weight in GENERIC layout (the exact inverse of {@link #pack}). */
    public static EncodedTensor toGeneric(EncodedTensor t) {
        Layout l = layoutOf(t);
        if (!supported(l)) throw new UnsupportedModelException("layout " + l + " of a " + t.describe() + " weight is not supported");
        if (t instanceof Sparse24Weight w) {
            EncodedTensor values = toGeneric(w.values());
            if (l == Layout.GENERIC && values == w.values()) return w;
            int n = Math.toIntExact(w.rows()), ib = Sparse24Codec.indexRowBytes(Math.toIntExact(w.cols()));
            ByteBuffer idx = l == Layout.CUDA_ROWS16 ? unpackPlane(w.indices(), n, 8, ib, l) : w.indices();
            return new Sparse24Weight(w.shape(), w.kAxis(), values, idx, Layout.GENERIC);
        }
        if (l == Layout.GENERIC) return t;
        if (t instanceof IntGroupedWeight w) {
            int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
            return withCodes(w, unpackPlane(w.codes(), n, w.bits(), k, l), Layout.GENERIC);
        }
        MxWeight w = (MxWeight) t;
        int n = Math.toIntExact(w.rows()), count = Math.toIntExact(w.paddedCols());
        return new MxWeight(w.shape(), w.kAxis(), w.format(), w.blockSize(), unpackPlane(w.codes(), n, w.format().bits(), count, l),
                w.scales(), w.anchor(), Layout.GENERIC);
    }

    /** Expected code-plane bytes of an int-group or MX weight in its layout. */
    public static long codePlaneBytes(EncodedTensor t) {
        if (t instanceof IntGroupedWeight w) return Math.multiplyExact(w.rows(), rowBytes(w.layout(), w.bits(), w.cols()));
        MxWeight w = (MxWeight) t;
        return Math.multiplyExact(w.rows(), rowBytes(w.layout(), w.format().bits(), w.paddedCols()));
    }

    /** Expected index-plane bytes of a 2:4 weight in its layout. */
    public static long indexPlaneBytes(Sparse24Weight w) {
        long ib = (w.cols() / 4 + 1) / 2;
        return Math.multiplyExact(w.rows(), w.layout() == Layout.CUDA_ROWS16 ? rowBytes(Layout.CUDA_ROWS16, 8, ib) : ib);
    }

    private static IntGroupedWeight withCodes(IntGroupedWeight w, ByteBuffer codes, Layout l) {
        return new IntGroupedWeight(w.shape(), w.kAxis(), w.bits(), w.symmetric(), w.groupSize(), codes, w.scales(), w.zeroPoints(),
                w.inputScale(), w.activationBits(), w.activationScale(), l);
    }
}
