/*
 * AVX2 + FMA kernels: the AVX-512 kernels' arithmetic in two 32-byte halves. Nibbles (or their MX table entries, at most
 * 127) times int8 activations go through VPMADDUBSW (2·127·127 fits int16) and VPMADDWD by ones, giving the same 4-byte lane sums as VPDPBUSD; 8-bit codes (up
 * to 255, which would saturate VPMADDUBSW) are widened to int16 first. Group windows hold 8 floats here, so plans for
 * this variant need every chunk within 8 groups (checked when the plan is made).
 * Compiled with -mavx2 -mfma; only called where the CPU reports them.
 */
#include "tamp_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

/* 32 code bytes at w + off, zero past the row's end. */
static inline __m256i load_half(const tamp_plan *p, const uint8_t *w, int off) {
    int rest = p->row_bytes - off;
    if (rest >= 32) return _mm256_loadu_si256((const __m256i *) (w + off));
    uint8_t buf[32] = {0};
    if (rest > 0) memcpy(buf, w + off, (size_t) rest);
    return _mm256_loadu_si256((const __m256i *) buf);
}

/* The 4-bit codes of 32 code bytes' low or high nibbles: the nibbles, or their table entries for mapped (MX) plans. */
static inline __m256i nibbles(const tamp_plan *p, __m256i wv, int hi) {
    __m256i v = _mm256_and_si256(hi ? _mm256_srli_epi16(wv, 4) : wv, _mm256_set1_epi8(0x0F));
    return p->mapped ? _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *) p->lut)), v) : v;
}

static inline __m128i nibbles128(const tamp_plan *p, __m128i wv, int hi) {
    __m128i v = _mm_and_si128(hi ? _mm_srli_epi16(wv, 4) : wv, _mm_set1_epi8(0x0F));
    return p->mapped ? _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) p->lut), v) : v;
}

/* 8 int32 lane sums of 4 products each: unsigned codes (≤ 127) times int8 activations. */
static inline __m256i lanes_nibbles(__m256i q, __m256i x) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), _mm256_set1_epi16(1));
}

/* The same for unsigned 8-bit codes, widened to int16 so 255·127 does not saturate. */
static inline __m256i lanes_bytes(__m256i q, __m256i x) {
    __m256i a = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(q)), _mm256_cvtepi8_epi16(_mm256_castsi256_si128(x)));
    __m256i b = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(q, 1)), _mm256_cvtepi8_epi16(_mm256_extracti128_si256(x, 1)));
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xD8);
}

static inline __m256 lane_term(__m256i d, const float *zsum, const float *ascale, __m256i idx, __m256 zw, __m256 sw, __m256 acc) {
    __m256 f = _mm256_fnmadd_ps(_mm256_permutevar8x32_ps(zw, idx), _mm256_loadu_ps(zsum), _mm256_cvtepi32_ps(d));
    return _mm256_fmadd_ps(_mm256_mul_ps(f, _mm256_loadu_ps(ascale)), _mm256_permutevar8x32_ps(sw, idx), acc);
}

void tamp_gemv_int_avx2(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    const __m256i flip = _mm256_set1_epi8(p->flip ? (char) 0x80 : 0);
    for (int r = r0; r < r1; r++) {
        const uint8_t *w, *z;
        const float *s;
        tamp_weight_row(p, r, &w, &s, &z);
        for (int m = 0; m < rows; m++) {
            tamp_act_row a = tamp_act_int_row(p, act, m);
            __m256 acc = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps();
            for (int c = 0; c < p->chunks; c++) {
                int gb = p->gbase[c];
                __m256 sw = _mm256_loadu_ps(s + gb), zw = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) (z + gb))));
                _mm_prefetch((const char *) (w + c * 64 + 2048), _MM_HINT_T0); /* see kernels_avx512.c's PREFETCH */
                for (int h = 0; h < 2; h++) {
                    int off = c * 64 + h * 32, lane = c * 16 + h * 8;
                    __m256i wv = load_half(p, w, off);
                    __m256i il = _mm256_loadu_si256((const __m256i *) (p->idx_lo + lane));
                    __m256i xl = _mm256_loadu_si256((const __m256i *) (a.q_lo + off));
                    __m256i dlo = p->bits == 4 ? lanes_nibbles(nibbles(p, wv, 0), xl) : lanes_bytes(_mm256_xor_si256(wv, flip), xl);
                    acc = lane_term(dlo, a.s_lo + lane, a.a_lo + lane, il, zw, sw, acc);
                    if (p->bits == 4) {
                        __m256i ih = _mm256_loadu_si256((const __m256i *) (p->idx_hi + lane));
                        __m256i xh = _mm256_loadu_si256((const __m256i *) (a.q_hi + off));
                        __m256i dhi = lanes_nibbles(nibbles(p, wv, 1), xh);
                        acc2 = lane_term(dhi, a.s_hi + lane, a.a_hi + lane, ih, zw, sw, acc2);
                    }
                }
            }
            __m256 t = _mm256_add_ps(acc, acc2);
            __m128 v = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
            v = _mm_add_ps(v, _mm_movehl_ps(v, v));
            v = _mm_add_ss(v, _mm_movehdup_ps(v));
            out[(size_t) m * p->n + r] = _mm_cvtss_f32(v);
        }
    }
}

