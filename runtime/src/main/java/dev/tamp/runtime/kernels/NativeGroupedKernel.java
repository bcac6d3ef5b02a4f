package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.formats.codec.E8M0;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.nativekernels.NativeKernels;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;

/**
 * A grouped-integer or MX weight (4- or 8-bit codes, any pack layout) applied by the native kernels for few activation rows
 * (decode, batch-1 encoders), where the product is a stream over the codes. The layout is absorbed by laying the
 * activations out in the order the code bytes are visited (per call, O(K)), so a GENERIC pack runs as fast as a device
 * layout and is read where it lies. Activations:
 * <ul>
 *   <li>{@link Activations#FLOAT} (8-bit weight-only packs by default): the Java decoder's weights, (q − z)·s, in FMA
 *       chains: the same products as the Java kernels in another summation order.</li>
 *   <li>{@link Activations#INT8_BLOCK} (4-bit weight-only packs by default, W4A8 as llama.cpp's Q4_0 × Q8_0): activations
 *       quantized per block of 32, d = amax/127, integer dot products per 4-byte lane.</li>
 *   <li>{@link Activations#INT8_ROW} (W8A8 packs: SmoothQuant): per token or with the pack's static scale, the input
 *       scale (explicit smoothing) applied first — the quantization {@link ActivationQuantizingKernel} simulates.</li>
 * </ul>
 * With int8 activations the AVX-512 kernels take activation rows in register blocks against each block of weight rows
 * (a GEMM: prefill, encoders at any sequence length), in slabs of {@link #SLAB_BYTES} of prepared activations. Float
 * activations, and the AVX2 kernels (one stream per row), stop at {@link #MAX_ROWS} rows: past it the Java kernel runs
 * on the same (quantized) activations, its tiles or one BLAS product beating a stream per row there.
 */
final class NativeGroupedKernel implements LinearKernel {
    enum Activations { FLOAT, INT8_BLOCK, INT8_ROW }

    /** Activation block of the int8 path (llama.cpp's Q8_0). */
    static final int BLOCK = 32;
    /** Rows up to which the native GEMV runs (measured: at 16 rows it still beats the tiled Java kernel on MiniLM shapes). */
    static final int MAX_ROWS = 16;
    /** Prepared int8 activations a call of the blocked kernels takes at most (rows × actIntBytes; a slab is ≥ 1 row). */
    static final int SLAB_BYTES = 4 << 20;

    private final NativeKernels.Plan plan;
    private final LinearKernel java;
    private final Activations mode;
    private final float staticScale;
    private final float[] inputScale;
    private final int n;
    private final int k;
    private final int maxRows;

    private NativeGroupedKernel(NativeKernels.Plan plan, LinearKernel java, Activations mode, float staticScale, float[] inputScale,
                                int n, int k, NativeKernels.Isa isa) {
        this.plan = plan;
        this.maxRows = mode != Activations.FLOAT && isa == NativeKernels.Isa.AVX512 ? Integer.MAX_VALUE : MAX_ROWS;
        this.java = java;
        this.mode = mode;
        this.staticScale = staticScale;
        this.inputScale = inputScale;
        this.n = n;
        this.k = k;
    }

    /**
     * The activation mode a weight runs with: the pack's W8A8 setting, else tamp.activations: float, int8, or auto (the
     * default): int8 for 4-bit weights, float for 8-bit ones. Measured (verify, README): int8 activations move a W4 pack's
     * accuracy by less than its own spread (MiniLM RTN g128 cosine 0.9501 → 0.9500, BGE 0.9741 → 0.9742, stories260k g32
     * KL 1.79 → 1.80) but a W8 pack's visibly (stories260k KL 0.023 → 0.037), so W4 gets the integer kernels' speed.
     */
    static Activations modeFor(IntGroupedWeight w) {
        return w.activationBits() > 0 ? Activations.INT8_ROW : modeFor(w.bits());
    }

