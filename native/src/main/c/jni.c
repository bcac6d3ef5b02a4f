/*
 * JNI entry points of dev.tamp.nativekernels.NativeKernels, and the CPU feature check that picks a variant.
 * Arrays are reached with GetPrimitiveArrayCritical (no copies; the kernels neither allocate nor call back into Java).
 */
#include <jni.h>
#include <stdlib.h>
#include <string.h>

#include "tamp_kernels.h"

#define JNI_NAME(name) Java_dev_tamp_nativekernels_NativeKernels_##name

static void throw_iae(JNIEnv *env, const char *msg) {
    jclass c = (*env)->FindClass(env, "java/lang/IllegalArgumentException");
    if (c) (*env)->ThrowNew(env, c, msg);
}

JNIEXPORT jint JNICALL JNI_NAME(cpuIsaCode)(JNIEnv *env, jclass cls) {
    (void) env;
    (void) cls;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
        return TAMP_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return TAMP_ISA_AVX2;
#endif
    return TAMP_ISA_SCALAR;
}

static float *padded_copy(JNIEnv *env, jfloatArray a, size_t n) {
    float *out = calloc(n + 16, sizeof(float));
    if (out) (*env)->GetFloatArrayRegion(env, a, 0, (jsize) n, out);
    return out;
}

static uint8_t *padded_bytes(JNIEnv *env, jbyteArray a, size_t n) {
    uint8_t *out = calloc(n + 16, 1);
    if (out) (*env)->GetByteArrayRegion(env, a, 0, (jsize) n, (jbyte *) out);
    return out;
}

static int32_t *padded_elements(JNIEnv *env, jintArray a, size_t len, size_t padded) {
    int32_t *out = malloc(padded * sizeof(int32_t));
    if (!out) return 0;
    for (size_t i = 0; i < padded; i++) out[i] = -1;
    if (a) (*env)->GetIntArrayRegion(env, a, 0, (jsize) len, out);
    return out;
}

JNIEXPORT jlong JNICALL JNI_NAME(planCreate)(JNIEnv *env, jclass cls, jint isa, jint bits, jint n, jint k, jint group, jint block,
                                             jint row_bytes, jboolean flip, jobject codes, jlong codes_offset,
                                             jfloatArray scales, jbyteArray zeros, jintArray el_lo, jintArray el_hi,
                                             jbyteArray lut) {
    (void) cls;
    uint8_t *base = (*env)->GetDirectBufferAddress(env, codes);
    if (!base) {
        throw_iae(env, "codes are not in a direct buffer");
        return 0;
    }
    tamp_plan *p = calloc(1, sizeof(tamp_plan));
    if (!p) {
        throw_iae(env, "out of native memory for the plan");
        return 0;
    }
    p->isa = isa;
    p->bits = bits;
    p->n = n;
    p->k = k;
    p->row_bytes = row_bytes;
    p->chunks = (row_bytes + 63) / 64;
    p->flip = flip ? 1 : 0;
    p->codes = base + codes_offset;
    if (lut) {
        if ((*env)->GetArrayLength(env, lut) != 16 || bits != 4) {
            free(p);
            throw_iae(env, "a code table has 16 entries and is for 4-bit codes");
            return 0;
        }
        (*env)->GetByteArrayRegion(env, lut, 0, 16, (jbyte *) p->lut);
        for (int i = 0; i < 16; i++)
            if (p->lut[i] > 127) {
                free(p);
                throw_iae(env, "code table entries must be at most 127");
                return 0;
            }
        p->mapped = 1;
    }
    int g = group <= 0 || group > k ? k : group;
    p->groups = (k + g - 1) / g;
    size_t sz = (size_t) n * p->groups, pb = (size_t) p->chunks * 64;
    p->scales = padded_copy(env, scales, sz);
    p->zeros = padded_bytes(env, zeros, sz);
    p->el_lo = padded_elements(env, el_lo, (size_t) row_bytes, pb);
    p->el_hi = padded_elements(env, el_hi, el_hi ? (size_t) row_bytes : 0, pb);
    const char *err = p->scales && p->zeros && p->el_lo && p->el_hi ? tamp_plan_init(p, g, block) : "out of native memory for the plan";
    if (!err && isa == TAMP_ISA_AVX2)
        for (int i = 0; i < p->chunks * 16; i++)
            if (p->idx_lo[i] > 7 || p->idx_hi[i] > 7) err = "a 64-byte chunk of codes spans more than 8 weight groups (AVX2 kernels)";
    if (err) {
        tamp_plan_free(p);
        throw_iae(env, err);
        return 0;
    }
    return (jlong) (intptr_t) p;
}

