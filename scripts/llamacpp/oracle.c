// tamp's llama.cpp oracle: a small command-line front end over the prebuilt libllama / libggml-base of the npm
// package @node-llama-cpp/linux-x64, so tests can ask llama.cpp itself what a GGUF file means.
//
//   oracle logits   MODEL.gguf OUT.f32 TOKEN...      next-token logits at every position, [tokens][vocab] float32
//   oracle dequant  MODEL.gguf OUT.f32 TENSOR        one tensor decoded by ggml's own to_float, float32
//   oracle quantize IN.gguf OUT.gguf FTYPE [pure]    llama_model_quantize (FTYPE: llama_ftype number)
//   oracle matmul   TYPE LAYERS DIM THREADS REPS     the speed peer of tamp's decode-step bench: one vector through
//                   LAYERS DIM x DIM weights of TYPE (f32, q8_0, q4_0) on ggml's CPU backend, median ms a step (JSON)
//   oracle generate MODEL.gguf TOKENS THREADS        the speed peer of `tamp run`: greedy decoding of TOKENS tokens one at
//                   a time after token 1, llama.cpp's default context (f16 KV cache), ms a token (JSON)
//
// Prints one line "error: ..." and exits 1 on failure; llama.cpp's own log goes to stderr only with ORACLE_VERBOSE.
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ggml-alloc.h"
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include "gguf.h"

// ggml-base exports Q8_K's decoder (ggml-quants.h, not a public header) but leaves it out of the type traits: Q8_K is
// the activation type of k-quant dot products, so ggml never needs to_float for it. dequant uses it directly.
void dequantize_row_q8_K(const void *x, float *y, int64_t k);

