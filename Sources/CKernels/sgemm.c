// The GEMM driver: cache blocking, packing, the special shapes and the
// public entry points.
//
// The loop nest is the Goto/BLIS one, except that A is read in place, as
// onnxruntime's MLAS does. For each kc×nc panel of op(B), packed into
// nr-wide strips padded with zeros (kept in L2), the tile loop walks the
// mr-row tiles of an mc×kc block of A (also in L2) under one kc×nr strip of
// B. Packing B makes every layout of B look the same to the micro-kernel
// and lets it compute whole vectors at the right edge. A is not packed: in a
// convolution it is the weights, read once per product, and copying them
// cost as much as the product on the wide layers; the micro-kernel
// prefetches the next tile's rows instead. Only a transposed A is copied,
// into row-major blocks.
#include "CKernels.h"
#include "kernels.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// Up to this many rows of op(A), a product with a transposed B is cheaper as
// dot products than as a blocked product (measured on fully connected shapes).
enum { FEW_ROWS = 16 };

// MARK: - Per-thread scratch

// One growing buffer per thread, freed when the thread exits, so concurrent
// callers never share packing space and repeated calls never allocate.
typedef struct scratch {
    size_t capacity;   // in floats
    float *data;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *pointer) {
    scratch *s = pointer;
    free(s->data);
    free(s);
}

static void scratch_make_key(void) {
    pthread_key_create(&scratch_key, scratch_free);
}

/// At least `floats` floats, 64-byte aligned, owned by this thread until its
/// next call; NULL if memory is exhausted.
static float *scratch_floats(size_t floats) {
    pthread_once(&scratch_once, scratch_make_key);
    scratch *s = pthread_getspecific(scratch_key);
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->capacity < floats) {
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        float *data = aligned_alloc(64, bytes);
        if (data == NULL) return NULL;
        free(s->data);
        s->data = data;
        s->capacity = bytes / sizeof(float);
    }
    return s->data;
}

// MARK: - Helpers

static inline size_t min_size(size_t a, size_t b) { return a < b ? a : b; }
static inline size_t round_up(size_t a, size_t step) { return (a + step - 1) / step * step; }

/// The epilogue applied to C[i][j], for the paths that do not use tiles
/// (their epilogue's bias and residual start at C's first row and column).
/// Comparisons rather than fmaxf/fminf so that NaN passes through, as in the
/// vector kernels.
static inline float finish(float acc, const float *c, size_t i, size_t j, const ck_epilogue *e) {
    float x = e->alpha * acc;
    if (e->beta != 0) x += e->beta * *c;
    if (e->bias) x += e->bias[i];
    if (e->residual) x += e->residual[i * e->ldr + j];
    if (e->clamp) {
        if (x < e->lo) x = e->lo;
        if (x > e->hi) x = e->hi;
    }
    return x;
}

// MARK: - Packing

/// out[c·ldo + r] = in[r·ldi + c] for r < rows, c < cols. In 16×16 blocks,
/// so that the lines read and written stay in L1 while a block is copied.
static void transpose(const float *in, size_t ldi, size_t rows, size_t cols, float *out, size_t ldo) {
    enum { BLOCK = 16 };
    for (size_t r0 = 0; r0 < rows; r0 += BLOCK) {
        size_t r1 = min_size(r0 + BLOCK, rows);
        for (size_t c0 = 0; c0 < cols; c0 += BLOCK) {
            size_t c1 = min_size(c0 + BLOCK, cols);
            for (size_t r = r0; r < r1; r++) {
                for (size_t c = c0; c < c1; c++) out[c * ldo + r] = in[r * ldi + c];
            }
        }
    }
}

/// Packs op(B) (k×n, starting at `b`) into strips nr wide, the last one
/// round_up(cols, vl) wide: for each step p, the strip's values of row p are
/// contiguous; columns past n are zero.
static void pack_b(size_t nr, size_t vl, int trans, const float *b, size_t ldb, size_t k, size_t n, float *out) {
    for (size_t j = 0; j < n; j += nr) {
        size_t cols = min_size(nr, n - j);
        size_t width = cols == nr ? nr : round_up(cols, vl);
        if (trans) {
            // op(B) is Bᵀ: the strip is the transpose of B's rows j...j+cols.
            transpose(b + j * ldb, ldb, cols, k, out, width);
            for (size_t p = 0; p < k; p++) memset(out + p * width + cols, 0, (width - cols) * sizeof(float));
        } else if (cols == width) {
            // Full strips, nearly all of them: no padding to clear.
            for (size_t p = 0; p < k; p++) memcpy(out + p * width, b + p * ldb + j, cols * sizeof(float));
        } else {
            for (size_t p = 0; p < k; p++) {
                memcpy(out + p * width, b + p * ldb + j, cols * sizeof(float));
                memset(out + p * width + cols, 0, (width - cols) * sizeof(float));
            }
        }
        out += width * k;
    }
}

