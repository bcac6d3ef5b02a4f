package dev.tamp.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vectorised transcendental loops used by activations and softmax, and a lane sum. Everything here is built
 * from add/mul/fma and bit operations in a fixed order, because the Vector API's {@code reduceLanes(ADD)} has
 * an unspecified association and its {@code EXP} is SVML in C2-compiled code but {@code Math.exp} per lane
 * in the interpreter: both made results depend on JIT timing, so identical runs wrote different bytes.
 */
public final class VectorMath {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    // Abramowitz & Stegun 7.1.26: |erf error| ≤ 1.5e-7.
    private static final float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f,
            A4 = -1.453152027f, A5 = 1.061405429f;

    // Cephes expf: exp(x) = 2^n · exp(r), r = x − n·ln2 (ln2 split in two for exactness), degree-6 polynomial.
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f,
            E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;
    private static final float EXP_MAX = 88.72283f, EXP_MIN = -103.97208f; // beyond: +∞ and 0
    private static final float ROUND = 12582912f; // 1.5·2^23: adding and subtracting it rounds to nearest integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);

    /**
     * The native row operations (NativeKernels.rowOps: AVX-512) compute softmax, layer norm and GELU with these
     * methods' operations in the same order at 16 lanes, so they stand in for them to the bit; they run from a process's
     * first call, where these run interpreted (VectorMathNativeTest compares them).
     */
    private static final boolean NATIVE = dev.tamp.nativekernels.NativeKernels.rowOps() && S.length() == 16;

    private VectorMath() {}

    /** Sum of the lanes in a fixed pairwise order (deterministic, unlike reduceLanes(ADD)). */
    public static float sum(FloatVector v) {
        int n = v.length();
        if (n == 1) return v.lane(0);
        float[] t = new float[n];
        v.intoArray(t, 0);
        for (int half = n >> 1; half >= 1; half >>= 1) for (int l = 0; l < half; l++) t[l] += t[l + half];
        return t[0];
    }

