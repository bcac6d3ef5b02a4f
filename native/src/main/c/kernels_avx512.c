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
#include <stdlib.h>
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
 * Activation rows are taken MB at a time against a block of ROWS weight rows: the block's code loads (from L1 after the
 * first) are shared by MB activation rows, so past one row the kernels are GEMMs bound by the dot products, not the
 * loads. Activation rows go in panels whose touched bytes (`planes` of the row's 64-byte-per-chunk planes) stay in L2
 * while every weight block of the range passes over them: the weights stream from memory once a panel. Measured on a
 * 4096² W8A8 at 128 rows: panels sized by the whole prepared row (6 planes, 4 rows) read the weights 32 times.
 */
#define PANEL_BYTES (384 * 1024)

static inline int panel_rows(const tamp_plan *p, int mb, int planes) {
    int mp = (int) (PANEL_BYTES / ((size_t) planes * p->chunks * 64)) / mb * mb;
    return mp < mb ? mb : mp;
}

/* The MB activation rows from m (rows past the last repeat it; their sums are dropped), and how many are real. */
static inline int act_rows(const tamp_plan *p, const uint8_t *act, int m, int rows, int mb, tamp_act_row *a) {
    for (int j = 0; j < mb; j++) a[j] = tamp_act_int_row(p, act, m + j < rows ? m + j : rows - 1);
    return rows - m < mb ? rows - m : mb;
}

/*
 * Plans whose chunks each lie in one group: the group's s multiplies the chunk's lane sums once, and its zero point comes
 * off as z·s·Σ(a·Σq) with the chunk's activation total, a scalar a chunk.
 */
#define MB_UNIFORM 2
static void gemv_int_uniform(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    int mp = panel_rows(p, MB_UNIFORM, 4);
    for (int m0 = 0; m0 < rows; m0 += mp) {
        int m1 = m0 + mp < rows ? m0 + mp : rows;
        for (int r = r0; r < r1; r += ROWS) {
            row_block rb = rows_from(p, r, r1);
            for (int m = m0; m < m1; m += MB_UNIFORM) {
                tamp_act_row a[MB_UNIFORM];
                int nm = act_rows(p, act, m, rows, MB_UNIFORM, a);
                __m512 acc[ROWS][MB_UNIFORM];
                float corr[ROWS][MB_UNIFORM];
                for (int i = 0; i < ROWS; i++)
                    for (int j = 0; j < MB_UNIFORM; j++) {
                        acc[i][j] = _mm512_setzero_ps();
                        corr[i][j] = 0;
                    }
                for (int c = 0; c < p->chunks; c++) {
                    __m512i xl[MB_UNIFORM], xh[MB_UNIFORM];
                    __m512 al[MB_UNIFORM], ah[MB_UNIFORM];
                    for (int j = 0; j < MB_UNIFORM; j++) {
                        xl[j] = _mm512_loadu_si512((const void *) (a[j].q_lo + c * 64));
                        xh[j] = _mm512_loadu_si512((const void *) (a[j].q_hi + c * 64));
                        al[j] = _mm512_loadu_ps(a[j].a_lo + c * 16);
                        ah[j] = _mm512_loadu_ps(a[j].a_hi + c * 16);
                    }
                    int g = p->gbase[c];
                    for (int i = 0; i < ROWS; i++) {
                        _mm_prefetch((const char *) (rb.w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                        __m512i wv = load_codes(p, rb.w[i], c);
                        __m512 s = _mm512_set1_ps(rb.s[i][g]);
                        float zs = rb.z[i][g] * rb.s[i][g];
                        for (int j = 0; j < MB_UNIFORM; j++) {
                            acc[i][j] = _mm512_fmadd_ps(chunk_lanes(p, wv, xl[j], xh[j], al[j], ah[j]), s, acc[i][j]);
                            corr[i][j] = fmaf(zs, a[j].zc[c], corr[i][j]);
                        }
                    }
                }
                for (int j = 0; j < nm; j++)
                    for (int i = 0; i < rb.n; i++) out[(size_t) (m + j) * p->n + r + i] = _mm512_reduce_add_ps(acc[i][j]) - corr[i][j];
            }
        }
    }
}

#define MB_ROWS 4 /* rows_sums is written out for 4 × 4 */
#define INLINE static inline __attribute__((always_inline))

/*
 * Whether every chunk load of rows [r, r + ROWS) may read 64 bytes whole: a row's last chunk reads into the next row's
 * codes, which multiply the zero activations past K, so only the matrix's last rows need masked loads.
 */
static inline int whole_loads(const tamp_plan *p, int r) {
    int last = r + ROWS - 1 < p->n - 1 ? r + ROWS - 1 : p->n - 1;
    return (size_t) last * p->row_bytes + (size_t) p->chunks * 64 <= (size_t) p->n * p->row_bytes;
}

/* The code vector of chunk c of row w: 64 bytes whole, or masked past the row (the branch folds where whole is a constant). */
INLINE __m512i codes_of(const tamp_plan *p, const uint8_t *w, int c, int whole) {
    return whole ? _mm512_loadu_si512((const void *) (w + c * 64)) : load_codes(p, w, c);
}

/*
 * Integer sums of 4 weight rows against 4 activation rows, for one bit width and load kind (both constants), into
 * sums[i][j]. The 16 accumulators are named variables: as an array GCC keeps a copy in memory and stores every one
 * each chunk, which halved the kernel's speed.
 */
#define ACC_ROW(i) __m512i c##i##0 = _mm512_setzero_si512(), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0
#define DOT(i, w, x0, x1, x2, x3)                \
    c##i##0 = _mm512_dpbusd_epi32(c##i##0, w, x0); \
    c##i##1 = _mm512_dpbusd_epi32(c##i##1, w, x1); \
    c##i##2 = _mm512_dpbusd_epi32(c##i##2, w, x2); \
    c##i##3 = _mm512_dpbusd_epi32(c##i##3, w, x3)
#define SUM_ROW(i)                                   \
    sums[i][0] = _mm512_reduce_add_epi32(c##i##0); \
    sums[i][1] = _mm512_reduce_add_epi32(c##i##1); \
    sums[i][2] = _mm512_reduce_add_epi32(c##i##2); \
    sums[i][3] = _mm512_reduce_add_epi32(c##i##3)

INLINE void rows_sums(const tamp_plan *p, const int bits, const int whole, const row_block *rb, const tamp_act_row *a,
                      int32_t sums[ROWS][MB_ROWS]) {
    const __m512i flip = _mm512_set1_epi8(p->flip ? (char) 0x80 : 0);
    const uint8_t *w0 = rb->w[0], *w1 = rb->w[1], *w2 = rb->w[2], *w3 = rb->w[3];
    size_t ahead = (size_t) ROWS * p->row_bytes;
    ACC_ROW(0);
    ACC_ROW(1);
    ACC_ROW(2);
    ACC_ROW(3);
    for (int c = 0; c < p->chunks; c++) {
        __m512i x0 = _mm512_loadu_si512((const void *) (a[0].q_lo + c * 64)), x1 = _mm512_loadu_si512((const void *) (a[1].q_lo + c * 64));
        __m512i x2 = _mm512_loadu_si512((const void *) (a[2].q_lo + c * 64)), x3 = _mm512_loadu_si512((const void *) (a[3].q_lo + c * 64));
        _mm_prefetch((const char *) (w0 + c * 64 + ahead), _MM_HINT_T1);
        _mm_prefetch((const char *) (w1 + c * 64 + ahead), _MM_HINT_T1);
        _mm_prefetch((const char *) (w2 + c * 64 + ahead), _MM_HINT_T1);
        _mm_prefetch((const char *) (w3 + c * 64 + ahead), _MM_HINT_T1);
        __m512i v0 = codes_of(p, w0, c, whole), v1 = codes_of(p, w1, c, whole), v2 = codes_of(p, w2, c, whole), v3 = codes_of(p, w3, c, whole);
        if (bits == 8) {
            v0 = _mm512_xor_si512(v0, flip);
            v1 = _mm512_xor_si512(v1, flip);
            v2 = _mm512_xor_si512(v2, flip);
            v3 = _mm512_xor_si512(v3, flip);
            DOT(0, v0, x0, x1, x2, x3);
            DOT(1, v1, x0, x1, x2, x3);
            DOT(2, v2, x0, x1, x2, x3);
            DOT(3, v3, x0, x1, x2, x3);
        } else {
            DOT(0, nibbles(p, v0, 0), x0, x1, x2, x3);
            DOT(1, nibbles(p, v1, 0), x0, x1, x2, x3);
            DOT(2, nibbles(p, v2, 0), x0, x1, x2, x3);
            DOT(3, nibbles(p, v3, 0), x0, x1, x2, x3);
            x0 = _mm512_loadu_si512((const void *) (a[0].q_hi + c * 64));
            x1 = _mm512_loadu_si512((const void *) (a[1].q_hi + c * 64));
            x2 = _mm512_loadu_si512((const void *) (a[2].q_hi + c * 64));
            x3 = _mm512_loadu_si512((const void *) (a[3].q_hi + c * 64));
            DOT(0, nibbles(p, v0, 1), x0, x1, x2, x3);
            DOT(1, nibbles(p, v1, 1), x0, x1, x2, x3);
            DOT(2, nibbles(p, v2, 1), x0, x1, x2, x3);
            DOT(3, nibbles(p, v3, 1), x0, x1, x2, x3);
        }
    }
    SUM_ROW(0);
    SUM_ROW(1);
    SUM_ROW(2);
    SUM_ROW(3);
}

/*
 * The GEMM form of the per-row kernel for 8-bit codes in element order (W8A8 packs) and many activation rows: 32 weight
 * rows at a time are transposed into VNNI order — one vector per 4 elements of K holding those 4 codes of 16 rows — so
 * VPDPBUSD multiplies them with one activation row's 4 int8 values broadcast, and each accumulator ends as 16 outputs of
 * one activation row: no horizontal sums (which cost the row-major kernel as much as its dot products at K = 384).
 * 2 × 16 weight rows against 8 activation rows: 16 accumulators, 10 loads for 16 VPDPBUSD a step. The integer sums and
 * the final scaling are the row-major kernel's, so the outputs are the same to the bit.
 */
#define VNNI_ROWS 32
#define VNNI_MB 8
#define VNNI_MIN_ROWS 16

static int vnni_gemm_fits(const tamp_plan *p, int rows) {
    return rows >= VNNI_MIN_ROWS && p->bits == 8 && p->in_order && p->row_int && p->row_bytes % 4 == 0;
}

/* Codes of rows [r, r + 32) in VNNI order, flipped: pw[2·t + h] holds element 4t..4t+3 of rows r + 16h .. r + 16h + 15. */
static void vnni_pack(const tamp_plan *p, int r, __m512i *pw) {
    const __m512i flip = _mm512_set1_epi8(p->flip ? (char) 0x80 : 0);
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(p->row_bytes));
    const uint8_t *w0 = p->codes + (size_t) r * p->row_bytes, *w1 = w0 + (size_t) 16 * p->row_bytes;
    for (int t = 0; t < p->row_bytes / 4; t++) {
        pw[2 * t] = _mm512_xor_si512(_mm512_i32gather_epi32(idx, (const void *) (w0 + 4 * t), 1), flip);
        pw[2 * t + 1] = _mm512_xor_si512(_mm512_i32gather_epi32(idx, (const void *) (w1 + 4 * t), 1), flip);
    }
}

#define BCAST(j) _mm512_set1_epi32(*(const int32_t *) (q##j + 4 * t))
#define VNNI_STEP(j)                                                  \
    {                                                                 \
        __m512i xj = BCAST(j);                                        \
        lo##j = _mm512_dpbusd_epi32(lo##j, w0, xj);                   \
        hi##j = _mm512_dpbusd_epi32(hi##j, w1, xj);                   \
    }

static void gemm_int_rows_vnni(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1, __m512i *pw) {
    int steps = p->row_bytes / 4;
    for (int r = r0; r < r1; r += VNNI_ROWS) {
        vnni_pack(p, r, pw);
        __m512 s0 = _mm512_loadu_ps(p->scales + r), s1 = _mm512_loadu_ps(p->scales + r + 16);
        __m512 z0 = zero_window(p->zeros + r), z1 = zero_window(p->zeros + r + 16);
        for (int m = 0; m < rows; m += VNNI_MB) {
            tamp_act_row a[VNNI_MB];
            int nm = act_rows(p, act, m, rows, VNNI_MB, a);
            const int8_t *q0 = a[0].q_lo, *q1 = a[1].q_lo, *q2 = a[2].q_lo, *q3 = a[3].q_lo;
            const int8_t *q4 = a[4].q_lo, *q5 = a[5].q_lo, *q6 = a[6].q_lo, *q7 = a[7].q_lo;
            __m512i lo0 = _mm512_setzero_si512(), lo1 = lo0, lo2 = lo0, lo3 = lo0, lo4 = lo0, lo5 = lo0, lo6 = lo0, lo7 = lo0;
            __m512i hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0, hi4 = lo0, hi5 = lo0, hi6 = lo0, hi7 = lo0;
            for (int t = 0; t < steps; t++) {
                __m512i w0 = _mm512_load_si512((const void *) (pw + 2 * t)), w1 = _mm512_load_si512((const void *) (pw + 2 * t + 1));
                VNNI_STEP(0) VNNI_STEP(1) VNNI_STEP(2) VNNI_STEP(3) VNNI_STEP(4) VNNI_STEP(5) VNNI_STEP(6) VNNI_STEP(7)
            }
            __m512i los[VNNI_MB] = {lo0, lo1, lo2, lo3, lo4, lo5, lo6, lo7}, his[VNNI_MB] = {hi0, hi1, hi2, hi3, hi4, hi5, hi6, hi7};
            for (int j = 0; j < nm; j++) {
                float d = a[j].a_lo[0], zsum = 0;
                for (int c = 0; c < p->chunks; c++) zsum += a[j].zc[c];
                __m512 dv = _mm512_set1_ps(d), zs = _mm512_set1_ps(zsum);
                float *o = out + (size_t) (m + j) * p->n + r;
                _mm512_storeu_ps(o, _mm512_mul_ps(s0, _mm512_sub_ps(_mm512_mul_ps(dv, _mm512_cvtepi32_ps(los[j])), _mm512_mul_ps(z0, zs))));
                _mm512_storeu_ps(o + 16, _mm512_mul_ps(s1, _mm512_sub_ps(_mm512_mul_ps(dv, _mm512_cvtepi32_ps(his[j])), _mm512_mul_ps(z1, zs))));
            }
        }
    }
}

/*
 * One group and one activation scale a row (W8A8 per channel, activations per token): the lanes' integer sums need no
 * scaling on the way, so each chunk is a load, the flip (or nibble split) and VPDPBUSD into int32 accumulators; the row
 * is scaled once: s·(d·Σ − z·Σq·d). Int32 cannot overflow below K = 2^31 / (255·127) ≈ 66,000.
 */
static void gemv_int_rows(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    int mp = panel_rows(p, MB_ROWS, p->bits == 4 ? 2 : 1);
    for (int m0 = 0; m0 < rows; m0 += mp) {
        int m1 = m0 + mp < rows ? m0 + mp : rows;
        for (int r = r0; r < r1; r += ROWS) {
            row_block rb = rows_from(p, r, r1);
            int whole = whole_loads(p, r);
            for (int m = m0; m < m1; m += MB_ROWS) {
                tamp_act_row a[MB_ROWS];
                int nm = act_rows(p, act, m, rows, MB_ROWS, a);
                int32_t sums[ROWS][MB_ROWS];
                if (p->bits == 8) {
                    if (whole) rows_sums(p, 8, 1, &rb, a, sums);
                    else rows_sums(p, 8, 0, &rb, a, sums);
                } else {
                    if (whole) rows_sums(p, 4, 1, &rb, a, sums);
                    else rows_sums(p, 4, 0, &rb, a, sums);
                }
                for (int j = 0; j < nm; j++) {
                    float d = a[j].a_lo[0], zsum = 0;
                    for (int c = 0; c < p->chunks; c++) zsum += a[j].zc[c];
                    for (int i = 0; i < rb.n; i++) {
                        size_t g = (size_t) (r + i) * p->groups;
                        out[(size_t) (m + j) * p->n + r + i] = p->scales[g] * (d * (float) sums[i][j] - p->zeros[g] * zsum);
                    }
                }
            }
        }
    }
}

/*
 * Any plan: per lane, the zero point off as z·Σq and the lane scaled by its block's d and its group's s, both taken from
 * 16-entry windows of the row's zeros and scales (VPERMPS, once a weight row and chunk for all MB activation rows). Low and
 * high nibbles sharing blocks (GENERIC, SPLIT16) go into one VPDPBUSD chain.
 */
#define MB_LANES 2
static void gemv_int_lanes(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    const __m512i flip = _mm512_set1_epi8(p->flip ? (char) 0x80 : 0);
    int mp = panel_rows(p, MB_LANES, 6);
    for (int m0 = 0; m0 < rows; m0 += mp) {
        int m1 = m0 + mp < rows ? m0 + mp : rows;
        for (int r = r0; r < r1; r += ROWS) {
            row_block rb = rows_from(p, r, r1);
            for (int m = m0; m < m1; m += MB_LANES) {
                tamp_act_row a[MB_LANES];
                int nm = act_rows(p, act, m, rows, MB_LANES, a);
                __m512 acc[ROWS][MB_LANES];
                for (int i = 0; i < ROWS; i++)
                    for (int j = 0; j < MB_LANES; j++) acc[i][j] = _mm512_setzero_ps();
                for (int c = 0; c < p->chunks; c++) {
                    int gb = p->gbase[c];
                    __m512i il = _mm512_loadu_si512((const void *) (p->idx_lo + c * 16));
                    __m512i ih = _mm512_loadu_si512((const void *) (p->idx_hi + c * 16));
                    for (int i = 0; i < ROWS; i++) {
                        _mm_prefetch((const char *) (rb.w[i] + c * 64 + (size_t) ROWS * p->row_bytes), _MM_HINT_T1);
                        __m512i wv = load_codes(p, rb.w[i], c);
                        __m512 zw = zero_window(rb.z[i] + gb), sw = _mm512_loadu_ps(rb.s[i] + gb);
                        __m512 zl = _mm512_permutexvar_ps(il, zw), sl = _mm512_permutexvar_ps(il, sw);
                        if (p->bits == 8) {
                            __m512i wq = _mm512_xor_si512(wv, flip);
                            for (int j = 0; j < MB_LANES; j++) {
                                __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wq, _mm512_loadu_si512((const void *) (a[j].q_lo + c * 64)));
                                __m512 f = _mm512_fnmadd_ps(zl, _mm512_loadu_ps(a[j].s_lo + c * 16), _mm512_cvtepi32_ps(d));
                                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(f, _mm512_loadu_ps(a[j].a_lo + c * 16)), sl, acc[i][j]);
                            }
                            continue;
                        }
                        __m512i lo = nibbles(p, wv, 0), hi = nibbles(p, wv, 1);
                        if (p->merged) {
                            /* one block a lane for both nibbles, and one group: Σq of the lane is lo + hi */
                            for (int j = 0; j < MB_LANES; j++) {
                                __m512i d = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), lo,
                                        _mm512_loadu_si512((const void *) (a[j].q_lo + c * 64))), hi, _mm512_loadu_si512((const void *) (a[j].q_hi + c * 64)));
                                __m512 sq = _mm512_add_ps(_mm512_loadu_ps(a[j].s_lo + c * 16), _mm512_loadu_ps(a[j].s_hi + c * 16));
                                __m512 f = _mm512_fnmadd_ps(zl, sq, _mm512_cvtepi32_ps(d));
                                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(f, _mm512_loadu_ps(a[j].a_lo + c * 16)), sl, acc[i][j]);
                            }
                            continue;
                        }
                        __m512 zh = _mm512_permutexvar_ps(ih, zw), sh = _mm512_permutexvar_ps(ih, sw);
                        for (int j = 0; j < MB_LANES; j++) {
                            __m512i dl = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512((const void *) (a[j].q_lo + c * 64)));
                            __m512i dh = _mm512_dpbusd_epi32(_mm512_setzero_si512(), hi, _mm512_loadu_si512((const void *) (a[j].q_hi + c * 64)));
                            __m512 fl = _mm512_fnmadd_ps(zl, _mm512_loadu_ps(a[j].s_lo + c * 16), _mm512_cvtepi32_ps(dl));
                            __m512 fh = _mm512_fnmadd_ps(zh, _mm512_loadu_ps(a[j].s_hi + c * 16), _mm512_cvtepi32_ps(dh));
                            acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(fl, _mm512_loadu_ps(a[j].a_lo + c * 16)), sl, acc[i][j]);
                            acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(fh, _mm512_loadu_ps(a[j].a_hi + c * 16)), sh, acc[i][j]);
                        }
                    }
                }
                for (int j = 0; j < nm; j++)
                    for (int i = 0; i < rb.n; i++) out[(size_t) (m + j) * p->n + r + i] = _mm512_reduce_add_ps(acc[i][j]);
            }
        }
    }
}