// MARK: - Paths

/// C = epilogue(0): for K = 0 or alpha = 0, where A and B are not read.
static void scale_only(size_t m, size_t n, float *c, size_t ldc, const ck_epilogue *e) {
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) c[i * ldc + j] = finish(0, c + i * ldc + j, i, j, e);
    }
}

/// C = op(A)·Bᵀ for a few rows of op(A), as in a fully connected layer at a
/// small batch: each row of B is read once and dotted with every row of
/// op(A) while it is in L1. Transposing B into packed strips would cost more
/// than the product itself. Returns 0 if scratch memory is exhausted.
static int rows_times_transposed(const ck_variant *v, int transA, size_t M, size_t N, size_t K,
                                 const float *A, size_t lda, const float *B, size_t ldb,
                                 float *C, size_t ldc, const ck_epilogue *e) {
    float *y = scratch_floats(M + (transA ? M * K : 0));
    if (y == NULL) return 0;
    if (transA) {
        transpose(A, lda, K, M, y + M, K);
        A = y + M;
        lda = K;
    }
    for (size_t j = 0; j < N; j++) {
        v->dot_rows(M, K, A, lda, B + j * ldb, y);
        for (size_t i = 0; i < M; i++) C[i * ldc + j] = finish(y[i], C + i * ldc + j, i, j, e);
    }
    return 1;
}

/// A matrix–vector product (M = 1 or N = 1). Packing would cost more than
/// the product, which reads each matrix element once; these paths read it
/// once, in its own layout. Returns 0 if scratch memory is exhausted.
static int gemv(const ck_variant *v, int transA, int transB, size_t M, size_t N, size_t K,
                const float *A, size_t lda, const float *B, size_t ldb,
                float *C, size_t ldc, const ck_epilogue *e) {
    // The vector operand is gathered into a contiguous copy; the result is
    // computed into scratch and then finished into C with its stride.
    size_t n = M == 1 ? N : M;
    float *vector = scratch_floats(K + n);
    if (vector == NULL) return 0;
    float *y = vector + K;
    if (M == 1) {
        // op(B)[p][j] is B[p·ldb + j] (the transposed case goes to rows_times_transposed).
        for (size_t p = 0; p < K; p++) vector[p] = transA ? A[p * lda] : A[p];
        v->axpy_rows(N, K, B, ldb, vector, y);
        for (size_t j = 0; j < N; j++) C[j] = finish(y[j], C + j, 0, j, e);
    } else {
        for (size_t p = 0; p < K; p++) vector[p] = transB ? B[p] : B[p * ldb];
        if (transA) v->axpy_rows(M, K, A, lda, vector, y);
        else v->dot_rows(M, K, A, lda, vector, y);
        for (size_t i = 0; i < M; i++) C[i * ldc] = finish(y[i], C + i * ldc, i, 0, e);
    }
    return 1;
}

/// The block size that splits `total` into equal blocks of at most about
/// `limit`, rounded up to a multiple of `step`: a short last block would
/// cost a whole extra pass over C (for K) or over A (for N).
static size_t balanced(size_t total, size_t limit, size_t step) {
    size_t blocks = (total + limit - 1) / limit;
    return round_up((total + blocks - 1) / blocks, step);
}