JNIEXPORT void JNICALL JNI_NAME(planFree)(JNIEnv *env, jclass cls, jlong plan) {
    (void) env;
    (void) cls;
    if (plan) tamp_plan_free((tamp_plan *) (intptr_t) plan);
}

JNIEXPORT jint JNICALL JNI_NAME(actIntBytes)(JNIEnv *env, jclass cls, jlong plan) {
    (void) env;
    (void) cls;
    return (jint) tamp_act_int_bytes((const tamp_plan *) (intptr_t) plan);
}

JNIEXPORT jint JNICALL JNI_NAME(actFloatLength)(JNIEnv *env, jclass cls, jlong plan) {
    (void) env;
    (void) cls;
    return (jint) tamp_act_float_len((const tamp_plan *) (intptr_t) plan);
}

JNIEXPORT void JNICALL JNI_NAME(prepareInt)(JNIEnv *env, jclass cls, jlong plan, jfloatArray x, jint row0, jint rows, jint block,
                                            jfloat static_scale, jbyteArray act) {
    (void) cls;
    if ((block > 0 ? block : 0) != ((const tamp_plan *) (intptr_t) plan)->block) {
        throw_iae(env, "activations quantized in blocks other than the plan's");
        return;
    }
    float *xp = (*env)->GetPrimitiveArrayCritical(env, x, 0);
    uint8_t *ap = (*env)->GetPrimitiveArrayCritical(env, act, 0);
    tamp_prepare_int((const tamp_plan *) (intptr_t) plan, xp, row0, rows, block, static_scale, ap);
    (*env)->ReleasePrimitiveArrayCritical(env, act, ap, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, x, xp, JNI_ABORT);
}

JNIEXPORT void JNICALL JNI_NAME(prepareFloat)(JNIEnv *env, jclass cls, jlong plan, jfloatArray x, jint rows, jfloatArray act) {
    (void) cls;
    float *xp = (*env)->GetPrimitiveArrayCritical(env, x, 0);
    float *ap = (*env)->GetPrimitiveArrayCritical(env, act, 0);
    tamp_prepare_float((const tamp_plan *) (intptr_t) plan, xp, rows, ap);
    (*env)->ReleasePrimitiveArrayCritical(env, act, ap, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, x, xp, JNI_ABORT);
}

JNIEXPORT void JNICALL JNI_NAME(gemvInt)(JNIEnv *env, jclass cls, jlong plan, jbyteArray act, jint rows, jfloatArray out, jint r0, jint r1) {
    (void) cls;
    const tamp_plan *p = (const tamp_plan *) (intptr_t) plan;
    uint8_t *ap = (*env)->GetPrimitiveArrayCritical(env, act, 0);
    float *op = (*env)->GetPrimitiveArrayCritical(env, out, 0);
    switch (p->isa) {
        case TAMP_ISA_AVX512: tamp_gemv_int_avx512(p, ap, rows, op, r0, r1); break;
        case TAMP_ISA_AVX2: tamp_gemv_int_avx2(p, ap, rows, op, r0, r1); break;
        default: tamp_gemv_int_scalar(p, ap, rows, op, r0, r1);
    }
    (*env)->ReleasePrimitiveArrayCritical(env, out, op, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, act, ap, JNI_ABORT);
}

JNIEXPORT void JNICALL JNI_NAME(gemvFloat)(JNIEnv *env, jclass cls, jlong plan, jfloatArray act, jint rows, jfloatArray out, jint r0, jint r1) {
    (void) cls;
    const tamp_plan *p = (const tamp_plan *) (intptr_t) plan;
    float *ap = (*env)->GetPrimitiveArrayCritical(env, act, 0);
    float *op = (*env)->GetPrimitiveArrayCritical(env, out, 0);
    switch (p->isa) {
        case TAMP_ISA_AVX512: tamp_gemv_float_avx512(p, ap, rows, op, r0, r1); break;
        case TAMP_ISA_AVX2: tamp_gemv_float_avx2(p, ap, rows, op, r0, r1); break;
        default: tamp_gemv_float_scalar(p, ap, rows, op, r0, r1);
    }
    (*env)->ReleasePrimitiveArrayCritical(env, out, op, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, act, ap, JNI_ABORT);
}

