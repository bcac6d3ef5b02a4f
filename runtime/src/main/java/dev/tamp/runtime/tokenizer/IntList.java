package dev.tamp.runtime.tokenizer;

import java.util.Arrays;

/** Growable int array (token ids without boxing). */
final class IntList {
    private int[] a;
    private int size;

    IntList() { this(16); }

    IntList(int capacity) { a = new int[Math.max(4, capacity)]; }

    void add(int v) {
        if (size == a.length) a = Arrays.copyOf(a, a.length * 2);
        a[size++] = v;
    }

    void addAll(int[] vs) {
        for (int v : vs) add(v);
    }

    int get(int i) { return a[i]; }

    /** Drops everything from {@code newSize} on. */
    void truncate(int newSize) {
        if (newSize < 0 || newSize > size) throw new IndexOutOfBoundsException(newSize);
        size = newSize;
    }

    int size() { return size; }

    int[] toArray() { return Arrays.copyOf(a, size); }

    int[] toArray(int from, int to) { return Arrays.copyOfRange(a, from, to); }
}
