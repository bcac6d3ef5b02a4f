package dev.tamp.runtime.kernels;

import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Splits loops over rows across a fixed set of worker threads (one per core unless told otherwise). Work is
 * cut into contiguous chunks, one per thread, so results never depend on scheduling: each output element is
 * computed by exactly one thread with a fixed summation order (deterministic outputs).
 *
 * <p>Inference calls this for every op, many of them microseconds long (a softmax over 16 tokens), so handing a
 * chunk to a parked pool thread — a futex wake-up and a reschedule, tens of microseconds — cost more than the work.
 * Workers therefore spin briefly on their task slot after each chunk before parking, and the caller spins briefly
 * while it waits, the way inference runtimes' thread pools do (ONNX Runtime's spins too). Idle workers park after
 * {@link #SPIN_NANOS}, so a process between runs costs no CPU.
 */
public final class Parallel implements AutoCloseable {
    /** A loop body over [from, to). */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /**
     * How long a worker (or the waiting caller) spins before parking. Measured on the 2-vCPU VMs tamp is built on: a futex
     * wake-up there takes 200–500 µs, so with a 200 µs spin the pool fell into a cycle where every hand-off parked (the
     * caller's wait outlasted the worker's spin): back-to-back empty forRange calls took 210–450 µs each; with 2 ms they
     * take 1 µs, and a W4 decode step (8 × 4096² GEMVs) went from 7–13 ms to 3 ms.
     */
    static final long SPIN_NANOS = 2_000_000;

    private final int threads;
    private final Worker[] workers;
    /** One dispatch at a time: concurrent callers queue (running serially instead would change BLAS blocking). */
    private final ReentrantLock dispatch = new ReentrantLock();
    private volatile boolean closed;

    public Parallel(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Worker[this.threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker();
            workers[i].start();
        }
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
        // a body that itself splits work runs its inner loops on the thread it is on
        if (chunks <= 1 || closed || Thread.currentThread() instanceof Worker || dispatch.isHeldByCurrentThread()) {
            body.run(0, n);
            return;
        }
        int per = (n + chunks - 1) / chunks;
        per = (per + grain - 1) / grain * grain;
        dispatch.lock();
        try {
            int used = 0;
            for (int c = 1; c < chunks; c++) {
                int from = c * per, to = Math.min(n, from + per);
                if (from >= to) break;
                workers[c - 1].post(body, from, to);
                used++;
            }
            Throwable first = null;
            try {
                body.run(0, Math.min(n, per));
            } catch (Throwable t) {
                first = t;
            }
            for (int w = 0; w < used; w++) {
                Throwable t = workers[w].await();
                if (first == null) first = t;
            }
            if (first instanceof RuntimeException r) throw r;
            if (first instanceof Error e) throw e;
            if (first != null) throw new IllegalStateException(first);
        } finally {
            dispatch.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) LockSupport.unpark(w);
    }

    /** A pool thread with a one-task slot: {@code posted} counts tasks handed to it, {@code done} tasks finished. */
    private final class Worker extends Thread {
        private Range body;
        private int from;
        private int to;
        private Throwable failure;
        private volatile long posted;
        private volatile long done;
        private volatile boolean parked;

        Worker() {
            super("tamp-worker");
            setDaemon(true);
        }

        /** Called by the dispatching thread only (under the dispatch lock). */
        void post(Range b, int f, int t) {
            body = b;
            from = f;
            to = t;
            failure = null;
            posted = posted + 1; // volatile write publishes the fields above
            if (parked) LockSupport.unpark(this);
        }

        /** Waits for the posted task; returns what it threw, if anything. */
        Throwable await() {
            long target = posted, start = System.nanoTime();
            while (done != target) {
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.parkNanos(20_000);
            }
            return failure; // written before the volatile write of done
        }

        @Override
        public void run() {
            long seen = 0;
            while (!closed) {
                long start = System.nanoTime();
                while (posted == seen && !closed) {
                    if (System.nanoTime() - start < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        parked = true;
                        if (posted == seen && !closed) LockSupport.park(this);
                        parked = false;
                    }
                }
                if (closed) return;
                seen = posted;
                try {
                    body.run(from, to);
                } catch (Throwable t) {
                    failure = t;
                }
                done = seen;
            }
        }
    }
}
