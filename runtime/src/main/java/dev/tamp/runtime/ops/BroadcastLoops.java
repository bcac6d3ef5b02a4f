package dev.tamp.runtime.ops;

/**
 * Broadcasting float arithmetic without per-element indirection: dimensions are walked as an outer index
 * over all but the last output axis and a contiguous inner run over the last, where each operand advances by
 * 1 or 0 (broadcast). Each op kind has its own loop so the JIT sees one operation and vectorises it.
 */
final class BroadcastLoops {
    enum Kind { ADD, SUB, MUL, DIV }

    private BroadcastLoops() {}

    static float[] apply(Kind kind, float[] x, int[] xs, float[] y, int[] ys, int[] out, dev.tamp.runtime.kernels.Parallel par) {
        int size = Shapes.size(out);
        float[] o = new float[size];
        if (size == 0) return o;
        int r = out.length;
        int[] sx = strides(xs, out), sy = strides(ys, out);
        int inner = r == 0 ? 1 : out[r - 1];
        int ix = r == 0 ? 0 : sx[r - 1], iy = r == 0 ? 0 : sy[r - 1];
        int runs = size / inner;
        // Big tensors: split the runs across threads (each thread positions its own counters).
        par.forRange(runs, Math.max(1, (1 << 16) / Math.max(1, inner)), (from, to) -> runs(kind, x, sx, ix, y, sy, iy, o, out, inner, from, to));
        return o;
    }

    private static void runs(Kind kind, float[] x, int[] sx, int ix, float[] y, int[] sy, int iy, float[] o, int[] out,
                             int inner, int from, int to) {
        int r = out.length;
        int[] counter = new int[Math.max(0, r - 1)];
        int px = 0, py = 0;
        int rest = from;
        for (int d = r - 2; d >= 0; d--) {
            counter[d] = rest % out[d];
            rest /= out[d];
            px += counter[d] * sx[d];
            py += counter[d] * sy[d];
        }
        for (int base = from * inner; base < to * inner; base += inner) {
            run(kind, x, px, ix, y, py, iy, o, base, inner);
            for (int d = r - 2; d >= 0; d--) {
                counter[d]++;
                px += sx[d];
                py += sy[d];
                if (counter[d] < out[d]) break;
                px -= sx[d] * counter[d];
                py -= sy[d] * counter[d];
                counter[d] = 0;
            }
        }
    }

    /** Strides of an operand broadcast to {@code out}: 0 along broadcast axes. */
    private static int[] strides(int[] shape, int[] out) {
        int r = out.length;
        int[] s = Shapes.strides(shape);
        int[] o = new int[r];
        for (int i = 0; i < r; i++) {
            int j = i - (r - shape.length);
            o[i] = j < 0 || shape[j] == 1 ? 0 : s[j];
        }
        return o;
    }

    private static void run(Kind kind, float[] x, int px, int ix, float[] y, int py, int iy, float[] o, int base, int n) {
        switch (kind) {
            case ADD -> {
                if (ix == 1 && iy == 1) for (int j = 0; j < n; j++) o[base + j] = x[px + j] + y[py + j];
                else if (ix == 1 && iy == 0) { float v = y[py]; for (int j = 0; j < n; j++) o[base + j] = x[px + j] + v; }
                else if (ix == 0 && iy == 1) { float v = x[px]; for (int j = 0; j < n; j++) o[base + j] = v + y[py + j]; }
                else for (int j = 0; j < n; j++) o[base + j] = x[px + j * ix] + y[py + j * iy];
            }
            case SUB -> {
                if (ix == 1 && iy == 1) for (int j = 0; j < n; j++) o[base + j] = x[px + j] - y[py + j];
                else if (ix == 1 && iy == 0) { float v = y[py]; for (int j = 0; j < n; j++) o[base + j] = x[px + j] - v; }
                else for (int j = 0; j < n; j++) o[base + j] = x[px + j * ix] - y[py + j * iy];
            }
            case MUL -> {
                if (ix == 1 && iy == 1) for (int j = 0; j < n; j++) o[base + j] = x[px + j] * y[py + j];
                else if (ix == 1 && iy == 0) { float v = y[py]; for (int j = 0; j < n; j++) o[base + j] = x[px + j] * v; }
                else for (int j = 0; j < n; j++) o[base + j] = x[px + j * ix] * y[py + j * iy];
            }
            case DIV -> {
                if (ix == 1 && iy == 1) for (int j = 0; j < n; j++) o[base + j] = x[px + j] / y[py + j];
                else if (ix == 1 && iy == 0) { float v = y[py]; for (int j = 0; j < n; j++) o[base + j] = x[px + j] / v; }
                else for (int j = 0; j < n; j++) o[base + j] = x[px + j * ix] / y[py + j * iy];
            }
        }
    }
}
