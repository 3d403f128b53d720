// AVX2 kernels: a 6×16 register tile (12 ymm accumulators, two vectors of B
// and a broadcast of A per step, all 16 registers) and the matrix–vector paths.
#if defined(__x86_64__)
#include "kernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET

enum { MR = 6, NV = 2, VL = 8, NR = NV * VL };

/// Lanes below `count` (0...8) set, for masked loads and stores.
INLINE __m256i lanes(size_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// The tile for a constant number of rows and B vectors, so that the
/// accumulators live in registers; the last vector is stored under `mask`.
INLINE void tile_rv(const int R, const int V, size_t k, const float *a, size_t lda, const float *b,
                    float *c, size_t ldc, __m256i mask, const ck_epilogue *e) {
    __m256 acc[MR][NV];
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < V; v++) acc[r][v] = _mm256_setzero_ps();
        // The first touch of C would otherwise stall the epilogue.
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
    }
    for (size_t p = 0; p < k; p++) {
        __m256 bv[NV];
        for (int v = 0; v < V; v++) bv[v] = _mm256_load_ps(b + v * VL);
        for (int r = 0; r < R; r++) {
            __m256 ar = _mm256_broadcast_ss(a + r * lda + p);
            for (int v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
        }
        b += V * VL;
    }
    // Locals, so that the stores to C do not force reloads of *e.
    const float *bias_row = e->bias, *residual = e->residual;
    size_t ldr = e->ldr;
    int accumulate = e->beta != 0, clamp = e->clamp;
    __m256 alpha = _mm256_set1_ps(e->alpha), beta = _mm256_set1_ps(e->beta);
    __m256 lo = _mm256_set1_ps(e->lo), hi = _mm256_set1_ps(e->hi);
    __m256i all = _mm256_set1_epi32(-1);
    for (int r = 0; r < R; r++) {
        float *row = c + r * ldc;
        __m256 bias = _mm256_set1_ps(bias_row ? bias_row[r] : 0);
        for (int v = 0; v < V; v++) {
            __m256i m = v == V - 1 ? mask : all;
            __m256 x = _mm256_mul_ps(acc[r][v], alpha);
            if (accumulate) x = _mm256_fmadd_ps(beta, _mm256_maskload_ps(row + v * VL, m), x);
            x = _mm256_add_ps(x, bias);
            if (residual) x = _mm256_add_ps(x, _mm256_maskload_ps(residual + r * ldr + v * VL, m));
            // max/min return the second operand when either is NaN: NaN survives.
            if (clamp) x = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
            _mm256_maskstore_ps(row + v * VL, m, x);
        }
    }
}

#define ROW_CASES(R)                                                        \
    case (R - 1) * NV + 0: tile_rv(R, 1, k, a, lda, b, c, ldc, mask, e); break;  \
    case (R - 1) * NV + 1: tile_rv(R, 2, k, a, lda, b, c, ldc, mask, e); break;

TARGET static void tile(size_t k, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                        size_t rows, size_t cols, const ck_epilogue *e) {
    size_t vectors = (cols + VL - 1) / VL;
    __m256i mask = lanes(cols - (vectors - 1) * VL);
    switch ((rows - 1) * NV + vectors - 1) {
        ROW_CASES(1) ROW_CASES(2) ROW_CASES(3) ROW_CASES(4) ROW_CASES(5) ROW_CASES(6)
    }
}

/// The horizontal sum of a vector.
INLINE float sum8(__m256 x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// The sum of x[0..<k]·v[0..<k], four accumulators to hide FMA latency.
INLINE float dot(size_t k, const float *x, const float *v) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t p = 0;
    for (; p + 4 * VL <= k; p += 4 * VL) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(v + p), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p + VL), _mm256_loadu_ps(v + p + VL), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p + 2 * VL), _mm256_loadu_ps(v + p + 2 * VL), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p + 3 * VL), _mm256_loadu_ps(v + p + 3 * VL), s3);
    }
    for (; p < k; p += VL) {
        __m256i m = lanes(k - p);
        s0 = _mm256_fmadd_ps(_mm256_maskload_ps(x + p, m), _mm256_maskload_ps(v + p, m), s0);
    }
    return sum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

TARGET static void dot_rows(size_t n, size_t k, const float *x, size_t ldx, const float *v, float *y) {
    for (size_t j = 0; j < n; j++) y[j] = dot(k, x + j * ldx, v);
}

TARGET static void axpy_rows(size_t n, size_t k, const float *x, size_t ldx, const float *v, float *y) {
    // Blocks of y small enough to stay in L1 while every row of x streams by.
    enum { BLOCK = 1024 };
    for (size_t j0 = 0; j0 < n; j0 += BLOCK) {
        size_t width = n - j0 < BLOCK ? n - j0 : BLOCK;
        float *out = y + j0;
        for (size_t j = 0; j < width; j++) out[j] = 0;
        for (size_t p = 0; p < k; p++) {
            const float *row = x + p * ldx + j0;
            __m256 s = _mm256_set1_ps(v[p]);
            size_t j = 0;
            for (; j + VL <= width; j += VL) {
                _mm256_storeu_ps(out + j, _mm256_fmadd_ps(s, _mm256_loadu_ps(row + j), _mm256_loadu_ps(out + j)));
            }
            if (j < width) {
                __m256i m = lanes(width - j);
                __m256 sum = _mm256_fmadd_ps(s, _mm256_maskload_ps(row + j, m), _mm256_maskload_ps(out + j, m));
                _mm256_maskstore_ps(out + j, m, sum);
            }
        }
    }
}

const ck_variant ck_variant_avx2 = {
    .name = "avx2",
    .mr = MR, .nr = NR, .vl = VL,
    .mc = 192, .kc = 256, .nc = 768,
    .tile = tile,
    .dot_rows = dot_rows,
    .axpy_rows = axpy_rows,
};
#endif
