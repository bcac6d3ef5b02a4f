/*
 * Plans, activation preparation and the plain-C kernels: the reference every vector variant is tested against, and the
 * path on CPUs without one. The plain kernels compute lane by lane what the vector ones do, in float.
 */
#include "tamp_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int lane_group(const tamp_plan *p, const int32_t *el, int lane, int g, int block, int *grp, int *blk) {
    int found = 0;
    for (int j = 0; j < 4; j++) {
        int e = el[lane * 4 + j];
        if (e < 0) continue;
        int eg = e / g, eb = block > 0 ? e / block : 0;
        if (!found) {
            *grp = eg;
            *blk = eb;
            found = 1;
        } else if (eg != *grp || eb != *blk) {
            return -1;
        }
    }
    (void) p;
    return found;
}

/* Activation block of a lane's first element (its elements share one, checked by lane_group), -1 for a padding lane. */
static int lane_block(const int32_t *el, int lane, int block) {
    for (int j = 0; j < 4; j++)
        if (el[lane * 4 + j] >= 0) return block > 0 ? el[lane * 4 + j] / block : 0;
    return -1;
}

const char *tamp_plan_init(tamp_plan *p, int group_size, int block) {
    int g = group_size <= 0 || group_size > p->k ? p->k : group_size;
    int lanes = p->chunks * 16;
    p->gbase = calloc((size_t) p->chunks, sizeof(int32_t));
    p->idx_lo = calloc((size_t) lanes, sizeof(int32_t));
    p->idx_hi = calloc((size_t) lanes, sizeof(int32_t));
    p->blk_lo = calloc((size_t) lanes, sizeof(int32_t));
    p->blk_hi = calloc((size_t) lanes, sizeof(int32_t));
    if (!p->gbase || !p->idx_lo || !p->idx_hi || !p->blk_lo || !p->blk_hi) return "out of native memory for the plan";
    p->block = block > 0 ? block : 0;
    p->in_order = p->bits == 8;
    for (int b = 0; b < p->chunks * 64 && p->in_order; b++) p->in_order = p->el_lo[b] == (b < p->k ? b : -1);
    p->uniform = 1;
    p->merged = p->bits == 4;
    p->row_int = block <= 0 && g >= p->k;
    for (int c = 0; c < p->chunks; c++) {
        int glo[16], ghi[16], lo = 1 << 30;
        for (int l = 0; l < 16; l++) {
            int gr = 0, bl = 0, gh = 0, bh = 0, f, fh;
            f = lane_group(p, p->el_lo, c * 16 + l, g, block, &gr, &bl);
            if (f < 0) return "a 4-byte lane of codes spans two weight groups or activation blocks";
            glo[l] = f ? gr : -1;
            if (f && gr < lo) lo = gr;
            ghi[l] = -1;
            if (p->bits == 4) {
                fh = lane_group(p, p->el_hi, c * 16 + l, g, block, &gh, &bh);
                if (fh < 0) return "a 4-byte lane of codes spans two weight groups or activation blocks";
                ghi[l] = fh ? gh : -1;
                if (fh && gh < lo) lo = gh;
                if (f && fh && bl != bh) p->merged = 0;
            }
        }
        if (lo == 1 << 30) lo = 0;
        p->gbase[c] = lo;
        for (int l = 0; l < 16; l++) {
            int a = glo[l] < 0 ? 0 : glo[l] - lo, b = ghi[l] < 0 ? 0 : ghi[l] - lo;
            if (a > 15 || b > 15) return "a 64-byte chunk of codes spans more than 16 weight groups";
            if (a != 0 || b != 0) p->uniform = 0;
            if (p->bits == 4 && glo[l] >= 0 && ghi[l] >= 0 && glo[l] != ghi[l]) p->merged = 0; /* merged lanes share s and z too */
            p->idx_lo[c * 16 + l] = a;
            p->idx_hi[c * 16 + l] = b;
        }
        for (int l = 0; l < 16; l++) {
            int lane = c * 16 + l;
            p->blk_lo[lane] = lane_block(p->el_lo, lane, block);
            p->blk_hi[lane] = p->bits == 4 ? lane_block(p->el_hi, lane, block) : -1;
        }
        /* the float kernels take one group per 16-byte quarter */
        for (int q = 0; q < 4; q++)
            for (int l = 1; l < 4; l++) {
                int i = c * 16 + q * 4;
                if ((glo[q * 4 + l] >= 0 && glo[q * 4] >= 0 && glo[q * 4 + l] != glo[q * 4])
                    || (ghi[q * 4 + l] >= 0 && ghi[q * 4] >= 0 && ghi[q * 4 + l] != ghi[q * 4]))
                    return "a 16-byte run of codes spans two weight groups";
                (void) i;
            }
    }
    return 0;
}

