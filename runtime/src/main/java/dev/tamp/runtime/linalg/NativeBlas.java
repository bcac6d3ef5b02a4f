package dev.tamp.runtime.linalg;

/**
 * Loads OpenBLAS (with LAPACKE) through JavaCPP once, on first use. JavaCPP extracts the natives to a
 * cache directory; we point it under {@code tamp.cache.dir} so nothing lands in {@code ~/.javacpp}.
 * A failure to load is remembered, not rethrown: callers fall back to the pure-Java path.
 */
final class NativeBlas {
    private NativeBlas() {}

    private static final class Holder {
        static final Throwable FAILURE = load();
    }

    static boolean available() { return Holder.FAILURE == null; }

    /** Why the native library is unavailable, or null when it loaded. */
    static Throwable failure() { return Holder.FAILURE; }

    private static Throwable load() {
        String cacheProp = "org.bytedeco.javacpp.cachedir";
        if (System.getProperty(cacheProp) == null) {
            String tampCache = System.getProperty("tamp.cache.dir");
            if (tampCache != null && !tampCache.isBlank()) System.setProperty(cacheProp, tampCache + "/javacpp");
        }
        try {
            // Touching the class runs JavaCPP's loader; openblas_full carries the thread control.
            org.bytedeco.javacpp.Loader.load(org.bytedeco.openblas.global.openblas.class);
            // One thread, as the GEMM kernels set it (kernels/OpenBlas): the count is global to the library, and raising it
            // here changed the rounding of every later forward GEMM in the process (a SparseGPT run's blocks disagreed
            // with a fresh run's once its first factorisation had loaded this class). -Dtamp.linalg.threads overrides.
            int threads = Integer.getInteger("tamp.linalg.threads", 1);
            org.bytedeco.openblas.global.openblas_full.openblas_set_num_threads(Math.max(1, threads));
            return null;
        } catch (Throwable t) { // UnsatisfiedLinkError, ExceptionInInitializerError, NoClassDefFoundError
            return t;
        }
    }
}