    /** e^x per lane, relative error about 2 ulp; 0 below the float range, +∞ above it, NaN stays NaN. */
    public static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(EXP_MIN).min(EXP_MAX);
        // n = round(c·log2 e): adding 1.5·2^23 leaves n in the low mantissa bits, so the integer comes from the bits
        // (an F2I convert is not intrinsified by JDK 17's C2 on AVX2 and made exp 30× slower)
        FloatVector shifted = c.mul(LOG2E).add(ROUND);
        FloatVector n = shifted.sub(ROUND);
        IntVector ni = shifted.reinterpretAsInts().sub(ROUND_BITS);
        FloatVector r = c.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));
        FloatVector p = r.fma(E0, E1);
        p = p.fma(r, FloatVector.broadcast(S, E2));
        p = p.fma(r, FloatVector.broadcast(S, E3));
        p = p.fma(r, FloatVector.broadcast(S, E4));
        p = p.fma(r, FloatVector.broadcast(S, E5));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        // 2^n applied as 2^(n>>1)·2^(n−(n>>1)) so both factors are normal floats for every n in [−150, 128]
        IntVector n1 = ni.lanewise(VectorOperators.ASHR, 1), n2 = ni.sub(n1);
        y = y.mul(n1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(n2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        y = y.blend(0f, x.compare(VectorOperators.LT, EXP_MIN));
        y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_MAX));
        return y.blend(x, x.test(VectorOperators.IS_NAN));
    }

    public static float erf(float x) {
        float ax = Math.abs(x);
        float t = 1f / (1f + P * ax);
        float y = 1f - (((((A5 * t + A4) * t) + A3) * t + A2) * t + A1) * t * (float) Math.exp(-ax * ax);
        return x < 0 ? -y : y;
    }

    /** out[i] = erf(in[i]) for i in [from, to). */
    public static void erf(float[] in, float[] out, int from, int to) {
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += S.length()) erf(FloatVector.fromArray(S, in, i)).intoArray(out, i);
        for (; i < to; i++) out[i] = erf(in[i]);
    }

    private static FloatVector erf(FloatVector x) {
        FloatVector ax = x.abs();
        FloatVector t = ax.mul(P).add(1f);
        t = FloatVector.broadcast(S, 1f).div(t);
        FloatVector poly = t.mul(A5).add(A4).mul(t).add(A3).mul(t).add(A2).mul(t).add(A1).mul(t);
        FloatVector e = exp(ax.mul(ax).neg());
        FloatVector y = poly.mul(e).neg().add(1f);
        return y.blend(y.neg(), x.compare(VectorOperators.LT, 0f));
    }

    /** out[i] = 0.5·x·(1 + erf(x/√2)) for i in [from, to): exact GELU, one pass. */
    public static void gelu(float[] in, float[] out, int from, int to) {
        if (NATIVE) {
            dev.tamp.nativekernels.NativeKernels.gelu(in, out, from, to);
            return;
        }
        geluJava(in, out, from, to);
    }

    static void geluJava(float[] in, float[] out, int from, int to) {
        final float invSqrt2 = (float) (1 / Math.sqrt(2));
        int i = from;
        int bound = from + S.loopBound(to - from);
        for (; i < bound; i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, in, i);
            erf(x.mul(invSqrt2)).add(1f).mul(x).mul(0.5f).intoArray(out, i);
        }
        for (; i < to; i++) out[i] = 0.5f * in[i] * (1f + erf(in[i] * invSqrt2));
    }

    /** Softmax of each contiguous row of length n in [rowFrom, rowTo), in place. */
    public static void softmaxRows(float[] x, int n, int rowFrom, int rowTo) {
        if (NATIVE) {
            dev.tamp.nativekernels.NativeKernels.softmaxRows(x, n, rowFrom, rowTo);
            return;
        }
        softmaxRowsJava(x, n, rowFrom, rowTo);
    }

    static void softmaxRowsJava(float[] x, int n, int rowFrom, int rowTo) {
        for (int r = rowFrom; r < rowTo; r++) {
            int o = r * n;
            float max = Float.NEGATIVE_INFINITY;
            int i = 0, bound = S.loopBound(n);
            if (bound > 0) {
                FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                for (; i < bound; i += S.length()) m = m.max(FloatVector.fromArray(S, x, o + i));
                max = m.reduceLanes(VectorOperators.MAX);
            }
            for (; i < n; i++) max = Math.max(max, x[o + i]);
            if (max == Float.NEGATIVE_INFINITY) max = 0; // all masked: exp(−inf) = 0 everywhere, handled below
            float sum = 0;
            i = 0;
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += S.length()) {
                FloatVector e = exp(FloatVector.fromArray(S, x, o + i).sub(max));
                e.intoArray(x, o + i);
                acc = acc.add(e);
            }
            sum = sum(acc);
            for (; i < n; i++) {
                float e = (float) Math.exp(x[o + i] - max);
                x[o + i] = e;
                sum += e;
            }
            float inv = sum == 0 ? 0 : 1f / sum;
            i = 0;
            for (; i < bound; i += S.length()) FloatVector.fromArray(S, x, o + i).mul(inv).intoArray(x, o + i);
            for (; i < n; i++) x[o + i] *= inv;
        }
    }

    /**
     * Layer normalisation of each contiguous row of length d in [rowFrom, rowTo): out = (x − mean)·invStd·scale
     * + bias (bias may be null), invStd = 1/√(var + eps), variance about the mean (two passes, as ONNX defines
     * it; the one-pass E[x²] − mean² form cancels badly when |mean| ≫ std). Lanes accumulate in float, the lane
     * sums are combined in double. Writes each row's mean and invStd.
     */
    public static void layerNormRows(float[] x, float[] scale, float[] bias, float[] out, int d, float eps,
                                     int rowFrom, int rowTo, float[] means, float[] invStds) {
        if (NATIVE) {
            dev.tamp.nativekernels.NativeKernels.layerNormRows(x, scale, bias, out, d, eps, rowFrom, rowTo, means, invStds);
            return;
        }
        layerNormRowsJava(x, scale, bias, out, d, eps, rowFrom, rowTo, means, invStds);
    }

    static void layerNormRowsJava(float[] x, float[] scale, float[] bias, float[] out, int d, float eps,
                                  int rowFrom, int rowTo, float[] means, float[] invStds) {
        int bound = S.loopBound(d);
        for (int r = rowFrom; r < rowTo; r++) {
            int o = r * d;
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            for (; i < bound; i += S.length()) acc = acc.add(FloatVector.fromArray(S, x, o + i));
            double sum = lanesSum(acc);
            for (; i < d; i++) sum += x[o + i];
            float mean = (float) (sum / d);
            acc = FloatVector.zero(S);
            i = 0;
            for (; i < bound; i += S.length()) {
                FloatVector t = FloatVector.fromArray(S, x, o + i).sub(mean);
                acc = t.fma(t, acc);
            }
            double sq = lanesSum(acc);
            for (; i < d; i++) {
                float t = x[o + i] - mean;
                sq += t * t;
            }
            float inv = (float) (1.0 / Math.sqrt(sq / d + eps));
            means[r] = mean;
            invStds[r] = inv;
            i = 0;
            for (; i < bound; i += S.length()) {
                FloatVector y = FloatVector.fromArray(S, x, o + i).sub(mean).mul(inv).mul(FloatVector.fromArray(S, scale, i));
                if (bias != null) y = y.add(FloatVector.fromArray(S, bias, i));
                y.intoArray(out, o + i);
            }
            for (; i < d; i++) {
                float y = (x[o + i] - mean) * inv * scale[i];
                out[o + i] = bias == null ? y : y + bias[i];
            }
        }
    }

    private static double lanesSum(FloatVector v) {
        double s = 0;
        for (int l = 0; l < S.length(); l++) s += v.lane(l);
        return s;
    }
}