JNIEXPORT void JNICALL JNI_NAME(gemvBf16)(JNIEnv *env, jclass cls, jint isa, jobject w, jlong offset, jint n, jint k, jfloatArray x,
                                          jint rows, jfloatArray out, jint r0, jint r1) {
    (void) cls;
    const uint16_t *wp = (const uint16_t *) ((const uint8_t *) (*env)->GetDirectBufferAddress(env, w) + offset);
    float *xp = (*env)->GetPrimitiveArrayCritical(env, x, 0);
    float *op = (*env)->GetPrimitiveArrayCritical(env, out, 0);
    switch (isa) {
        case TAMP_ISA_AVX512: tamp_gemv_bf16_avx512(wp, n, k, xp, rows, op, r0, r1); break;
        case TAMP_ISA_AVX2: tamp_gemv_bf16_avx2(wp, n, k, xp, rows, op, r0, r1); break;
        default: tamp_gemv_bf16_scalar(wp, n, k, xp, rows, op, r0, r1);
    }
    (*env)->ReleasePrimitiveArrayCritical(env, out, op, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, x, xp, JNI_ABORT);
}

/*
 * Row operations: arrays with offsets (a thread's rows of a larger tensor), AVX-512 only (the Java path serves elsewhere).
 * Every array is taken and released on its own, even where the caller passes one array twice (in place): JNI handles
 * of the same array compare unequal, and a skipped release leaves the GC locked out for good (found here: a test run hung
 * with every other thread stalled in GCLocker::jni_lock).
 */
JNIEXPORT void JNICALL JNI_NAME(gelu)(JNIEnv *env, jclass cls, jfloatArray in, jfloatArray out, jint from, jint to) {
    (void) cls;
    float *ip = (*env)->GetPrimitiveArrayCritical(env, in, 0);
    float *op = (*env)->GetPrimitiveArrayCritical(env, out, 0);
    tamp_gelu_avx512(ip + from, op + from, to - from);
    (*env)->ReleasePrimitiveArrayCritical(env, out, op, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, in, ip, JNI_ABORT);
}

JNIEXPORT void JNICALL JNI_NAME(softmaxRows)(JNIEnv *env, jclass cls, jfloatArray x, jint n, jint row0, jint row1) {
    (void) cls;
    float *xp = (*env)->GetPrimitiveArrayCritical(env, x, 0);
    tamp_softmax_rows_avx512(xp + (size_t) row0 * n, n, row1 - row0);
    (*env)->ReleasePrimitiveArrayCritical(env, x, xp, 0);
}

JNIEXPORT void JNICALL JNI_NAME(layerNormRows)(JNIEnv *env, jclass cls, jfloatArray x, jfloatArray scale, jfloatArray bias, jfloatArray out,
                                               jint d, jfloat eps, jint row0, jint row1, jfloatArray means, jfloatArray inv_stds) {
    (void) cls;
    float *xp = (*env)->GetPrimitiveArrayCritical(env, x, 0);
    float *sp = (*env)->GetPrimitiveArrayCritical(env, scale, 0);
    float *bp = bias ? (*env)->GetPrimitiveArrayCritical(env, bias, 0) : 0;
    float *op = (*env)->GetPrimitiveArrayCritical(env, out, 0);
    float *mp = (*env)->GetPrimitiveArrayCritical(env, means, 0);
    float *ivp = (*env)->GetPrimitiveArrayCritical(env, inv_stds, 0);
    tamp_layer_norm_rows_avx512(xp + (size_t) row0 * d, sp, bp, op + (size_t) row0 * d, d, eps, row1 - row0, mp + row0, ivp + row0);
    (*env)->ReleasePrimitiveArrayCritical(env, inv_stds, ivp, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, means, mp, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, out, op, 0);
    if (bp) (*env)->ReleasePrimitiveArrayCritical(env, bias, bp, JNI_ABORT);
    (*env)->ReleasePrimitiveArrayCritical(env, scale, sp, JNI_ABORT);
    (*env)->ReleasePrimitiveArrayCritical(env, x, xp, JNI_ABORT);
}

JNIEXPORT void JNICALL JNI_NAME(gemmNN)(JNIEnv *env, jclass cls, jfloatArray a, jint a_off, jfloatArray b, jint b_off, jfloatArray out,
                                        jint out_off, jint m, jint n, jint k) {
    (void) cls;
    float *ap = (*env)->GetPrimitiveArrayCritical(env, a, 0);
    float *bp = (*env)->GetPrimitiveArrayCritical(env, b, 0);
    float *op = (*env)->GetPrimitiveArrayCritical(env, out, 0);
    tamp_gemm_nn_avx512(ap + a_off, bp + b_off, op + out_off, m, n, k);
    (*env)->ReleasePrimitiveArrayCritical(env, out, op, 0);
    (*env)->ReleasePrimitiveArrayCritical(env, b, bp, JNI_ABORT);
    (*env)->ReleasePrimitiveArrayCritical(env, a, ap, JNI_ABORT);
}
