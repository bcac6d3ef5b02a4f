package dev.tamp.runtime.tokenizer;

import java.util.Arrays;

/** Open-addressing map from a pair of token ids to a merge rank, without boxing (the BPE inner loop). */
final class PairRanks {
    private long[] keys;
    private int[] values;
    private int size;

    PairRanks(int expected) {
        int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
        keys = new long[cap];
        values = new int[cap];
        Arrays.fill(keys, -1L);
    }

    private static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    private static int slot(long k, int mask) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & mask;
    }

    /** Sets the rank of a pair, replacing an earlier one. */
    void put(int left, int right, int rank) {
        if ((size + 1) * 2 > keys.length) grow();
        long k = key(left, right);
        int mask = keys.length - 1;
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            if (keys[i] == -1L) {
                keys[i] = k;
                values[i] = rank;
                size++;
                return;
            }
            if (keys[i] == k) {
                values[i] = rank;
                return;
            }
        }
    }

    /** The rank of a pair, or -1. */
    int get(int left, int right) {
        long k = key(left, right);
        int mask = keys.length - 1;
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            if (keys[i] == k) return values[i];
            if (keys[i] == -1L) return -1;
        }
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new int[oldKeys.length * 2];
        Arrays.fill(keys, -1L);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != -1L) put((int) (oldKeys[i] >>> 32), (int) oldKeys[i], oldValues[i]);
        }
    }
}