    /** The activation mode of a weight-only weight with {@code bits}-bit elements (integer or MX), by tamp.activations. */
    static Activations modeFor(int bits) {
        String a = System.getProperty("tamp.activations", "auto").toLowerCase(Locale.ROOT);
        return switch (a) {
            case "auto" -> bits == 4 ? Activations.INT8_BLOCK : Activations.FLOAT;
            case "float", "f32", "fp32" -> Activations.FLOAT;
            case "int8", "i8" -> Activations.INT8_BLOCK;
            default -> throw new IllegalArgumentException("tamp.activations must be auto, float or int8, not " + a);
        };
    }

    /**
     * The native kernel for w with {@code java} as its many-rows path, or null where native kernels are unavailable or
     * do not take this weight (activation bits other than 8, a group smaller than a 4-byte lane of codes).
     */
    static NativeGroupedKernel of(IntGroupedWeight w, LinearKernel java, NativeKernels.Isa isa, Activations mode) {
        if (isa == null || w.activationBits() != 0 && w.activationBits() != 8) return null;
        if ((mode == Activations.INT8_ROW) != (w.activationBits() == 8)) throw new IllegalArgumentException("per-row int8 activations are a W8A8 pack's");
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        int rowBytes = Math.toIntExact(PackLayouts.rowBytes(w.layout(), w.bits(), k));
        int[][] el = elements(w.layout(), w.bits(), k, rowBytes);
        if (el == null) return null;
        float[] scales = w.scales().toFloatArray();
        byte[] zeros = new byte[scales.length];
        boolean flip = w.bits() == 8 && w.symmetric();
        if (w.zeroPoints() != null) {
            w.zeroPoints().data().get(0, zeros);
        } else {
            Arrays.fill(zeros, (byte) (w.bits() == 4 ? 8 : 128));
        }
        return build(w.codes(), w.bits(), n, k, w.groupSize(), rowBytes, flip, scales, zeros, el, null, java, isa, mode,
                w.activationScale(), w.inputScale() == null ? null : w.inputScale().toFloatArray());
    }

