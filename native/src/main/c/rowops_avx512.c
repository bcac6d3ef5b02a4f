/*
 * The java backend's row operations in AVX-512 — softmax, layer normalisation, exact GELU and the activation ×
 * activation product of attention — computed with the operations of their Java Vector API reference (VectorMath,
 * VectorGemm.gemmNN at 16 lanes) in the same order: lane by lane the same adds, multiplies and FMAs, the same Cephes exp,
 * the same lane-sum orders and the same scalar tails, so the outputs are the Java kernels' to the bit (tested). Native
 * because the Java versions run interpreted and C1-compiled through the first calls of a process, where the Vector API
 * boxes every vector: MiniLM's first batch spent 1.4 s in these four ops against 60 ms warm.
 * Compiled with -mavx512f -mfma (and -ffp-contract=off by -std=c11: no contraction the Java code does not do).
 */
#include "tamp_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define E0 1.9875691500e-4f
#define E1 1.3981999507e-3f
#define E2 8.3334519073e-3f
#define E3 4.1665795894e-2f
#define E4 1.6666665459e-1f
#define E5 5.0000001201e-1f
#define EXP_MAX 88.72283f
#define EXP_MIN -103.97208f
#define ROUND 12582912.0f
#define ERF_P 0.3275911f
#define A1 0.254829592f
#define A2 -0.284496736f
#define A3 1.421413741f
#define A4 -1.453152027f
#define A5 1.061405429f

static inline __m512 set(float v) { return _mm512_set1_ps(v); }

/* The Vector API's neg: the sign bit flipped (0 − y would turn −0 into +0). */
static inline __m512 neg(__m512 v) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int) 0x80000000u))); }

/* VectorMath.exp: 2^n · exp(r), degree-6 polynomial, 2^n applied in two normal halves. */
static inline __m512 exp_v(__m512 x) {
    __m512 c = _mm512_min_ps(_mm512_max_ps(x, set(EXP_MIN)), set(EXP_MAX));
    __m512 shifted = _mm512_add_ps(_mm512_mul_ps(c, set(LOG2E)), set(ROUND));
    __m512 n = _mm512_sub_ps(shifted, set(ROUND));
    __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_castps_si512(set(ROUND)));
    __m512 r = _mm512_sub_ps(_mm512_sub_ps(c, _mm512_mul_ps(n, set(LN2_HI))), _mm512_mul_ps(n, set(LN2_LO)));
    __m512 p = _mm512_fmadd_ps(r, set(E0), set(E1));
    p = _mm512_fmadd_ps(p, r, set(E2));
    p = _mm512_fmadd_ps(p, r, set(E3));
    p = _mm512_fmadd_ps(p, r, set(E4));
    p = _mm512_fmadd_ps(p, r, set(E5));
    __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r), set(1));
    __m512i n1 = _mm512_srai_epi32(ni, 1), n2 = _mm512_sub_epi32(ni, n1), b = _mm512_set1_epi32(127);
    y = _mm512_mul_ps(y, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, b), 23)));
    y = _mm512_mul_ps(y, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, b), 23)));
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, set(EXP_MIN), _CMP_LT_OQ), y, _mm512_setzero_ps());
    y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, set(EXP_MAX), _CMP_GT_OQ), y, set(INFINITY));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, x);
}

/* VectorMath's vector erf (Abramowitz & Stegun 7.1.26). */
static inline __m512 erf_v(__m512 x) {
    __m512 ax = _mm512_abs_ps(x);
    __m512 t = _mm512_div_ps(set(1), _mm512_add_ps(_mm512_mul_ps(ax, set(ERF_P)), set(1)));
    __m512 poly = _mm512_mul_ps(_mm512_add_ps(_mm512_mul_ps(t, set(A5)), set(A4)), t);
    poly = _mm512_mul_ps(_mm512_add_ps(poly, set(A3)), t);
    poly = _mm512_mul_ps(_mm512_add_ps(poly, set(A2)), t);
    poly = _mm512_mul_ps(_mm512_add_ps(poly, set(A1)), t);
    __m512 e = exp_v(neg(_mm512_mul_ps(ax, ax)));
    __m512 y = _mm512_add_ps(neg(_mm512_mul_ps(poly, e)), set(1));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), y, neg(y));
}

