package dev.tamp.runtime.ops;

import java.util.Arrays;

/** Shape arithmetic: sizes, strides, numpy broadcasting, axis normalisation. */
public final class Shapes {
    private Shapes() {}

    public static int size(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large: " + Arrays.toString(shape));
        return (int) n;
    }

    public static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** The broadcast shape of a and b, or null when they do not broadcast. */
    public static int[] broadcast(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) return null;
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /**
     * For each output element (row-major over {@code out}), the flat index into a tensor of shape {@code in}
     * broadcast to {@code out}.
     */
    public static int[] broadcastIndex(int[] in, int[] out) {
        int n = size(out);
        int[] idx = new int[n];
        int r = out.length;
        int[] inStrides = new int[r];
        int[] s = strides(in);
        for (int i = 0; i < r; i++) {
            int j = i - (r - in.length);
            inStrides[i] = j < 0 || in[j] == 1 ? 0 : s[j];
        }
        int[] counter = new int[r];
        int pos = 0;
        for (int k = 0; k < n; k++) {
            idx[k] = pos;
            for (int d = r - 1; d >= 0; d--) {
                counter[d]++;
                pos += inStrides[d];
                if (counter[d] < out[d]) break;
                pos -= inStrides[d] * counter[d];
                counter[d] = 0;
            }
        }
        return idx;
    }

    public static int axis(int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new IllegalArgumentException("axis " + axis + " out of range for rank " + rank);
        return a;
    }
}
