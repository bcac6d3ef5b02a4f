/*
 * AVX-512 (F, BW, VNNI) kernels. Int8 path: one 64-byte code load gives 64 low and 64 high nibbles (AND 0x0F, SHR 4);
 * VPDPBUSD multiplies them (unsigned) with the int8 activations laid out in the same order and sums each 4-byte lane
 * into an int32; per lane the zero point comes off as z·Σq (exact in float) and the lane is scaled by its activation
 * block's d and its group's s, taken from a 16-float window of the row's scales with VPERMPS.
 * Float path: each 16-byte quarter widened to 16 int32 codes, (q − z)·s as the Java decoder, FMA with the activations.
 * Compiled with -mavx512f -mavx512bw -mavx512vnni; only called where the CPU reports them.
 */
#include "tamp_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

/*
 * Bytes ahead of the code loads to prefetch (the uniform kernel prefetches its next block of rows instead): the kernels
 * do enough work per cache line that the hardware prefetcher
 * alone keeps too few lines in flight (8 MB GEMV: 11 GB/s from DRAM against 28 GB/s from L2; a plain read runs 40).
 */
#define PREFETCH 2048
/*
 * Prefetches go to L2 (T1), not L1: measured on a 1.1B-shape W4 decode (726 MB of codes and scales a token, two threads),
 * T1 took the linears from 32.8 to 31.0 ms (g32) and 26.4 to 23.5 ms (g128); prefetching two or four blocks ahead
 * instead of one changed nothing. Streaming from DRAM tops out near 12 GB/s a thread here either way.
 */

/* Weight rows a pass of the uniform int8 kernel: they share every activation load. */
#ifndef ROWS
#define ROWS 4
#endif

static inline __m512i load_codes(const tamp_plan *p, const uint8_t *w, int c) {
    int rest = p->row_bytes - c * 64;
    if (rest >= 64) return _mm512_loadu_si512((const void *) (w + c * 64));
    return _mm512_maskz_loadu_epi8((__mmask64) ((1ULL << rest) - 1), w + c * 64);
}

/* The 4-bit codes of a code vector's low or high nibbles: the nibbles, or their table entries for mapped (MX) plans. */
static inline __m512i nibbles(const tamp_plan *p, __m512i wv, int hi) {
    const __m512i nib = _mm512_set1_epi8(0x0F);
    __m512i v = _mm512_and_si512(hi ? _mm512_srli_epi16(wv, 4) : wv, nib);
    return p->mapped ? _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *) p->lut)), v) : v;
}

static inline __m128i nibbles128(const tamp_plan *p, __m128i wv, int hi) {
    __m128i v = _mm_and_si128(hi ? _mm_srli_epi16(wv, 4) : wv, _mm_set1_epi8(0x0F));
    return p->mapped ? _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) p->lut), v) : v;
}

/* 16 zero points from z as floats (the windows VPERMPS picks each lane's from). */
static inline __m512 zero_window(const uint8_t *z) {
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) z)));
}

/* Code, scale and zero rows of the block of ROWS weight rows from r (rows past r1 repeat r; their sums are dropped). */
typedef struct {
    const uint8_t *w[ROWS];
    const float *s[ROWS];
    const uint8_t *z[ROWS];
    int n; /* rows of the block inside [r, r1) */
} row_block;

static inline row_block rows_from(const tamp_plan *p, int r, int r1) {
    row_block b;
    b.n = r1 - r < ROWS ? r1 - r : ROWS;
    for (int i = 0; i < ROWS; i++) {
        int ri = r + (i < b.n ? i : 0);
        tamp_weight_row(p, ri, &b.w[i], &b.s[i], &b.z[i]);
    }
    return b;
}

/* Lane sums of one chunk: low and high nibbles (or flipped bytes) times their activations, merged when they share blocks. */
static inline __m512 chunk_lanes(const tamp_plan *p, __m512i wv, __m512i xl, __m512i xh, __m512 al, __m512 ah) {
    const __m512i flip = _mm512_set1_epi8(p->flip ? (char) 0x80 : 0);
    if (p->bits == 8) return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(wv, flip), xl)), al);
    __m512i lo = nibbles(p, wv, 0), hi = nibbles(p, wv, 1);
    if (p->merged) {
        __m512i d = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, xl), hi, xh);
        return _mm512_mul_ps(_mm512_cvtepi32_ps(d), al);
    }
    __m512i dl = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, xl), dh = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, xh);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(dh), ah, _mm512_mul_ps(_mm512_cvtepi32_ps(dl), al));
}

