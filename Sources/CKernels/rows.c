// Reductions along contiguous rows of float32: the means of global average
// pooling and the statistics of layer normalisation. Sums run in 8 float64
// lanes, which the compiler vectorises, so that a long row loses nothing to
// rounding and a short one is still one pass of vector adds.
#include "CKernels.h"

#include <math.h>

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

enum { LANES = 8 };

/// Σ x[j] for j < n, in float64.
static inline double row_sum(const float *x, size_t n) {
    double sums[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) {
        for (size_t k = 0; k < LANES; k++) sums[k] += x[j + k];
    }
    for (; j < n; j++) sums[0] += x[j];
    double sum = 0;
    for (size_t k = 0; k < LANES; k++) sum += sums[k];
    return sum;
}

/// Σ (x[j] − center)² for j < n, in float64.
static inline double row_squares(const float *x, size_t n, double center) {
    double sums[LANES] = {0};
    size_t j = 0;
    for (; j + LANES <= n; j += LANES) {
        for (size_t k = 0; k < LANES; k++) {
            double d = x[j + k] - center;
            sums[k] += d * d;
        }
    }
    for (; j < n; j++) {
        double d = x[j] - center;
        sums[0] += d * d;
    }
    double sum = 0;
    for (size_t k = 0; k < LANES; k++) sum += sums[k];
    return sum;
}

CLONES void ck_row_means(const float *x, size_t rows, size_t n, float *means) {
    for (size_t r = 0; r < rows; r++) means[r] = n == 0 ? NAN : (float)(row_sum(x + r * n, n) / (double)n);
}

CLONES void ck_layer_norm_rows(const float *x, float *y, size_t rows, size_t n, const float *scale, const float *bias,
                               float epsilon, int rms, float *means, float *inverses) {
    for (size_t r = 0; r < rows; r++) {
        const float *in = x + r * n;
        float *out = y + r * n;
        double mean = rms || n == 0 ? 0 : row_sum(in, n) / (double)n;
        // Squared deviations from the mean, a second pass: steadier than E[x²] − E[x]².
        double inverse = 1 / sqrt(row_squares(in, n, mean) / (double)n + epsilon);
        if (means) means[r] = (float)mean;
        if (inverses) inverses[r] = (float)inverse;
        float m = (float)mean, s = (float)inverse;
        if (scale && bias) {
            for (size_t j = 0; j < n; j++) out[j] = (in[j] - m) * s * scale[j] + bias[j];
        } else if (scale) {
            for (size_t j = 0; j < n; j++) out[j] = (in[j] - m) * s * scale[j];
        } else {
            for (size_t j = 0; j < n; j++) out[j] = (in[j] - m) * s;
        }
    }
}