void tamp_gemv_int_avx512(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    if (vnni_gemm_fits(p, rows) && r1 - r0 >= VNNI_ROWS) {
        /* whole blocks of 32 weight rows in the GEMM form, the rest (< 32) row-major */
        int whole = r0 + (r1 - r0) / VNNI_ROWS * VNNI_ROWS;
        __m512i *pw = aligned_alloc(64, (size_t) p->row_bytes / 4 * 2 * sizeof(__m512i));
        if (pw) {
            gemm_int_rows_vnni(p, act, rows, out, r0, whole, pw);
            free(pw);
            if (whole < r1) gemv_int_rows(p, act, rows, out, whole, r1);
            return;
        }
    }
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

/* tamp_quantize_row_scalar's operations 16 at a time: the same IEEE division and round-to-nearest-even, so the same codes. */
void tamp_quantize_row_avx512(const float *x, int k, int bsz, float static_scale, int8_t *q, float *d) {
    const __m512 lim = _mm512_set1_ps(127), nlim = _mm512_set1_ps(-127);
    for (int bi = 0, from = 0; from < k; bi++, from += bsz) {
        int to = from + bsz < k ? from + bsz : k;
        __m512 mx = _mm512_setzero_ps();
        for (int e = from; e < to; e += 16) {
            __mmask16 m = to - e >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (to - e)) - 1);
            mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_maskz_loadu_ps(m, x + e)));
        }
        float amax = _mm512_reduce_max_ps(mx);
        float di = static_scale > 0 ? static_scale : (amax == 0 ? 1.0f : amax / 127);
        d[bi] = di;
        __m512 dv = _mm512_set1_ps(di);
        for (int e = from; e < to; e += 16) {
            __mmask16 m = to - e >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (to - e)) - 1);
            __m512 v = _mm512_roundscale_ps(_mm512_div_ps(_mm512_maskz_loadu_ps(m, x + e), dv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            v = _mm512_min_ps(_mm512_max_ps(v, nlim), lim);
            _mm_mask_storeu_epi8(q + e, m, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
        }
    }
}

#else
void tamp_quantize_row_avx512(const float *x, int k, int bsz, float static_scale, int8_t *q, float *d) {
    tamp_quantize_row_scalar(x, k, bsz, static_scale, q, d);
}
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
