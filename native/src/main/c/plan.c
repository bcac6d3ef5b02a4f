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

const char *tamp_plan_init(tamp_plan *p, int group_size, int block) {
    int g = group_size <= 0 || group_size > p->k ? p->k : group_size;
    int lanes = p->chunks * 16;
    p->gbase = calloc((size_t) p->chunks, sizeof(int32_t));
    p->idx_lo = calloc((size_t) lanes, sizeof(int32_t));
    p->idx_hi = calloc((size_t) lanes, sizeof(int32_t));
    if (!p->gbase || !p->idx_lo || !p->idx_hi) return "out of native memory for the plan";
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
    free(p);
}

/* Lane scale and code sum of one lane (4 bytes): the scale of the block of its first element, 0 for a padding lane. */
static void lane_stats(const int32_t *el, const int8_t *q, const float *d, int block, int lane, float *a, float *s) {
    int sum = 0;
    float scale = 0;
    for (int j = 0; j < 4; j++) {
        int b = lane * 4 + j;
        sum += q[b];
        if (el[b] >= 0 && scale == 0) scale = d[block > 0 ? el[b] / block : 0];
    }
    *a = scale;
    *s = (float) sum;
}

void tamp_prepare_int(const tamp_plan *p, const float *x, int rows, int block, float static_scale, uint8_t *act) {
    int k = p->k, pb = p->chunks * 64, lanes = pb / 4;
    int bsz = block > 0 ? block : k, nblocks = (k + bsz - 1) / bsz;
    int8_t *q = malloc((size_t) k);
    float *d = malloc((size_t) nblocks * sizeof(float));
    for (int m = 0; m < rows; m++) {
        const float *xr = x + (size_t) m * k;
        for (int bi = 0; bi < nblocks; bi++) {
            int from = bi * bsz, to = from + bsz < k ? from + bsz : k;
            float amax = 0;
            for (int e = from; e < to; e++) amax = fmaxf(amax, fabsf(xr[e]));
            float di = static_scale > 0 ? static_scale : (amax == 0 ? 1.0f : amax / 127);
            d[bi] = di;
            for (int e = from; e < to; e++) {
                float v = rintf(xr[e] / di);
                q[e] = (int8_t) (v > 127 ? 127 : v < -127 ? -127 : v);
            }
        }
        uint8_t *base = act + (size_t) m * tamp_act_int_bytes(p);
        int8_t *qlo = (int8_t *) base, *qhi = (int8_t *) (base + pb);
        float *alo = (float *) (base + 2 * (size_t) pb), *ahi = (float *) (base + 3 * (size_t) pb);
        float *slo = (float *) (base + 4 * (size_t) pb), *shi = (float *) (base + 5 * (size_t) pb);
        for (int b = 0; b < pb; b++) {
            int e = p->el_lo[b], h = p->el_hi[b];
            qlo[b] = e < 0 ? 0 : q[e];
            qhi[b] = h < 0 ? 0 : q[h];
        }
        int bl = block > 0 ? block : 0;
        for (int l = 0; l < lanes; l++) {
            lane_stats(p->el_lo, qlo, d, bl, l, &alo[l], &slo[l]);
            lane_stats(p->el_hi, qhi, d, bl, l, &ahi[l], &shi[l]);
        }
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