/* VectorMath.erf(float): the scalar tail, with Java's double exp. */
static inline float erf_s(float x) {
    float ax = fabsf(x);
    float t = 1.0f / (1.0f + ERF_P * ax);
    float y = 1.0f - (((((A5 * t + A4) * t) + A3) * t + A2) * t + A1) * t * (float) exp((double) (-ax * ax));
    return x < 0 ? -y : y;
}

void tamp_gelu_avx512(const float *in, float *out, int len) {
    const float inv_sqrt2 = 0.70710677f;
    int i = 0, bound = len / 16 * 16;
    for (; i < bound; i += 16) {
        __m512 x = _mm512_loadu_ps(in + i);
        __m512 g = _mm512_mul_ps(_mm512_mul_ps(_mm512_add_ps(erf_v(_mm512_mul_ps(x, set(inv_sqrt2))), set(1)), x), set(0.5f));
        _mm512_storeu_ps(out + i, g);
    }
    for (; i < len; i++) out[i] = 0.5f * in[i] * (1.0f + erf_s(in[i] * inv_sqrt2));
}

/* VectorMath.sum: the 16 lanes halved pairwise. */
static inline float lanes_pairwise(__m512 v) {
    float t[16];
    _mm512_storeu_ps(t, v);
    for (int half = 8; half >= 1; half >>= 1)
        for (int l = 0; l < half; l++) t[l] += t[l + half];
    return t[0];
}

/* VectorMath's lanesSum: the lanes in order, in double. */
static inline double lanes_double(__m512 v) {
    float t[16];
    _mm512_storeu_ps(t, v);
    double s = 0;
    for (int l = 0; l < 16; l++) s += t[l];
    return s;
}

void tamp_softmax_rows_avx512(float *x, int n, int rows) {
    int bound = n / 16 * 16;
    for (int r = 0; r < rows; r++) {
        float *o = x + (size_t) r * n;
        float max = -INFINITY;
        int i = 0;
        if (bound > 0) {
            __m512 m = set(-INFINITY);
            for (; i < bound; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(o + i));
            max = _mm512_reduce_max_ps(m);
        }
        for (; i < n; i++) max = fmaxf(max, o[i]);
        if (max == -INFINITY) max = 0;
        __m512 acc = _mm512_setzero_ps(), mv = set(max);
        for (i = 0; i < bound; i += 16) {
            __m512 e = exp_v(_mm512_sub_ps(_mm512_loadu_ps(o + i), mv));
            _mm512_storeu_ps(o + i, e);
            acc = _mm512_add_ps(acc, e);
        }
        float sum = lanes_pairwise(acc);
        for (; i < n; i++) {
            float e = (float) exp((double) (o[i] - max));
            o[i] = e;
            sum += e;
        }
        float inv = sum == 0 ? 0 : 1.0f / sum;
        __m512 iv = set(inv);
        for (i = 0; i < bound; i += 16) _mm512_storeu_ps(o + i, _mm512_mul_ps(_mm512_loadu_ps(o + i), iv));
        for (; i < n; i++) o[i] *= inv;
    }
}

void tamp_layer_norm_rows_avx512(const float *x, const float *scale, const float *bias, float *out, int d, float eps, int rows,
                                 float *means, float *inv_stds) {
    int bound = d / 16 * 16;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t) r * d;
        float *orow = out + (size_t) r * d;
        __m512 acc = _mm512_setzero_ps();
        int i = 0;
        for (; i < bound; i += 16) acc = _mm512_add_ps(acc, _mm512_loadu_ps(xr + i));
        double sum = lanes_double(acc);
        for (; i < d; i++) sum += xr[i];
        float mean = (float) (sum / d);
        __m512 mv = set(mean);
        acc = _mm512_setzero_ps();
        for (i = 0; i < bound; i += 16) {
            __m512 t = _mm512_sub_ps(_mm512_loadu_ps(xr + i), mv);
            acc = _mm512_fmadd_ps(t, t, acc);
        }
        double sq = lanes_double(acc);
        for (; i < d; i++) {
            float t = xr[i] - mean;
            sq += t * t;
        }
        float inv = (float) (1.0 / sqrt(sq / d + (double) eps));
        means[r] = mean;
        inv_stds[r] = inv;
        __m512 iv = set(inv);
        for (i = 0; i < bound; i += 16) {
            __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xr + i), mv), iv), _mm512_loadu_ps(scale + i));
            if (bias) y = _mm512_add_ps(y, _mm512_loadu_ps(bias + i));
            _mm512_storeu_ps(orow + i, y);
        }
        for (; i < d; i++) {
            float y = (xr[i] - mean) * inv * scale[i];
            orow[i] = bias ? y + bias[i] : y;
        }
    }
}