static void quiet_log(enum ggml_log_level level, const char *text, void *user) {
    (void) user;
    if (getenv("ORACLE_VERBOSE") || level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "error: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static int write_floats(const char *path, const float *v, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return fail("cannot write", path);
    size_t w = fwrite(v, sizeof(float), n, f);
    if (fclose(f) != 0 || w != n) return fail("short write", path);
    return 0;
}

static void load_backends(const char *self) {
    // the CPU backends are separate libraries chosen at run time (one per ISA level); they live beside this binary
    char dir[4096];
    strncpy(dir, self, sizeof dir - 1);
    dir[sizeof dir - 1] = 0;
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0; else strcpy(dir, ".");
    ggml_backend_load_all_from_path(dir);
}

static int logits(const char *model_path, const char *out, int n, char **tokens) {
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(model_path, mp);
    if (!model) return fail("llama.cpp cannot load", model_path);
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int n_vocab = llama_vocab_n_tokens(vocab);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n < 16 ? 16 : n;
    cp.n_batch = cp.n_ctx;
    cp.n_ubatch = cp.n_ctx;
    const char *threads = getenv("ORACLE_THREADS");
    cp.n_threads = cp.n_threads_batch = threads ? atoi(threads) : 1;
    // By default llama.cpp keeps K and V in f16 and (AUTO) runs CPU flash attention, whose f16 rounding of Q·Kᵀ
    // moves stories260k's F32 logits by up to 1e-2 (measured; 7e-6 without both). An oracle compares the weights'
    // arithmetic, so: f32 cache, no flash attention. ORACLE_KV=f16 / ORACLE_FLASH_ATTN=-1 restore the defaults.
    const char *kv = getenv("ORACLE_KV");
    if (!kv || strcmp(kv, "f16") != 0) cp.type_k = cp.type_v = GGML_TYPE_F32;
    const char *fa = getenv("ORACLE_FLASH_ATTN");
    cp.flash_attn_type = fa ? (enum llama_flash_attn_type) atoi(fa) : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return fail("llama.cpp cannot make a context for", model_path);
    struct llama_batch batch = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        batch.token[i] = atoi(tokens[i]);
        if (batch.token[i] < 0 || batch.token[i] >= n_vocab) return fail("token id outside the vocabulary", tokens[i]);
        batch.pos[i] = i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = n;
    if (llama_decode(ctx, batch) != 0) return fail("llama_decode failed on", model_path);
    float *all = malloc(sizeof(float) * (size_t) n * n_vocab);
    for (int i = 0; i < n; i++) memcpy(all + (size_t) i * n_vocab, llama_get_logits_ith(ctx, i), sizeof(float) * n_vocab);
    int rc = write_floats(out, all, (size_t) n * n_vocab);
    printf("vocab %d tokens %d\n", n_vocab, n);
    free(all);
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    return rc;
}

static int dequant(const char *model_path, const char *out, const char *name) {
    struct gguf_init_params gp = {true, NULL};
    struct gguf_context *g = gguf_init_from_file(model_path, gp);
    if (!g) return fail("ggml cannot read", model_path);
    int64_t id = gguf_find_tensor(g, name);
    if (id < 0) return fail("no such tensor", name);
    enum ggml_type type = gguf_get_tensor_type(g, id);
    size_t bytes = gguf_get_tensor_size(g, id);
    const struct ggml_type_traits *tt = ggml_get_type_traits(type);
    ggml_to_float_t to_float = type == GGML_TYPE_Q8_K ? (ggml_to_float_t) dequantize_row_q8_K : tt->to_float;
    if (!to_float && type != GGML_TYPE_F32) return fail("no decoder for type", tt->type_name);
    size_t n = bytes / tt->type_size * tt->blck_size;
    void *raw = malloc(bytes);
    FILE *f = fopen(model_path, "rb");
    if (!f || fseek(f, (long) (gguf_get_data_offset(g) + gguf_get_tensor_offset(g, id)), SEEK_SET) != 0 || fread(raw, 1, bytes, f) != bytes) {
        return fail("short read of tensor", name);
    }
    fclose(f);
    float *v = malloc(sizeof(float) * n);
    if (type == GGML_TYPE_F32) memcpy(v, raw, bytes); else to_float(raw, v, (int64_t) n);
    int rc = write_floats(out, v, n);
    printf("type %s elements %zu\n", tt->type_name, n);
    free(raw);
    free(v);
    gguf_free(g);
    return rc;
}

static int quantize(const char *in, const char *out, int ftype, int pure) {
    struct llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.ftype = (enum llama_ftype) ftype;
    qp.nthread = 1;
    qp.pure = pure != 0;
    if (llama_model_quantize(in, out, &qp) != 0) return fail("llama_model_quantize failed on", in);
    return 0;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

// Weights are seeded uniform values (speed does not depend on them), quantized by ggml_quantize_chunk. Each step
// starts 30 ms after the last, as tamp's decode-step bench times its own steps (a quiet machine, no spinning pool).
static int matmul(const char *type_name, int layers, int dim, int threads, int reps) {
    enum ggml_type type;
    if (strcmp(type_name, "f32") == 0) type = GGML_TYPE_F32;
    else if (strcmp(type_name, "q8_0") == 0) type = GGML_TYPE_Q8_0;
    else if (strcmp(type_name, "q4_0") == 0) type = GGML_TYPE_Q4_0;
    else return fail("unknown type (f32, q8_0, q4_0)", type_name);
    ggml_backend_t be = ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, NULL);
    if (!be) return fail("no CPU backend", NULL);
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(ggml_backend_get_device(be));
    ggml_backend_set_n_threads_t set_threads = (ggml_backend_set_n_threads_t) ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads");
    if (set_threads) set_threads(be, threads);
    struct ggml_init_params ip = {ggml_tensor_overhead() * (size_t) (2 * layers + 8) + ggml_graph_overhead(), NULL, true};
    struct ggml_context *ctx = ggml_init(ip);
    struct ggml_tensor **w = calloc((size_t) layers, sizeof *w);
    struct ggml_tensor *x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, dim, 1), *y = x;
    for (int l = 0; l < layers; l++) {
        w[l] = ggml_new_tensor_2d(ctx, type, dim, dim);
        y = ggml_mul_mat(ctx, w[l], y);
    }
    struct ggml_cgraph *gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, y);
    if (!ggml_backend_alloc_ctx_tensors(ctx, be)) return fail("cannot allocate the weights", NULL);
    size_t n = (size_t) dim * dim, bytes = ggml_row_size(type, dim) * (size_t) dim;
    float *src = malloc(n * sizeof(float));
    void *dst = malloc(bytes);
    unsigned seed = 7;
    double weight_bytes = 0;
    for (int l = 0; l < layers; l++) {
        for (size_t i = 0; i < n; i++) src[i] = ((seed = seed * 1103515245u + 12345u) >> 8) / 16777216.0f - 0.5f;
        if (type == GGML_TYPE_F32) memcpy(dst, src, bytes);
        else ggml_quantize_chunk(type, src, dst, 0, dim, dim, NULL);
        ggml_backend_tensor_set(w[l], dst, 0, bytes);
        weight_bytes += (double) bytes;
    }
    ggml_backend_tensor_set(x, src, 0, (size_t) dim * sizeof(float));
    free(src);
    free(dst);
    double *t = malloc((size_t) reps * sizeof(double));
    for (int i = 0; i < 3; i++) ggml_backend_graph_compute(be, gf);
    for (int i = 0; i < reps; i++) {
        struct timespec pause = {0, 30 * 1000 * 1000};
        nanosleep(&pause, NULL);
        double t0 = now_ms();
        ggml_backend_graph_compute(be, gf);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t) reps, sizeof(double), cmp_double);
    double med = t[reps / 2];
    printf("{\"bench\":\"decode-step\",\"runtime\":\"llama.cpp\",\"weights\":\"%s\",\"layers\":%d,\"n\":%d,\"k\":%d,\"batch\":1,"
           "\"threads\":%d,\"weight_bytes\":%.0f,\"ms\":%.2f,\"weight_gb_s\":%.2f}\n",
           type_name, layers, dim, dim, threads, weight_bytes, med, weight_bytes / (med / 1e3) / 1e9);
    free(t);
    free(w);
    ggml_free(ctx);
    ggml_backend_free(be);
    return 0;
}