/// The blocked product. Returns 0 if scratch memory is exhausted.
static int blocked(const ck_variant *v, int transA, int transB, size_t M, size_t N, size_t K,
                   const float *A, size_t lda, const float *B, size_t ldb,
                   float *C, size_t ldc, const ck_epilogue *final) {
    size_t mr = v->mr, nr = v->nr;
    size_t kc_max = balanced(K, v->kc, 1), nc_max = balanced(N, v->nc, nr), mc_max = balanced(M, v->mc, mr);
    size_t b_floats = kc_max * nc_max;
    float *packed_b = scratch_floats(b_floats + (transA ? kc_max * mc_max : 0));
    if (packed_b == NULL) return 0;
    float *packed_a = packed_b + b_floats;

    for (size_t jc = 0; jc < N; jc += nc_max) {
        size_t nc = min_size(nc_max, N - jc);
        for (size_t pc = 0; pc < K; pc += kc_max) {
            size_t kc = min_size(kc_max, K - pc);
            pack_b(nr, v->vl, transB, transB ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kc, nc, packed_b);
            // Earlier panels of K have stored partial sums in C: add to them,
            // and apply bias, residual and activation only after the last panel.
            int last = pc + kc == K;
            ck_epilogue e = *final;
            if (pc > 0) e.beta = 1;
            if (!last) e.clamp = 0;
            for (size_t ic = 0; ic < M; ic += mc_max) {
                size_t mc = min_size(mc_max, M - ic);
                // Row-major A is read in place; only a transposed A is copied.
                const float *a = A + ic * lda + pc;
                size_t a_stride = lda;
                if (transA) {
                    transpose(A + pc * lda + ic, lda, kc, mc, packed_a, kc);
                    a = packed_a;
                    a_stride = kc;
                }
                for (size_t jr = 0; jr < nc; jr += nr) {
                    size_t cols = min_size(nr, nc - jr);
                    const float *b = packed_b + jr * kc;
                    for (size_t ir = 0; ir < mc; ir += mr) {
                        size_t rows = min_size(mr, mc - ir);
                        size_t i = ic + ir, j = jc + jr;
                        e.bias = last && final->bias ? final->bias + i : NULL;
                        e.residual = last && final->residual ? final->residual + i * final->ldr + j : NULL;
                        v->tile(kc, a + ir * a_stride, a_stride, b, C + (ic + ir) * ldc + jc + jr, ldc, rows, cols, &e);
                    }
                }
            }
        }
    }
    return 1;
}

// MARK: - Products with B packed once

/// The width of op(B) once packed: N columns in strips of nr, the last one
/// padded to whole vectors.
static size_t packed_width(const ck_variant *v, size_t N) {
    return N / v->nr * v->nr + (N % v->nr ? round_up(N % v->nr, v->vl) : 0);
}

/// The packed layout: for each panel of up to kc rows of op(B), as the
/// blocked product takes them, every strip of that panel in turn, as pack_b
/// writes them. Panel p starts at p·kc_max·width, and strip s of a panel of
/// kc rows at s·nr·kc within it (every strip before the last is full).
static void packed_product(const ck_variant *v, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                           const float *packed, float beta, float *C, size_t ldc, size_t j0, size_t j1) {
    size_t mr = v->mr, nr = v->nr;
    ck_epilogue final = {.alpha = alpha, .beta = beta};
    size_t kc_max = balanced(K, v->kc, 1), mc_max = balanced(M, v->mc, mr), width = packed_width(v, N);
    for (size_t pc = 0; pc < K; pc += kc_max) {
        size_t kc = min_size(kc_max, K - pc);
        const float *panel = packed + pc * width;
        ck_epilogue e = final;
        if (pc > 0) e.beta = 1;
        for (size_t ic = 0; ic < M; ic += mc_max) {
            size_t mc = min_size(mc_max, M - ic);
            const float *a = A + ic * lda + pc;
            for (size_t j = j0; j < j1; j += nr) {
                size_t cols = min_size(nr, j1 - j);
                const float *b = panel + j / nr * nr * kc;
                for (size_t ir = 0; ir < mc; ir += mr) {
                    v->tile(kc, a + ir * lda, lda, b, C + (ic + ir) * ldc + j, ldc, min_size(mr, mc - ir), cols, &e);
                }
            }
        }
    }
}

size_t ck_sgemm_packed_floats(size_t K, size_t N) {
    size_t floats;
    if (__builtin_mul_overflow(packed_width(ck_variant_selected(), N), K, &floats)) return 0;
    return floats;
}

void ck_sgemm_pack(int transB, size_t K, size_t N, const float *B, size_t ldb, float *packed) {
    const ck_variant *v = ck_variant_selected();
    size_t kc_max = balanced(K, v->kc, 1), width = packed_width(v, N);
    for (size_t pc = 0; pc < K; pc += kc_max) {
        size_t kc = min_size(kc_max, K - pc);
        pack_b(v->nr, v->vl, transB, transB ? B + pc : B + pc * ldb, ldb, kc, N, packed + pc * width);
    }
}

void ck_sgemm_packed(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda, const float *packed,
                     float beta, float *C, size_t ldc, size_t j0, size_t j1) {
    if (j1 > N) j1 = N;
    if (M == 0 || j0 >= j1) return;
    if (K == 0 || alpha == 0) {
        ck_epilogue e = {.alpha = 0, .beta = beta};
        scale_only(M, j1 - j0, C + j0, ldc, &e);
        return;
    }
    packed_product(ck_variant_selected(), M, N, K, alpha, A, lda, packed, beta, C, ldc, j0, j1);
}