void tamp_plan_free(tamp_plan *p) {
    free(p->scales);
    free(p->zeros);
    free(p->gbase);
    free(p->idx_lo);
    free(p->idx_hi);
    free(p->el_lo);
    free(p->el_hi);
    free(p->blk_lo);
    free(p->blk_hi);
    free(p);
}

void tamp_quantize_row_scalar(const float *x, int k, int bsz, float static_scale, int8_t *q, float *d) {
    for (int bi = 0, from = 0; from < k; bi++, from += bsz) {
        int to = from + bsz < k ? from + bsz : k;
        float amax = 0;
        for (int e = from; e < to; e++) amax = fmaxf(amax, fabsf(x[e]));
        float di = static_scale > 0 ? static_scale : (amax == 0 ? 1.0f : amax / 127);
        d[bi] = di;
        for (int e = from; e < to; e++) {
            float v = rintf(x[e] / di);
            q[e] = (int8_t) (v > 127 ? 127 : v < -127 ? -127 : v);
        }
    }
}

/* Σ of each 4-byte lane's codes, as float (exact), and the lane's activation scale from its block (0 for padding). */
static void lane_stats(const int8_t *q, const int32_t *blk, const float *d, int lanes, float *a, float *s) {
    for (int l = 0; l < lanes; l++) {
        s[l] = (float) (q[4 * l] + q[4 * l + 1] + q[4 * l + 2] + q[4 * l + 3]);
        a[l] = blk[l] < 0 ? 0 : d[blk[l]];
    }
}

void tamp_prepare_int(const tamp_plan *p, const float *x, int row0, int rows, int block, float static_scale, uint8_t *act) {
    int k = p->k, pb = p->chunks * 64, lanes = pb / 4;
    int bsz = block > 0 ? block : k, nblocks = (k + bsz - 1) / bsz;
    if ((block > 0 ? block : 0) != p->block) return; /* NativeKernels.Plan refuses this: the lanes were checked for p->block */
    int8_t *q = malloc((size_t) k);
    float *d = malloc((size_t) nblocks * sizeof(float));
    for (int m = row0; m < row0 + rows; m++) {
        const float *xr = x + (size_t) m * k;
        if (p->isa == TAMP_ISA_AVX512) tamp_quantize_row_avx512(xr, k, bsz, static_scale, q, d);
        else tamp_quantize_row_scalar(xr, k, bsz, static_scale, q, d);
        uint8_t *base = act + (size_t) m * tamp_act_int_bytes(p);
        int8_t *qlo = (int8_t *) base, *qhi = (int8_t *) (base + pb);
        float *alo = (float *) (base + 2 * (size_t) pb), *ahi = (float *) (base + 3 * (size_t) pb);
        float *slo = (float *) (base + 4 * (size_t) pb), *shi = (float *) (base + 5 * (size_t) pb);
        if (p->in_order) {
            memcpy(qlo, q, (size_t) k);
            memset(qlo + k, 0, (size_t) (pb - k));
            memset(qhi, 0, (size_t) pb);
        } else {
            for (int b = 0; b < pb; b++) {
                int e = p->el_lo[b], h = p->el_hi[b];
                qlo[b] = e < 0 ? 0 : q[e];
                qhi[b] = h < 0 ? 0 : q[h];
            }
        }
        lane_stats(qlo, p->blk_lo, d, lanes, alo, slo);
        lane_stats(qhi, p->blk_hi, d, lanes, ahi, shi);
        float *zc = (float *) (base + 6 * (size_t) pb);
        for (int c = 0; c < p->chunks; c++) {
            float t = 0;
            for (int l = c * 16; l < c * 16 + 16; l++) t += alo[l] * slo[l] + ahi[l] * shi[l];
            zc[c] = t;
        }
    }
    free(q);
    free(d);
}

