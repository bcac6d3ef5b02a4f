package dev.tamp.nativekernels;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * The C kernel library built by {@code native/build.sh} during the Maven build, loaded once from this jar (extracted
 * into the tamp cache, named by its hash) and its variant chosen from the CPU's features. Absent (no compiler at build
 * time, another OS or CPU family) or switched off with {@code -Dtamp.native=false}, {@link #available()} is false and
 * callers keep their Java kernels. {@code -Dtamp.native.isa=scalar|avx2|avx512} (or {@code TAMP_NATIVE_ISA}) caps the
 * variant: the tests run every variant this CPU has against the Java reference.
 */
public final class NativeKernels {
    /** Kernel variants, in the order of the C enum tamp_isa. */
    public enum Isa {
        SCALAR("plain C"), AVX2("AVX2+FMA"), AVX512("AVX-512 VNNI");

        private final String label;

        Isa(String label) { this.label = label; }

        public String label() { return label; }
    }

    private static final String RESOURCE = "/dev/tamp/nativekernels/linux-x86_64/libtampkernels.so";
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Isa CPU;
    private static final Isa CHOSEN;
    private static final String WHY_NOT;

    static {
        Isa cpu = null, chosen = null;
        String why = null;
        try {
            why = load();
            if (why == null) {
                cpu = Isa.values()[cpuIsaCode()];
                chosen = cap(cpu);
            }
        } catch (IOException | UnsatisfiedLinkError | RuntimeException e) {
            why = "the native kernel library did not load (" + e.getMessage() + ")";
        }
        CPU = cpu;
        CHOSEN = chosen;
        WHY_NOT = why;
    }

    private NativeKernels() {}

    /** Whether native kernels run in this process. */
    public static boolean available() { return CHOSEN != null; }

    /** The variant plans get by default (capped by tamp.native.isa), or null when unavailable. */
    public static Isa isa() { return CHOSEN; }

    /** The best variant this CPU runs, or null when the library is unavailable. */
    public static Isa cpuIsa() { return CPU; }

    /** One line for logs and reports: which kernels run and, when they are Java, why. */
    public static String describe() {
        return available() ? "native " + CHOSEN.label() : "java (" + WHY_NOT + ")";
    }

    /** Null when loaded, else why not. */
    private static String load() throws IOException {
        if ("false".equalsIgnoreCase(System.getProperty("tamp.native"))) return "switched off by -Dtamp.native=false";
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
                || !"amd64".equals(System.getProperty("os.arch")) && !"x86_64".equals(System.getProperty("os.arch"))) {
            return "no native kernels for " + System.getProperty("os.name") + "/" + System.getProperty("os.arch");
        }
        byte[] lib;
        try (InputStream in = NativeKernels.class.getResourceAsStream(RESOURCE)) {
            if (in == null) return "not built: no C compiler when tamp was built";
            lib = in.readAllBytes();
        }
        Path dir = cacheDir().resolve("native");
        Files.createDirectories(dir);
        Path file = dir.resolve("libtampkernels-" + sha256(lib).substring(0, 16) + ".so");
        if (!Files.exists(file) || Files.size(file) != lib.length) {
            Path tmp = Files.createTempFile(dir, "libtampkernels", ".tmp");
            Files.write(tmp, lib);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        System.load(file.toAbsolutePath().toString());
        return null;
    }

    private static Path cacheDir() {
        String p = System.getProperty("tamp.cache.dir");
        if (p != null && !p.isBlank()) return Path.of(p);
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("tamp");
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Isa cap(Isa cpu) {
        String want = System.getProperty("tamp.native.isa", System.getenv("TAMP_NATIVE_ISA"));
        if (want == null || want.isBlank()) return cpu;
        Isa w = Isa.valueOf(want.trim().toUpperCase(Locale.ROOT).replace("-", ""));
        return w.ordinal() <= cpu.ordinal() ? w : cpu;
    }

    /**
     * A grouped-integer weight prepared for the kernels: value = (code − zero)·scale per group of K columns, codes in
     * the caller's layout, described by the element each byte's nibbles hold.
     */
    public static final class Plan {
        private final long handle;
        private final ByteBuffer codes; // kept reachable: the plan reads it in place
        private final int intBytes;
        private final int floatLength;
        private final int n;
        private final int k;

        /**
         * @param isa       the variant to run (at most {@link #cpuIsa()})
         * @param bits      4 or 8
         * @param group     weight group size along K (0 or ≥ K: one a row)
         * @param block     activation block the int8 path will be called with (32, or 0 for one a row); the float path
         *                  ignores it
         * @param codes     a direct buffer holding [n][rowBytes] codes from {@code offset}
         * @param scales    [n][groups]
         * @param zeros     [n][groups] zero point per group (unsigned), after the flip of signed 8-bit codes (then 128)
         * @param elLo      [rowBytes]: element of each byte's low nibble (8-bit: of the byte), −1 for padding
         * @param elHi      [rowBytes]: element of each byte's high nibble, −1 for padding; null for 8-bit
         * @param lut       4-bit only: the code each nibble value stands for (16 entries, 0..127: an MX element's value
         *                  times a power of two plus the zero point), or null when the nibble is the code
         * @throws IllegalArgumentException where the layout and grouping do not fit the kernels (callers fall back)
         */
        public Plan(Isa isa, int bits, int n, int k, int group, int block, int rowBytes, boolean flip, ByteBuffer codes, long offset,
                    float[] scales, byte[] zeros, int[] elLo, int[] elHi, byte[] lut) {
            if (!available()) throw new IllegalStateException("native kernels unavailable: " + WHY_NOT);
            if (isa.ordinal() > CPU.ordinal()) throw new IllegalArgumentException(isa + " kernels do not run on this CPU (" + CPU + ")");
            if (!codes.isDirect()) throw new IllegalArgumentException("codes must be in a direct buffer");
            if (offset + (long) n * rowBytes > codes.capacity()) throw new IllegalArgumentException("codes hold fewer than " + n + " rows");
            this.codes = codes;
            this.n = n;
            this.k = k;
            this.handle = planCreate(isa.ordinal(), bits, n, k, group, block, rowBytes, flip, codes, offset, scales, zeros, elLo, elHi, lut);
            this.intBytes = NativeKernels.actIntBytes(handle);
            this.floatLength = NativeKernels.actFloatLength(handle);
            long h = handle;
            CLEANER.register(this, () -> planFree(h));
        }

        public int outFeatures() { return n; }

        /** Bytes of int8 activations one input row takes. */
        public int actIntBytes() { return intBytes; }

        /** Floats of laid-out float activations one input row takes. */
        public int actFloatLength() { return floatLength; }

        /**
         * Quantizes x [rows][K] per block (0: per row; the plan's block) or with a static scale > 0 into act
         * [rows][actIntBytes].
         */
        public void prepareInt(float[] x, int rows, int block, float staticScale, byte[] act) {
            prepareInt(x, 0, rows, block, staticScale, act);
        }

        /** The same for rows [row0, row0 + rows) of x into the same rows of act (threads take disjoint rows). */
        public void prepareInt(float[] x, int row0, int rows, int block, float staticScale, byte[] act) {
            if (row0 < 0 || (long) (row0 + rows) * k > x.length || (long) (row0 + rows) * intBytes > act.length) {
                throw new IllegalArgumentException("rows [" + row0 + ", " + (row0 + rows) + ") past the arrays");
            }
            NativeKernels.prepareInt(handle, x, row0, rows, block, staticScale, act);
            java.lang.ref.Reference.reachabilityFence(this);
        }

        public void prepareFloat(float[] x, int rows, float[] act) {
            NativeKernels.prepareFloat(handle, x, rows, act);
        }

        /** out[m·N + r] for weight rows [r0, r1). */
        public void gemvInt(byte[] act, int rows, float[] out, int r0, int r1) {
            NativeKernels.gemvInt(handle, act, rows, out, r0, r1);
            java.lang.ref.Reference.reachabilityFence(this);
        }

        public void gemvFloat(float[] act, int rows, float[] out, int r0, int r1) {
            NativeKernels.gemvFloat(handle, act, rows, out, r0, r1);
            java.lang.ref.Reference.reachabilityFence(this);
        }

        /** The codes' buffer (held for the plan's life). */
        ByteBuffer codes() { return codes; }
    }

    /**
     * out[m·N + r] = Σ_j w[r][j]·x[m][j] for weight rows [r0, r1) of a BF16 [N][K] matrix read where it lies (a direct or
     * memory-mapped buffer from {@code offset}), widened exactly; rows of x are K floats.
     */
    public static void gemvBf16(Isa isa, ByteBuffer w, long offset, int n, int k, float[] x, int rows, float[] out, int r0, int r1) {
        if (!w.isDirect()) throw new IllegalArgumentException("BF16 weights must be in a direct buffer");
        if (offset + 2L * n * k > w.capacity()) throw new IllegalArgumentException("the buffer holds fewer than " + n + " BF16 rows of " + k);
        if (x.length < (long) rows * k || out.length < (long) rows * n || r0 < 0 || r1 > n) throw new IllegalArgumentException("bad GEMV shapes");
        gemvBf16(isa.ordinal(), w, offset, n, k, x, rows, out, r0, r1);
        java.lang.ref.Reference.reachabilityFence(w);
    }

    /**
     * Whether the AVX-512 row operations run (softmax, layer norm, GELU, attention's NN product): the kernels chose
     * AVX-512 and -Dtamp.native.rowops is not false. They give the Java Vector API kernels' bits at 16 lanes.
     */
    public static boolean rowOps() { return ROW_OPS; }

    private static final boolean ROW_OPS = CHOSEN == Isa.AVX512 && !"false".equals(System.getProperty("tamp.native.rowops"));

    /** out[i] = GELU(in[i]) (exact, erf) for i in [from, to); out may be in. */
    public static native void gelu(float[] in, float[] out, int from, int to);

    /** Softmax of rows [row0, row1) of x (rows of n), in place. */
    public static native void softmaxRows(float[] x, int n, int row0, int row1);

    /** Layer normalisation of rows [row0, row1) of x (rows of d) into out; bias may be null; writes means and invStds. */
    public static native void layerNormRows(float[] x, float[] scale, float[] bias, float[] out, int d, float eps, int row0, int row1,
                                            float[] means, float[] invStds);

    /** out[m][n] = a[m][k] · b[k][n], row-major from the offsets. */
    public static native void gemmNN(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int m, int n, int k);

    private static native void gemvBf16(int isa, ByteBuffer w, long offset, int n, int k, float[] x, int rows, float[] out, int r0, int r1);

    private static native int cpuIsaCode();

    private static native long planCreate(int isa, int bits, int n, int k, int group, int block, int rowBytes, boolean flip,
                                          ByteBuffer codes, long offset, float[] scales, byte[] zeros, int[] elLo, int[] elHi, byte[] lut);

    private static native void planFree(long plan);

    private static native int actIntBytes(long plan);

    private static native int actFloatLength(long plan);

    private static native void prepareInt(long plan, float[] x, int row0, int rows, int block, float staticScale, byte[] act);

    private static native void prepareFloat(long plan, float[] x, int rows, float[] act);

    private static native void gemvInt(long plan, byte[] act, int rows, float[] out, int r0, int r1);

    private static native void gemvFloat(long plan, float[] act, int rows, float[] out, int r0, int r1);
}
