// Portable kernels in plain C, for any CPU: a 4×16 tile the compiler may
// vectorise for whatever the build targets, and the matrix–vector paths.
#include "kernels.h"

enum { MR = 4, NR = 16 };

static void tile(size_t k, const float *a, size_t lda, const float *b, float *c, size_t ldc,
                 size_t rows, size_t cols, const ck_epilogue *e) {
    // Packing pads B to the full tile width with zeros, so all columns are
    // computed and only the valid ones stored.
    float acc[MR][NR] = {{0}};
    for (size_t p = 0; p < k; p++) {
        for (size_t r = 0; r < rows; r++) {
            for (int j = 0; j < NR; j++) acc[r][j] += a[r * lda + p] * b[j];
        }
        b += NR;
    }
    for (size_t r = 0; r < rows; r++) {
        float bias = e->bias ? e->bias[r] : 0;
        float *row = c + r * ldc;
        const float *residual = e->residual ? e->residual + r * e->ldr : NULL;
        for (size_t j = 0; j < cols; j++) {
            float x = e->alpha * acc[r][j];
            if (e->beta != 0) x += e->beta * row[j];
            x += bias;
            if (residual) x += residual[j];
            // Comparisons rather than fmaxf/fminf so that NaN passes through.
            if (e->clamp) {
                if (x < e->lo) x = e->lo;
                if (x > e->hi) x = e->hi;
            }
            row[j] = x;
        }
    }
}

static void dot_rows(size_t n, size_t k, const float *x, size_t ldx, const float *v, float *y) {
    enum { LANES = 8 };
    for (size_t j = 0; j < n; j++) {
        const float *row = x + j * ldx;
        // Independent partial sums, which the compiler may keep in a vector;
        // one running sum would serialise every addition.
        float partial[LANES] = {0};
        size_t p = 0;
        for (; p + LANES <= k; p += LANES) {
            for (int l = 0; l < LANES; l++) partial[l] += row[p + l] * v[p + l];
        }
        float sum = 0;
        for (; p < k; p++) sum += row[p] * v[p];
        for (int l = 0; l < LANES; l++) sum += partial[l];
        y[j] = sum;
    }
}

static void axpy_rows(size_t n, size_t k, const float *x, size_t ldx, const float *v, float *y) {
    for (size_t j = 0; j < n; j++) y[j] = 0;
    for (size_t p = 0; p < k; p++) {
        const float *row = x + p * ldx;
        for (size_t j = 0; j < n; j++) y[j] += v[p] * row[j];
    }
}

const ck_variant ck_variant_portable = {
    .name = "portable",
    .mr = MR, .nr = NR, .vl = NR,
    .mc = 128, .kc = 256, .nc = 768,
    .tile = tile,
    .dot_rows = dot_rows,
    .axpy_rows = axpy_rows,
};
