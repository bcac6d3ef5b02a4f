package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The spinning pool: every index exactly once, failures surface, nesting and concurrent callers neither deadlock nor mix. */
class ParallelTest {
    @Test
    void coversEveryIndexOnceInFixedChunks() {
        try (Parallel p = new Parallel(3)) {
            for (int n : new int[] {1, 7, 48, 1000, 100_003}) {
                int[] hits = new int[n];
                p.forRange(n, 16, (from, to) -> {
                    for (int i = from; i < to; i++) hits[i]++;
                });
                for (int i = 0; i < n; i++) assertEquals(1, hits[i], "n " + n + " index " + i);
            }
        }
    }

    @Test
    void aFailureInAWorkerChunkReachesTheCaller() {
        try (Parallel p = new Parallel(2)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.forRange(100, 10, (from, to) -> {
                if (from > 0) throw new IllegalArgumentException("chunk " + from);
            }));
            assertTrue(e.getMessage().startsWith("chunk "));
            AtomicInteger sum = new AtomicInteger();
            p.forRange(100, 10, (from, to) -> sum.addAndGet(to - from));
            assertEquals(100, sum.get(), "the pool still works after a failure");
        }
    }

    @Test
    void nestedAndConcurrentCallsComplete() throws Exception {
        try (Parallel p = new Parallel(2)) {
            long[] totals = new long[2];
            Thread[] callers = new Thread[2];
            for (int c = 0; c < 2; c++) {
                int id = c;
                callers[c] = new Thread(() -> {
                    for (int rep = 0; rep < 200; rep++) {
                        AtomicInteger inner = new AtomicInteger();
                        p.forRange(64, 8, (from, to) -> p.forRange(to - from, 1, (a, b) -> inner.addAndGet(b - a)));
                        totals[id] += inner.get();
                    }
                });
                callers[c].start();
            }
            for (Thread t : callers) t.join(30_000);
            for (Thread t : callers) assertFalse(t.isAlive(), "no deadlock");
            assertEquals(200 * 64, totals[0]);
            assertEquals(200 * 64, totals[1]);
        }
    }
}