static int generate(const char *model_path, int tokens, int threads) {
    struct llama_model *model = llama_model_load_from_file(model_path, llama_model_default_params());
    if (!model) return fail("llama.cpp cannot load", model_path);
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = tokens + 8;
    cp.n_threads = cp.n_threads_batch = threads;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return fail("llama.cpp cannot make a context for", model_path);
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_token tok = 1;
    double t0 = 0, first = 0;
    for (int i = 0; i < tokens; i++) {
        if (i == 1) t0 = now_ms(); // the first step includes warm-up (graph allocation): timed apart
        double s = now_ms();
        struct llama_batch b = llama_batch_get_one(&tok, 1);
        if (llama_decode(ctx, b) != 0) return fail("llama_decode failed on", model_path);
        const float *lg = llama_get_logits_ith(ctx, -1);
        int best = 0;
        for (int v = 1; v < n_vocab; v++) if (lg[v] > lg[best]) best = v;
        tok = best;
        if (i == 0) first = now_ms() - s;
    }
    double per = tokens > 1 ? (now_ms() - t0) / (tokens - 1) : first;
    printf("{\"bench\":\"generate\",\"runtime\":\"llama.cpp\",\"model\":\"%s\",\"tokens\":%d,\"threads\":%d,"
           "\"first_token_ms\":%.1f,\"ms_per_token\":%.2f,\"tokens_per_s\":%.2f}\n", model_path, tokens, threads, first, per, 1e3 / per);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}

int main(int argc, char **argv) {
    llama_log_set(quiet_log, NULL);
    if (argc >= 4 && strcmp(argv[1], "dequant") == 0 && argc == 5) return dequant(argv[2], argv[3], argv[4]);
    load_backends(argv[0]);
    llama_backend_init();
    if (argc >= 5 && strcmp(argv[1], "logits") == 0) return logits(argv[2], argv[3], argc - 4, argv + 4);
    if (argc == 5 && strcmp(argv[1], "generate") == 0) return generate(argv[2], atoi(argv[3]), atoi(argv[4]));
    if (argc == 7 && strcmp(argv[1], "matmul") == 0) return matmul(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "quantize") == 0) return quantize(argv[2], argv[3], atoi(argv[4]), argc == 6 && strcmp(argv[5], "pure") == 0);
    fprintf(stderr, "usage: oracle logits MODEL OUT.f32 TOKEN... | dequant MODEL OUT.f32 TENSOR | quantize IN OUT FTYPE [pure]"
                    " | matmul TYPE LAYERS DIM THREADS REPS | generate MODEL TOKENS THREADS\n");
    return 2;
}
