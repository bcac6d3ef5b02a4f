package dev.tamp.runtime.decode;

import java.util.Arrays;

/**
 * The keys and values every layer has computed so far, so a new token attends to the past without
 * recomputing it: per layer, position-major F32 rows of kv-heads × head-dim (a GQA model stores only its kv
 * heads, not the query heads they serve). Sized to the context actually used — what the caller reserves,
 * doubled when a sequence outgrows it — rather than to the model's maximum context.
 */
final class KvCache {
    private final int width;
    private final float[][] keys;
    private final float[][] values;
    private int capacity;

    KvCache(int layers, int width, int capacity) {
        this.width = width;
        this.capacity = Math.max(1, capacity);
        this.keys = new float[layers][Math.multiplyExact(this.capacity, width)];
        this.values = new float[layers][keys[0].length];
    }

    /** Makes room for positions [0, positions), doubling so a growing sequence copies O(log n) times. */
    void ensure(int positions) {
        if (positions > capacity) resize((int) Math.max(positions, Math.min(Integer.MAX_VALUE, 2L * capacity)));
    }

    /** Makes room for exactly {@code positions} when the caller knows the sequence length up front. */
    void reserve(int positions) {
        if (positions > capacity) resize(positions);
    }

    private void resize(int positions) {
        if ((long) positions * width > Integer.MAX_VALUE) {
            throw new IllegalStateException("KV cache of " + positions + " positions × " + width + " floats exceeds a Java array");
        }
        for (int l = 0; l < keys.length; l++) {
            keys[l] = Arrays.copyOf(keys[l], positions * width);
            values[l] = Arrays.copyOf(values[l], positions * width);
        }
        capacity = positions;
    }

    int capacity() {
        return capacity;
    }

    /** Layer l's keys: row p (position p) starts at p · width. */
    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** Copies {@code rows} rows for positions from {@code position} on, from src (rows × width). */
    void put(int layer, int position, int rows, float[] k, float[] v) {
        System.arraycopy(k, 0, keys[layer], position * width, rows * width);
        System.arraycopy(v, 0, values[layer], position * width, rows * width);
    }
}