/*
 * out[m][n] = a[m][k] · b[k][n], row-major: every output an FMA chain over p from 0, as VectorGemm.gemmNN's lanes and
 * its scalar tail compute it. 4 rows × 32 columns in registers, then 16, then a masked 16 for the ragged columns.
 */
void tamp_gemm_nn_avx512(const float *a, const float *b, float *out, int m, int n, int k) {
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        const float *a0 = a + (size_t) i * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
        float *o = out + (size_t) i * n;
        int j = 0;
        for (; j + 32 <= n; j += 32) {
            __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            for (int p = 0; p < k; p++) {
                const float *row = b + (size_t) p * n + j;
                __m512 b0 = _mm512_loadu_ps(row), b1 = _mm512_loadu_ps(row + 16), x;
                x = set(a0[p]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
                x = set(a1[p]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
                x = set(a2[p]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
                x = set(a3[p]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
            }
            _mm512_storeu_ps(o + j, c00); _mm512_storeu_ps(o + j + 16, c01);
            _mm512_storeu_ps(o + n + j, c10); _mm512_storeu_ps(o + n + j + 16, c11);
            _mm512_storeu_ps(o + 2 * n + j, c20); _mm512_storeu_ps(o + 2 * n + j + 16, c21);
            _mm512_storeu_ps(o + 3 * n + j, c30); _mm512_storeu_ps(o + 3 * n + j + 16, c31);
        }
        for (; j < n; j += 16) {
            __mmask16 mk = n - j >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - j)) - 1);
            __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
            for (int p = 0; p < k; p++) {
                __m512 bv = _mm512_maskz_loadu_ps(mk, b + (size_t) p * n + j);
                c0 = _mm512_fmadd_ps(set(a0[p]), bv, c0);
                c1 = _mm512_fmadd_ps(set(a1[p]), bv, c1);
                c2 = _mm512_fmadd_ps(set(a2[p]), bv, c2);
                c3 = _mm512_fmadd_ps(set(a3[p]), bv, c3);
            }
            _mm512_mask_storeu_ps(o + j, mk, c0);
            _mm512_mask_storeu_ps(o + n + j, mk, c1);
            _mm512_mask_storeu_ps(o + 2 * n + j, mk, c2);
            _mm512_mask_storeu_ps(o + 3 * n + j, mk, c3);
        }
    }
    for (; i < m; i++) {
        const float *ar = a + (size_t) i * k;
        for (int j = 0; j < n; j += 16) {
            __mmask16 mk = n - j >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - j)) - 1);
            __m512 c = _mm512_setzero_ps();
            for (int p = 0; p < k; p++) c = _mm512_fmadd_ps(set(ar[p]), _mm512_maskz_loadu_ps(mk, b + (size_t) p * n + j), c);
            _mm512_mask_storeu_ps(out + (size_t) i * n + j, mk, c);
        }
    }
}

#else
void tamp_gelu_avx512(const float *in, float *out, int len) { (void) in; (void) out; (void) len; }
void tamp_softmax_rows_avx512(float *x, int n, int rows) { (void) x; (void) n; (void) rows; }
void tamp_layer_norm_rows_avx512(const float *x, const float *scale, const float *bias, float *out, int d, float eps, int rows,
                                 float *means, float *inv_stds) {
    (void) x; (void) scale; (void) bias; (void) out; (void) d; (void) eps; (void) rows; (void) means; (void) inv_stds;
}
void tamp_gemm_nn_avx512(const float *a, const float *b, float *out, int m, int n, int k) {
    (void) a; (void) b; (void) out; (void) m; (void) n; (void) k;
}
#endif