void tamp_prepare_float(const tamp_plan *p, const float *x, int rows, float *act) {
    int k = p->k, pb = p->chunks * 64;
    for (int m = 0; m < rows; m++) {
        const float *xr = x + (size_t) m * k;
        float *lo = act + (size_t) m * tamp_act_float_len(p), *hi = lo + pb;
        for (int b = 0; b < pb; b++) {
            int e = p->el_lo[b], h = p->el_hi[b];
            lo[b] = e < 0 ? 0 : xr[e];
            hi[b] = h < 0 ? 0 : xr[h];
        }
    }
}

/* Code of byte b's low (hi = 0) or high nibble, or the byte after the flip for 8-bit codes; 0 past the row. */
static inline int code(const tamp_plan *p, const uint8_t *row, int b, int hi) {
    if (b >= p->row_bytes) return 0;
    int v = row[b];
    if (p->bits == 8) return v ^ (p->flip ? 0x80 : 0);
    int nib = hi ? v >> 4 : v & 0x0F;
    return p->mapped ? p->lut[nib] : nib;
}

void tamp_gemv_int_scalar(const tamp_plan *p, const uint8_t *act, int rows, float *out, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
        const uint8_t *w, *z;
        const float *s;
        tamp_weight_row(p, r, &w, &s, &z);
        for (int m = 0; m < rows; m++) {
            tamp_act_row a = tamp_act_int_row(p, act, m);
            float acc = 0;
            for (int c = 0; c < p->chunks; c++) {
                for (int l = 0; l < 16; l++) {
                    int lane = c * 16 + l, dlo = 0, dhi = 0;
                    for (int j = 0; j < 4; j++) {
                        int b = lane * 4 + j;
                        dlo += code(p, w, b, 0) * a.q_lo[b];
                        if (p->bits == 4) dhi += code(p, w, b, 1) * a.q_hi[b];
                    }
                    int gl = p->gbase[c] + p->idx_lo[lane];
                    acc = fmaf(((float) dlo - z[gl] * a.s_lo[lane]) * a.a_lo[lane], s[gl], acc);
                    if (p->bits == 4) {
                        int gh = p->gbase[c] + p->idx_hi[lane];
                        acc = fmaf(((float) dhi - z[gh] * a.s_hi[lane]) * a.a_hi[lane], s[gh], acc);
                    }
                }
            }
            out[(size_t) m * p->n + r] = acc;
        }
    }
}

void tamp_gemv_float_scalar(const tamp_plan *p, const float *act, int rows, float *out, int r0, int r1) {
    int pb = p->chunks * 64;
    for (int r = r0; r < r1; r++) {
        const uint8_t *w, *z;
        const float *s;
        tamp_weight_row(p, r, &w, &s, &z);
        for (int m = 0; m < rows; m++) {
            const float *xl = act + (size_t) m * tamp_act_float_len(p), *xh = xl + pb;
            float acc = 0;
            for (int b = 0; b < pb; b++) {
                int c = b / 64, lane = b / 4;
                int gl = p->gbase[c] + p->idx_lo[lane];
                acc = fmaf(((float) code(p, w, b, 0) - z[gl]) * s[gl], xl[b], acc);
                if (p->bits == 4) {
                    int gh = p->gbase[c] + p->idx_hi[lane];
                    acc = fmaf(((float) code(p, w, b, 1) - z[gh]) * s[gh], xh[b], acc);
                }
            }
            out[(size_t) m * p->n + r] = acc;
        }
    }
}

void tamp_gemv_bf16_scalar(const uint16_t *w, int n, int k, const float *x, int rows, float *out, int r0, int r1) {
    for (int r = r0; r < r1; r++) {
        const uint16_t *wr = w + (size_t) r * k;
        for (int m = 0; m < rows; m++) out[(size_t) m * n + r] = tamp_bf16_dot(wr, x + (size_t) m * k, 0, k, 0);
    }
}
