package dev.tamp.runtime.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Splits loops over rows across a fixed set of worker threads (one per core unless told otherwise). Work is
 * cut into contiguous chunks, one per thread, so results never depend on scheduling: each output element is
 * computed by exactly one thread with a fixed summation order (deterministic outputs).
 */
public final class Parallel implements AutoCloseable {
    /** A loop body over [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool;

    public Parallel(int threads) {
        this.threads = Math.max(1, threads);
        this.pool = this.threads == 1 ? null : Executors.newFixedThreadPool(this.threads - 1, r -> {
            Thread t = new Thread(r, "tamp-worker");
            t.setDaemon(true);
            return t;
        });
    }

    private static volatile Parallel shared;

    /** A process-wide pool sized by -Dtamp.threads or the number of processors. */
    public static Parallel shared() {
        if (shared == null) {
            synchronized (Parallel.class) {
                if (shared == null) {
                    int n = Integer.getInteger("tamp.threads", Runtime.getRuntime().availableProcessors());
                    shared = new Parallel(n);
                }
            }
        }
        return shared;
    }

    public int threads() { return threads; }

    /** Runs body over [0, n) in up to {@code threads} chunks; chunks are multiples of {@code grain}. */
    public void forRange(int n, int grain, Range body) {
        int chunks = Math.min(threads, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1 || pool == null) {
            body.run(0, n);
            return;
        }
        int per = (n + chunks - 1) / chunks;
        per = (per + grain - 1) / grain * grain;
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 1; c < chunks; c++) {
            int from = c * per, to = Math.min(n, from + per);
            if (from >= to) break;
            fs.add(pool.submit(() -> body.run(from, to)));
        }
        body.run(0, Math.min(n, per));
        for (Future<?> f : fs) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof RuntimeException r) throw r;
                if (c instanceof Error err) throw err;
                throw new IllegalStateException(c);
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