/*
 * Plans whose chunks each lie in one group: the group's s multiplies the chunk's lane sums once, and its zero point comes
 * off as z·s·Σ(a·Σq) with the chunk's activation total, a scalar a chunk.
 */
static void gemv_int_uniform(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    for (int m = 0; m < rows; m++) {
        tamp_act_row a = tamp_act_int_row(p, act, m);
        for (int r = r0; r < r1; r += ROWS) {
            row_block rb = rows_from(p, r, r1);
            const uint8_t *const *w = rb.w;
            const float *const *s = rb.s;
            const uint8_t *const *z = rb.z;
            int nr = rb.n;
            __m512 acc[ROWS];
            float corr[ROWS];
            for (int i = 0; i < ROWS; i++) {
                acc[i] = _mm512_setzero_ps();
                corr[i] = 0;
            }
            for (int c = 0; c < p->chunks; c++) {
                __m512i xl = _mm512_loadu_si512((const void *) (a.q_lo + c * 64)), xh = _mm512_loadu_si512((const void *) (a.q_hi + c * 64));
                __m512 al = _mm512_loadu_ps(a.a_lo + c * 16), ah = _mm512_loadu_ps(a.a_hi + c * 16);
                int g = p->gbase[c];
                float zc = a.zc[c];
                for (int i = 0; i < ROWS; i++) {
                    _mm_prefetch((const char *) (w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                    acc[i] = _mm512_fmadd_ps(chunk_lanes(p, load_codes(p, w[i], c), xl, xh, al, ah), _mm512_set1_ps(s[i][g]), acc[i]);
                    corr[i] = fmaf(z[i][g] * s[i][g], zc, corr[i]);
                }
            }
            for (int i = 0; i < nr; i++) out[(size_t) m * p->n + r + i] = _mm512_reduce_add_ps(acc[i]) - corr[i];
        }
    }
}

/*
 * One group and one activation scale a row (W8A8 per channel, activations per token): the lanes' integer sums need no
 * scaling on the way, so each chunk is a load, the flip (or nibble split) and VPDPBUSD into int32 accumulators; the row
 * is scaled once: s·(d·Σ − z·Σq·d). Int32 cannot overflow below K = 2^31 / (255·127) ≈ 66,000.
 */
static void gemv_int_rows(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    const __m512i flip = _mm512_set1_epi8(p->flip ? (char) 0x80 : 0);
    for (int m = 0; m < rows; m++) {
        tamp_act_row a = tamp_act_int_row(p, act, m);
        float d = a.a_lo[0], zsum = 0;
        for (int c = 0; c < p->chunks; c++) zsum += a.zc[c];
        for (int r = r0; r < r1; r += ROWS) {
            row_block rb = rows_from(p, r, r1);
            const uint8_t *const *w = rb.w;
            int nr = rb.n;
            __m512i acc[ROWS];
            for (int i = 0; i < ROWS; i++) acc[i] = _mm512_setzero_si512();
            for (int c = 0; c < p->chunks; c++) {
                __m512i xl = _mm512_loadu_si512((const void *) (a.q_lo + c * 64));
                if (p->bits == 8) {
                    for (int i = 0; i < ROWS; i++) {
                        _mm_prefetch((const char *) (w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                        acc[i] = _mm512_dpbusd_epi32(acc[i], _mm512_xor_si512(load_codes(p, w[i], c), flip), xl);
                    }
                } else {
                    __m512i xh = _mm512_loadu_si512((const void *) (a.q_hi + c * 64));
                    for (int i = 0; i < ROWS; i++) {
                        _mm_prefetch((const char *) (w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                        __m512i wv = load_codes(p, w[i], c);
                        acc[i] = _mm512_dpbusd_epi32(acc[i], nibbles(p, wv, 0), xl);
                        acc[i] = _mm512_dpbusd_epi32(acc[i], nibbles(p, wv, 1), xh);
                    }
                }
            }
            for (int i = 0; i < nr; i++) {
                size_t g = (size_t) (r + i) * p->groups;
                out[(size_t) m * p->n + r + i] = p->scales[g] * (d * (float) _mm512_reduce_add_epi32(acc[i]) - p->zeros[g] * zsum);
            }
        }
    }
}

/*
 * Any plan: per lane, the zero point off as z·Σq and the lane scaled by its block's d and its group's s, both taken from
 * 16-entry windows of the row's zeros and scales (VPERMPS). Four weight rows a pass share the activation loads; low and
 * high nibbles sharing blocks (GENERIC, SPLIT16) go into one VPDPBUSD chain.
 */
static void gemv_int_lanes(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    const __m512i flip = _mm512_set1_epi8(p->flip ? (char) 0x80 : 0);
    for (int m = 0; m < rows; m++) {
        tamp_act_row a = tamp_act_int_row(p, act, m);
        for (int r = r0; r < r1; r += ROWS) {
            row_block rb = rows_from(p, r, r1);
            const uint8_t *const *w = rb.w;
            const float *const *s = rb.s;
            const uint8_t *const *z = rb.z;
            int nr = rb.n;
            __m512 acc[ROWS];
            for (int i = 0; i < ROWS; i++) acc[i] = _mm512_setzero_ps();
            for (int c = 0; c < p->chunks; c++) {
                int gb = p->gbase[c];
                __m512i il = _mm512_loadu_si512((const void *) (p->idx_lo + c * 16));
                __m512i xl = _mm512_loadu_si512((const void *) (a.q_lo + c * 64));
                __m512 al = _mm512_loadu_ps(a.a_lo + c * 16), sl = _mm512_loadu_ps(a.s_lo + c * 16);
                if (p->bits == 8) {
                    for (int i = 0; i < ROWS; i++) {
                        _mm_prefetch((const char *) (w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                        __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_xor_si512(load_codes(p, w[i], c), flip), xl);
                        __m512 f = _mm512_fnmadd_ps(_mm512_permutexvar_ps(il, zero_window(z[i] + gb)), sl, _mm512_cvtepi32_ps(d));
                        acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(f, al), _mm512_permutexvar_ps(il, _mm512_loadu_ps(s[i] + gb)), acc[i]);
                    }
                    continue;
                }
                __m512i xh = _mm512_loadu_si512((const void *) (a.q_hi + c * 64));
                if (p->merged) {
                    /* one block a lane for both nibbles, and (checked below) one group: Σq of the lane is lo + hi */
                    __m512 sq = _mm512_add_ps(sl, _mm512_loadu_ps(a.s_hi + c * 16));
                    for (int i = 0; i < ROWS; i++) {
                        _mm_prefetch((const char *) (w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                        __m512i wv = load_codes(p, w[i], c);
                        __m512i d = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), nibbles(p, wv, 0), xl), nibbles(p, wv, 1), xh);
                        __m512 f = _mm512_fnmadd_ps(_mm512_permutexvar_ps(il, zero_window(z[i] + gb)), sq, _mm512_cvtepi32_ps(d));
                        acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(f, al), _mm512_permutexvar_ps(il, _mm512_loadu_ps(s[i] + gb)), acc[i]);
                    }
                    continue;
                }
                __m512i ih = _mm512_loadu_si512((const void *) (p->idx_hi + c * 16));
                __m512 ah = _mm512_loadu_ps(a.a_hi + c * 16), sh = _mm512_loadu_ps(a.s_hi + c * 16);
                for (int i = 0; i < ROWS; i++) {
                    _mm_prefetch((const char *) (w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                    __m512i wv = load_codes(p, w[i], c);
                    __m512 zw = zero_window(z[i] + gb), sw = _mm512_loadu_ps(s[i] + gb);
                    __m512i dl = _mm512_dpbusd_epi32(_mm512_setzero_si512(), nibbles(p, wv, 0), xl);
                    __m512i dh = _mm512_dpbusd_epi32(_mm512_setzero_si512(), nibbles(p, wv, 1), xh);
                    __m512 fl = _mm512_fnmadd_ps(_mm512_permutexvar_ps(il, zw), sl, _mm512_cvtepi32_ps(dl));
                    __m512 fh = _mm512_fnmadd_ps(_mm512_permutexvar_ps(ih, zw), sh, _mm512_cvtepi32_ps(dh));
                    acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(fl, al), _mm512_permutexvar_ps(il, sw), acc[i]);
                    acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(fh, ah), _mm512_permutexvar_ps(ih, sw), acc[i]);
                }
            }
            for (int i = 0; i < nr; i++) out[(size_t) m * p->n + r + i] = _mm512_reduce_add_ps(acc[i]);
        }
    }
}

void tamp_gemv_int_avx512(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    if (p->row_int) {
        gemv_int_rows(p, act, rows, out, r0, r1);
        return;
    }
    if (p->uniform) {
        gemv_int_uniform(p, act, rows, out, r0, r1);
        return;
    }
    gemv_int_lanes(p, act, rows, out, r0, r1);
}

/* One 16-byte quarter of a chunk: 16 codes (one nibble plane, or bytes) times 16 activations, into acc. */
static inline __m512 quarter(__m128i codes, float z, float s, const float *x, __m512 acc) {
    __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(codes));
    return _mm512_fmadd_ps(_mm512_mul_ps(_mm512_sub_ps(q, _mm512_set1_ps(z)), _mm512_set1_ps(s)), _mm512_loadu_ps(x), acc);
}

void tamp_gemv_float_avx512(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1) {
    const __m128i flip = _mm_set1_epi8(p->flip ? (char) 0x80 : 0);
    int pb = p->chunks * 64;
    for (int r = r0; r < r1; r++) {
        const uint8_t *w, *z;
        const float *s;
        tamp_weight_row(p, r, &w, &s, &z);
        for (int m = 0; m < rows; m++) {
            const float *xl = act + (size_t) m * tamp_act_float_len(p), *xh = xl + pb;
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (int c = 0; c < p->chunks; c++) {
                _mm_prefetch((const char *) (w + c * 64 + PREFETCH), _MM_HINT_T1);
                __m512i wv = load_codes(p, w, c);
                __m128i qs[4] = {_mm512_extracti32x4_epi32(wv, 0), _mm512_extracti32x4_epi32(wv, 1),
                                 _mm512_extracti32x4_epi32(wv, 2), _mm512_extracti32x4_epi32(wv, 3)};
                for (int j = 0; j < 4; j++) {
                    int lane = c * 16 + j * 4, gl = p->gbase[c] + p->idx_lo[lane];
                    const float *x = xl + c * 64 + j * 16;
                    if (p->bits == 8) {
                        acc[j] = quarter(_mm_xor_si128(qs[j], flip), z[gl], s[gl], x, acc[j]);
                    } else {
                        int gh = p->gbase[c] + p->idx_hi[lane];
                        acc[j] = quarter(nibbles128(p, qs[j], 0), z[gl], s[gl], x, acc[j]);
                        acc[j] = quarter(nibbles128(p, qs[j], 1), z[gh], s[gh], xh + c * 64 + j * 16, acc[j]);
                    }
                }
            }
            out[(size_t) m * p->n + r] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
        }
    }
}

/* BF16 rows widened by a shift (exact) into two FMA chains of 16 lanes; the K tail past the last 32 runs scalar. */
void tamp_gemv_bf16_avx512(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1) {
    int full = k / 32 * 32;
    for (int r = r0; r < r1; r++) {
        const uint16_t *wr = w + (size_t) r * k;
        for (int m = 0; m < rows; m++) {
            const float *xm = x + (size_t) m * k;
            __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
            for (int j = 0; j < full; j += 32) {
                _mm_prefetch((const char *) (wr + j) + PREFETCH, _MM_HINT_T1);
                __m512 w0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *) (wr + j))), 16));
                __m512 w1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *) (wr + j + 16))), 16));
                a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xm + j), a0);
                a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xm + j + 16), a1);
            }
            out[(size_t) m * n + r] = tamp_bf16_dot(wr, xm, full, k, _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)));
        }
    }
}

#else
void tamp_gemv_bf16_avx512(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1) {
    tamp_gemv_bf16_scalar(w, n, k, x, rows, out, r0, r1);
}
void tamp_gemv_int_avx512(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    tamp_gemv_int_scalar(p, act, rows, out, r0, r1);
}
void tamp_gemv_float_avx512(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1) {
    tamp_gemv_float_scalar(p, act, rows, out, r0, r1);
}
#endif