    /**
     * The native kernel for an MX weight (weight-only, any layout), or null for formats without an exact integer form
     * here (MXFP8, the 6-bit ones: the Java kernels run them). MXFP4 and MXINT4 codes go through a 16-entry table to
     * their value times 2^t plus an offset (MXFP4: 2·E2M1 + 12), MXINT8 codes are signed bytes; the E8M0 block scale
     * times 2^−t is the group scale, so (code − zero)·scale is the Java decoder's value exactly.
     */
    static NativeGroupedKernel of(MxWeight w, LinearKernel java, NativeKernels.Isa isa, Activations mode) {
        if (isa == null || mode == Activations.INT8_ROW) return null;
        MxIntegerForm form = MxIntegerForm.of(w.format());
        if (form == null) return null;
        int bits = w.format().bits();
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols()), blocks = Math.toIntExact(w.blocksPerRow());
        int rowBytes = Math.toIntExact(PackLayouts.rowBytes(w.layout(), bits, w.paddedCols()));
        int[][] el = elements(w.layout(), bits, k, rowBytes);
        if (el == null) return null;
        float unit = Math.scalb(1f, -form.shift());
        float[] scales = new float[n * blocks];
        ByteBuffer sb = w.scales();
        for (int i = 0; i < scales.length; i++) scales[i] = E8M0.decode(sb.get(i)) * unit;
        byte[] zeros = new byte[scales.length];
        Arrays.fill(zeros, (byte) form.zero());
        return build(w.codes(), bits, n, k, w.blockSize(), rowBytes, bits == 8, scales, zeros, el, form.table(), java, isa, mode, 0f, null);
    }

    private static NativeGroupedKernel build(ByteBuffer codes, int bits, int n, int k, int group, int rowBytes, boolean flip,
                                             float[] scales, byte[] zeros, int[][] el, byte[] lut, LinearKernel java,
                                             NativeKernels.Isa isa, Activations mode, float staticScale, float[] inputScale) {
        if (!codes.isDirect()) {
            ByteBuffer d = ByteBuffer.allocateDirect(codes.capacity());
            d.put(0, codes, 0, codes.capacity());
            codes = d;
        }
        int block = mode == Activations.INT8_BLOCK ? BLOCK : 0;
        try {
            NativeKernels.Plan p = new NativeKernels.Plan(isa, bits, n, k, group, block, rowBytes, flip, codes, 0,
                    scales, zeros, el[0], el[1], lut);
            return new NativeGroupedKernel(p, java, mode, staticScale, inputScale, n, k, isa);
        } catch (IllegalArgumentException e) {
            return null; // this grouping or layout does not fit the lanes: the Java kernel runs it
        }
    }

    /**
     * For each code byte of a row, the element its low nibble (8-bit: the byte) and its high nibble hold, −1 past K:
     * GENERIC pairs (2b, 2b+1); SPLIT (span W) chunks 2W·(b / W) + b % W and that + W; 8-bit rows keep element order.
     */
    static int[][] elements(Layout layout, int bits, int k, int rowBytes) {
        if (!PackLayouts.supported(layout)) return null;
        int[] lo = new int[rowBytes], hi = bits == 4 ? new int[rowBytes] : null;
        int w = PackLayouts.isSplit(layout) ? PackLayouts.span(layout) : 0;
        for (int b = 0; b < rowBytes; b++) {
            if (bits == 8) {
                lo[b] = b < k ? b : -1;
                continue;
            }
            int l = w == 0 ? 2 * b : 2 * w * (b / w) + b % w, h = w == 0 ? 2 * b + 1 : l + w;
            lo[b] = l < k ? l : -1;
            hi[b] = h < k ? h : -1;
        }
        return new int[][] {lo, hi};
    }

    Activations mode() { return mode; }

    NativeKernels.Plan plan() { return plan; }

    @Override public int inFeatures() { return k; }

    @Override public int outFeatures() { return n; }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        float[] in = x;
        if (inputScale != null) {
            in = new float[rows * k];
            for (int m = 0; m < rows; m++) for (int j = 0; j < k; j++) in[m * k + j] = x[m * k + j] * inputScale[j];
        }
        if (rows > maxRows) {
            if (mode != Activations.FLOAT) {
                if (in == x) in = Arrays.copyOf(x, rows * k);
                float[] q = in;
                int block = mode == Activations.INT8_BLOCK ? BLOCK : k;
                parallel.forRange(rows, 16, (from, to) -> ActivationQuantization.quantizeBlocks(q, from, to, k, block, 127, staticScale));
            }
            java.forward(in, rows, out, parallel);
            return;
        }
        if (mode == Activations.FLOAT) {
            float[] act = new float[rows * plan.actFloatLength()];
            plan.prepareFloat(in, rows, act);
            parallel.forRange(n, 16, (from, to) -> plan.gemvFloat(act, rows, out, from, to));
        } else {
            int slab = Math.max(1, Math.min(rows, SLAB_BYTES / plan.actIntBytes()));
            byte[] act = scratch(slab * plan.actIntBytes());
            float[] xs = rows <= slab ? in : new float[slab * k], os = rows <= slab ? out : new float[slab * n];
            for (int m0 = 0; m0 < rows; m0 += slab) {
                int m = Math.min(slab, rows - m0);
                if (xs != in) System.arraycopy(in, m0 * k, xs, 0, m * k);
                int block = mode == Activations.INT8_BLOCK ? BLOCK : 0;
                float[] xm = xs;
                parallel.forRange(m, 8, (from, to) -> plan.prepareInt(xm, from, to - from, block, staticScale, act));
                parallel.forRange(n, 16, (from, to) -> plan.gemvInt(act, m, os, from, to));
                if (os != out) System.arraycopy(os, 0, out, m0 * n, m * n);
            }
        }
    }

    /**
     * The calling thread's buffer for prepared activations, grown as needed: allocated per call it cost more than the
     * GEMM at MiniLM's shapes (a 1.2 MB array per FFN product, 128 rows × K 1536, is a humongous G1 allocation).
     */
    private static byte[] scratch(int bytes) {
        byte[] b = SCRATCH.get();
        if (b.length < bytes) {
            b = new byte[bytes];
            SCRATCH.set(b);
        }
        return b;
    }

    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[0]);

    @Override
    public float[] denseWeight() {
        return java.denseWeight();
    }
}
