// AVX-512 kernels: an 8×48 register tile (24 zmm accumulators, three
// vectors of B and a broadcast of A per step) and the matrix–vector paths.
#if defined(__x86_64__)
#include "kernels.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define INLINE static inline __attribute__((always_inline)) TARGET

enum { MR = 8, NV = 3, VL = 16, NR = NV * VL };

/// The tile for a constant number of rows and B vectors, so that the
/// accumulators live in registers; the last vector is stored under `mask`.
INLINE void tile_rv(const int R, const int V, size_t k, const float *a, size_t lda, const float *b,
                    float *c, size_t ldc, __mmask16 mask, const ck_epilogue *e) {
    __m512 acc[MR][NV];
    for (int r = 0; r < R; r++) {
        for (int v = 0; v < V; v++) acc[r][v] = _mm512_setzero_ps();
        // The first touch of C would otherwise stall the epilogue.
        for (int v = 0; v < V; v++) _mm_prefetch((const char *)(c + r * ldc + v * VL), _MM_HINT_T0);
    }
    // A is read in place, so the next tile's rows may be anywhere in memory:
    // request them while this tile computes, one cache line every other
    // step, which covers its k columns by the end of the loop.
    const float *next = a + R * lda;
    for (size_t p = 0; p < k; p++) {
        size_t line = p / 2;
        if (R == MR && p % 2 == 0) _mm_prefetch((const char *)(next + line % MR * lda + line / MR * VL), _MM_HINT_T0);
        __m512 bv[NV];
        for (int v = 0; v < V; v++) bv[v] = _mm512_load_ps(b + v * VL);
        for (int r = 0; r < R; r++) {
            __m512 ar = _mm512_set1_ps(a[r * lda + p]);
            for (int v = 0; v < V; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
        b += V * VL;
    }
    // Locals, so that the stores to C do not force reloads of *e.
    const float *bias_row = e->bias, *residual = e->residual;
    size_t ldr = e->ldr;
    int accumulate = e->beta != 0, clamp = e->clamp;
    __m512 alpha = _mm512_set1_ps(e->alpha), beta = _mm512_set1_ps(e->beta);
    __m512 lo = _mm512_set1_ps(e->lo), hi = _mm512_set1_ps(e->hi);
    for (int r = 0; r < R; r++) {
        float *row = c + r * ldc;
        __m512 bias = _mm512_set1_ps(bias_row ? bias_row[r] : 0);
        for (int v = 0; v < V; v++) {
            __mmask16 m = v == V - 1 ? mask : 0xFFFF;
            __m512 x = _mm512_mul_ps(acc[r][v], alpha);
            if (accumulate) x = _mm512_fmadd_ps(beta, _mm512_maskz_loadu_ps(m, row + v * VL), x);
            x = _mm512_add_ps(x, bias);
            if (residual) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, residual + r * ldr + v * VL));
            // max/min return the second operand when either is NaN: NaN survives.
            if (clamp) x = _mm512_min_ps(hi, _mm512_max_ps(lo, x));
            _mm512_mask_storeu_ps(row + v * VL, m, x);
        }
    }
}

#define ROW_CASES(R)                                                        \
    case (R - 1) * NV + 0: tile_rv(R, 1, k, a, lda, b, c, ldc, mask, e); break;  \
    case (R - 1) * NV + 1: tile_rv(R, 2, k, a, lda, b, c, ldc, mask, e); break;  \
    case (R - 1) * NV + 2: tile_rv(R, 3, k, a, lda, b, c, ldc, mask, e); break;

TARGET static void tile(size_t k, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                        size_t rows, size_t cols, const ck_epilogue *e) {
    size_t vectors = (cols + VL - 1) / VL;
    __mmask16 mask = (__mmask16)(0xFFFFu >> (vectors * VL - cols));
    switch ((rows - 1) * NV + vectors - 1) {
        ROW_CASES(1) ROW_CASES(2) ROW_CASES(3) ROW_CASES(4)
        ROW_CASES(5) ROW_CASES(6) ROW_CASES(7) ROW_CASES(8)
    }
}

/// The sum of x[0..<k]·v[0..<k], four accumulators to hide FMA latency.
INLINE float dot(size_t k, const float *x, const float *v) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t p = 0;
    for (; p + 4 * VL <= k; p += 4 * VL) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + p), _mm512_loadu_ps(v + p), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + p + VL), _mm512_loadu_ps(v + p + VL), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + p + 2 * VL), _mm512_loadu_ps(v + p + 2 * VL), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + p + 3 * VL), _mm512_loadu_ps(v + p + 3 * VL), s3);
    }
    for (; p < k; p += VL) {
        __mmask16 m = k - p >= VL ? 0xFFFF : (__mmask16)((1u << (k - p)) - 1);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + p), _mm512_maskz_loadu_ps(m, v + p), s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
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
            __m512 s = _mm512_set1_ps(v[p]);
            for (size_t j = 0; j < width; j += VL) {
                __mmask16 m = width - j >= VL ? 0xFFFF : (__mmask16)((1u << (width - j)) - 1);
                __m512 sum = _mm512_fmadd_ps(s, _mm512_maskz_loadu_ps(m, row + j), _mm512_maskz_loadu_ps(m, out + j));
                _mm512_mask_storeu_ps(out + j, m, sum);
            }
        }
    }
}

const ck_variant ck_variant_avx512 = {
    .name = "avx512",
    .mr = MR, .nr = NR, .vl = VL,
    .mc = 256, .kc = 256, .nc = 768,
    .tile = tile,
    .dot_rows = dot_rows,
    .axpy_rows = axpy_rows,
};
#endif
