/*
 * tamp's native CPU kernels: GEMV over grouped-integer weights (4-bit nibbles, 8-bit bytes) as tamp packs store them,
 * with float activations (W4A16/W8A16: the same decoded weights as the Java decoder) or int8 activations (W4A8 per
 * block of 32, llama.cpp's Q8_0 method; W8A8 per token) and integer dot products.
 *
 * One plan per weight describes where every code's element lies (the pack layout), so one kernel reads any layout:
 * the activations are quantized once per call into the order the code bytes are visited, which absorbs the layout's
 * permutation. A 64-byte chunk of a code row is 16 lanes of 4 bytes; every lane's low-nibble elements (and, apart,
 * its high-nibble elements) share one weight group and one activation block, checked when the plan is made.
 *
 * MX weights run on the same kernels: a 4-bit MX element code (MXFP4's E2M1, MXINT4) goes through a 16-entry byte table
 * (VPSHUFB) to its value times a power of two plus an offset, an unsigned int that the integer kernels take as the code
 * and the offset as the zero point (MXFP4: 2·E2M1 + 12 in [0, 24], formats.md §6.4); MXINT8 codes are signed 8-bit
 * codes. The block's E8M0 scale (times the power of two's inverse) is the group's scale, so the products are exact.
 */
#ifndef TAMP_KERNELS_H
#define TAMP_KERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum tamp_isa { TAMP_ISA_SCALAR = 0, TAMP_ISA_AVX2 = 1, TAMP_ISA_AVX512 = 2 };

typedef struct {
    int isa;           /* the variant this plan runs (enum tamp_isa) */
    int bits;          /* 4 or 8 */
    int n, k;          /* output rows, reduction length */
    int groups;        /* weight groups a row */
    int row_bytes;     /* bytes of one stored code row */
    int chunks;        /* ceil(row_bytes / 64); the last chunk may be partial (its bytes past the row read as 0) */
    int flip;          /* 8-bit signed codes: XOR 0x80 turns them into unsigned ones with zero point 128 */
    int uniform;       /* every chunk lies in one weight group (4-bit: groups of 128·j, 8-bit: 64·j, or one a row) */
    int merged;        /* every lane's low and high nibbles share an activation block and a weight group (GENERIC, SPLIT16) */
    int row_int;       /* one group a row and one activation scale a row (W8A8 per channel): int32 sums over the whole row */
    int mapped;        /* 4-bit codes go through lut before use (MX element codes); 0: the nibble is the code */
    uint8_t lut[16];   /* code of each nibble value when mapped, each ≤ 127 (the AVX2 kernels' VPMADDUBSW pairs fit int16) */
    const uint8_t *codes;   /* [n][row_bytes], owned by the caller (a mapped file or a direct buffer) */
    float *scales;     /* [n][groups], then 16 floats of padding (windows of 16 are loaded) */
    uint8_t *zeros;    /* [n][groups] + 16: zero point, after the flip (4-bit symmetric 8, 8-bit symmetric 128, MXFP4 12): a byte, a
                          quarter of a float's traffic (g32 asymmetric W4 reads 21 bytes a group instead of 24) */
    int32_t *gbase;    /* [chunks]: lowest group a chunk touches */
    int32_t *idx_lo;   /* [chunks][16]: group of each lane's low-nibble (8-bit: only) elements, minus gbase */
    int32_t *idx_hi;   /* [chunks][16]: the same for high nibbles */
    int32_t *el_lo;    /* [chunks * 64]: element of each byte's low nibble (8-bit: of the byte), -1 past the row */
    int32_t *el_hi;    /* [chunks * 64]: element of each byte's high nibble, -1 past the row (and for 8-bit) */
    int block;         /* the activation block the plan was made for (0: one a row) */
    int32_t *blk_lo;   /* [chunks * 16]: activation block of each lane's low-nibble (8-bit: only) elements, -1 for padding */
    int32_t *blk_hi;   /* [chunks * 16]: the same for high nibbles */
    int in_order;      /* 8-bit codes in element order (byte b holds element b): activations are copied, not gathered */
} tamp_plan;

/*
 * Bytes of one row of int8 activations for a plan: codes lo | codes hi | lane scale lo | hi | lane code sum lo | hi |
 * per chunk Σ over its lanes of scale·sum (the zero point's share, for uniform plans) | padding to 64.
 */
static inline size_t tamp_act_int_bytes(const tamp_plan *p) {
    return (size_t) p->chunks * 64 * 6 + ((size_t) p->chunks * 4 + 63) / 64 * 64;
}