/// A slow path that needs no scratch memory, for when allocation fails.
static void naive(int transA, int transB, size_t M, size_t N, size_t K,
                  const float *A, size_t lda, const float *B, size_t ldb,
                  float *C, size_t ldc, const ck_epilogue *e) {
    for (size_t i = 0; i < M; i++) {
        for (size_t j = 0; j < N; j++) {
            float sum = 0;
            for (size_t p = 0; p < K; p++) {
                sum += (transA ? A[p * lda + i] : A[i * lda + p]) * (transB ? B[j * ldb + p] : B[p * ldb + j]);
            }
            C[i * ldc + j] = finish(sum, C + i * ldc + j, i, j, e);
        }
    }
}

static void sgemm(const ck_variant *v, int transA, int transB, size_t M, size_t N, size_t K,
                  float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                  float beta, float *C, size_t ldc, const float *bias, const float *residual, size_t ldr,
                  ck_activation activation, float clip_min, float clip_max) {
    if (M == 0 || N == 0) return;
    ck_epilogue e = {
        .alpha = alpha, .beta = beta, .bias = bias, .residual = residual, .ldr = ldr,
        .clamp = activation == CK_ACTIVATION_RELU || activation == CK_ACTIVATION_CLIP,
        .lo = activation == CK_ACTIVATION_CLIP ? clip_min : 0,
        .hi = activation == CK_ACTIVATION_CLIP ? clip_max : INFINITY,
    };
    if (K == 0 || alpha == 0) {
        e.alpha = 0;
        scale_only(M, N, C, ldc, &e);
        return;
    }
    int done;
    if (transB && M <= FEW_ROWS) {
        done = rows_times_transposed(v, transA, M, N, K, A, lda, B, ldb, C, ldc, &e);
    } else if (M == 1 || N == 1) {
        done = gemv(v, transA, transB, M, N, K, A, lda, B, ldb, C, ldc, &e);
    } else {
        done = blocked(v, transA, transB, M, N, K, A, lda, B, ldb, C, ldc, &e);
    }
    if (!done) naive(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, &e);
}

// MARK: - Public API

void ck_sgemm(int transA, int transB, size_t M, size_t N, size_t K,
              float alpha, const float *A, size_t lda, const float *B, size_t ldb,
              float beta, float *C, size_t ldc) {
    sgemm(ck_variant_selected(), transA, transB, M, N, K,
          alpha, A, lda, B, ldb, beta, C, ldc, NULL, NULL, 0, CK_ACTIVATION_NONE, 0, 0);
}

void ck_sgemm_fused(int transA, int transB, size_t M, size_t N, size_t K,
                    float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                    float beta, float *C, size_t ldc,
                    const float *bias, const float *residual, size_t ldr,
                    ck_activation activation, float clip_min, float clip_max) {
    sgemm(ck_variant_selected(), transA, transB, M, N, K,
          alpha, A, lda, B, ldb, beta, C, ldc, bias, residual, ldr, activation, clip_min, clip_max);
}

void ck_sgemm_fused_with_kernel(ck_kernel kernel, int transA, int transB, size_t M, size_t N, size_t K,
                                float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                                float beta, float *C, size_t ldc,
                                const float *bias, const float *residual, size_t ldr,
                                ck_activation activation, float clip_min, float clip_max) {
    const ck_variant *v = ck_variant_for(kernel);
    if (v == NULL) v = &ck_variant_portable;
    sgemm(v, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
          bias, residual, ldr, activation, clip_min, clip_max);
}

void ck_sgemm_with_kernel(ck_kernel kernel, int transA, int transB, size_t M, size_t N, size_t K,
                          float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                          float beta, float *C, size_t ldc,
                          const float *bias, ck_activation activation, float clip_min, float clip_max) {
    ck_sgemm_fused_with_kernel(kernel, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc,
                               bias, NULL, 0, activation, clip_min, clip_max);
}

void ck_transpose_f32(const float *in, size_t ldi, size_t rows, size_t cols, float *out, size_t ldo) {
    transpose(in, ldi, rows, cols, out, ldo);
}

size_t ck_sgemm_column_step(void) {
    return ck_variant_selected()->nr;
}

size_t ck_sgemm_transposed_in_place_rows(void) {
    return FEW_ROWS;
}

size_t ck_sgemm_row_step(void) {
    return ck_variant_selected()->mr;
}

size_t ck_sgemm_vector_floats(void) {
    return ck_variant_selected()->vl;
}