/* 8 codes (bytes of q from `at`) as (q − z)·s, times 8 activations, into acc. */
static inline __m256 eighth(__m128i q, float z, float s, const float *x, __m256 acc) {
    __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(q));
    return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_sub_ps(v, _mm256_set1_ps(z)), _mm256_set1_ps(s)), _mm256_loadu_ps(x), acc);
}

void tamp_gemv_float_avx2(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1) {
    const __m128i flip = _mm_set1_epi8(p->flip ? (char) 0x80 : 0);
    int pb = p->chunks * 64;
    for (int r = r0; r < r1; r++) {
        const uint8_t *w, *z;
        const float *s;
        tamp_weight_row(p, r, &w, &s, &z);
        for (int m = 0; m < rows; m++) {
            const float *xl = act + (size_t) m * tamp_act_float_len(p), *xh = xl + pb;
            __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
            for (int c = 0; c < p->chunks; c++) {
                _mm_prefetch((const char *) (w + c * 64 + 2048), _MM_HINT_T0);
                for (int h = 0; h < 2; h++) {
                    __m256i wv = load_half(p, w, c * 64 + h * 32);
                    for (int j = 0; j < 2; j++) {
                        __m128i qj = j == 0 ? _mm256_castsi256_si128(wv) : _mm256_extracti128_si256(wv, 1);
                        int b = c * 64 + h * 32 + j * 16, lane = b / 4;
                        int gl = p->gbase[c] + p->idx_lo[lane];
                        if (p->bits == 8) {
                            qj = _mm_xor_si128(qj, flip);
                            acc0 = eighth(qj, z[gl], s[gl], xl + b, acc0);
                            acc1 = eighth(_mm_srli_si128(qj, 8), z[gl], s[gl], xl + b + 8, acc1);
                        } else {
                            int gh = p->gbase[c] + p->idx_hi[lane];
                            __m128i lo = nibbles128(p, qj, 0), hi = nibbles128(p, qj, 1);
                            acc0 = eighth(lo, z[gl], s[gl], xl + b, acc0);
                            acc1 = eighth(_mm_srli_si128(lo, 8), z[gl], s[gl], xl + b + 8, acc1);
                            acc0 = eighth(hi, z[gh], s[gh], xh + b, acc0);
                            acc1 = eighth(_mm_srli_si128(hi, 8), z[gh], s[gh], xh + b + 8, acc1);
                        }
                    }
                }
            }
            __m256 t = _mm256_add_ps(acc0, acc1);
            __m128 v = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
            v = _mm_add_ps(v, _mm_movehl_ps(v, v));
            v = _mm_add_ss(v, _mm_movehdup_ps(v));
            out[(size_t) m * p->n + r] = _mm_cvtss_f32(v);
        }
    }
}

/* BF16 rows widened by a shift (exact) into two FMA chains of 8 lanes; the K tail past the last 16 runs scalar. */
void tamp_gemv_bf16_avx2(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1) {
    int full = k / 16 * 16;
    for (int r = r0; r < r1; r++) {
        const uint16_t *wr = w + (size_t) r * k;
        for (int m = 0; m < rows; m++) {
            const float *xm = x + (size_t) m * k;
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            for (int j = 0; j < full; j += 16) {
                __m256 w0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *) (wr + j))), 16));
                __m256 w1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *) (wr + j + 8))), 16));
                a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xm + j), a0);
                a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xm + j + 8), a1);
            }
            __m256 t = _mm256_add_ps(a0, a1);
            __m128 v = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
            v = _mm_add_ps(v, _mm_movehl_ps(v, v));
            v = _mm_add_ss(v, _mm_movehdup_ps(v));
            out[(size_t) m * n + r] = tamp_bf16_dot(wr, xm, full, k, _mm_cvtss_f32(v));
        }
    }
}

#else
void tamp_gemv_bf16_avx2(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1) {
    tamp_gemv_bf16_scalar(w, n, k, x, rows, out, r0, r1);
}
void tamp_gemv_int_avx2(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    tamp_gemv_int_scalar(p, act, rows, out, r0, r1);
}
void tamp_gemv_float_avx2(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1) {
    tamp_gemv_float_scalar(p, act, rows, out, r0, r1);
}
#endif