/* Floats of one row of float activations: values in low-nibble order | in high-nibble order. */
static inline size_t tamp_act_float_len(const tamp_plan *p) { return (size_t) p->chunks * 64 * 2; }

/* Returns 0, or a static message saying why this weight's layout and grouping cannot run here. */
const char *tamp_plan_init(tamp_plan *p, int group_size, int block);

void tamp_plan_free(tamp_plan *p);

/*
 * Quantizes activation rows [row0, row0 + rows) of x [..][k] to int8, symmetric, d = amax / 127 per block of `block`
 * elements (0: one block a row) or d = static_scale when > 0, q = clamp(rint(x / d), ±127) — the Java reference's float
 * operations — and lays them out in the plan's visiting order in the same rows of act.
 */
void tamp_prepare_int(const tamp_plan *p, const float *x, int row0, int rows, int block, float static_scale, uint8_t *act);

/* One row's quantization as tamp_prepare_int's: q[k] and d per block of bsz; the plain and the AVX-512 variants agree bit for bit. */
void tamp_quantize_row_scalar(const float *x, int k, int bsz, float static_scale, int8_t *q, float *d);
void tamp_quantize_row_avx512(const float *x, int k, int bsz, float static_scale, int8_t *q, float *d);

/* Lays float activation rows out in the plan's visiting order. */
void tamp_prepare_float(const tamp_plan *p, const float *x, int rows, float *act);

/* out[m * n + r] for r in [r0, r1), m < rows: Σ over the row of (q − z)·s · activation. */
void tamp_gemv_int_scalar(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1);
void tamp_gemv_float_scalar(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1);
void tamp_gemv_int_avx2(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1);
void tamp_gemv_float_avx2(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1);
void tamp_gemv_int_avx512(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1);
void tamp_gemv_float_avx512(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1);

/* acc + Σ_{j in [from, k)} bf16(w[j]) · x[j] in one FMA chain: the plain kernel, and the vector kernels' K tails. */
static inline float tamp_bf16_dot(const uint16_t *w, const float *x, int from, int k, float acc) {
    for (int j = from; j < k; j++) {
        uint32_t bits = (uint32_t) w[j] << 16;
        float v;
        memcpy(&v, &bits, sizeof v);
        acc = fmaf(v, x[j], acc);
    }
    return acc;
}

/* out[m * n + r] = Σ_j bf16(w[r][j]) · x[m][j] for r in [r0, r1): BF16 weights (e.g. memory-mapped) widened exactly. */
void tamp_gemv_bf16_scalar(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1);
void tamp_gemv_bf16_avx2(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1);
void tamp_gemv_bf16_avx512(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1);

/* The java backend's row operations, bit for bit as VectorMath / VectorGemm.gemmNN at 16 lanes (rowops_avx512.c). */
void tamp_gelu_avx512(const float *in, float *out, int len);
void tamp_softmax_rows_avx512(float *x, int n, int rows);
void tamp_layer_norm_rows_avx512(const float *x, const float *scale, const float *bias, float *out, int d, float eps, int rows,
                                 float *means, float *inv_stds);
void tamp_gemm_nn_avx512(const float *a, const float *b, float *out, int m, int n, int k);

/* The code, scale and zero-point rows of weight row r. */
static inline void tamp_weight_row(const tamp_plan *p, int r, const uint8_t **w, const float **s, const uint8_t **z) {
    *w = p->codes + (size_t) r * p->row_bytes;
    *s = p->scales + (size_t) r * p->groups;
    *z = p->zeros + (size_t) r * p->groups;
}

/* Pointers into one row of int8 activations. */
typedef struct {
    const int8_t *q_lo, *q_hi;
    const float *a_lo, *a_hi;   /* activation scale d of each lane */
    const float *s_lo, *s_hi;   /* Σ of each lane's four codes, as float (exact) */
    const float *zc;            /* per chunk: Σ over its lanes of a·s */
} tamp_act_row;

static inline tamp_act_row tamp_act_int_row(const tamp_plan *p, const uint8_t *act, int m) {
    size_t pb = (size_t) p->chunks * 64;
    const uint8_t *base = act + (size_t) m * tamp_act_int_bytes(p);
    tamp_act_row a;
    a.q_lo = (const int8_t *) base;
    a.q_hi = (const int8_t *) (base + pb);
    a.a_lo = (const float *) (base + 2 * pb);
    a.a_hi = (const float *) (base + 3 * pb);
    a.s_lo = (const float *) (base + 4 * pb);
    a.s_hi = (const float *) (base + 5 * pb);
    a.zc = (const float *) (base + 6 * pb);
    return a;
}

#endif
