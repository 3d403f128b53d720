// Exponential, logistic sigmoid and tanh over float32 arrays, written so
// that the compiler vectorises each loop (no calls, no branches: selects),
// for each instruction set of the target_clones list. libm's expf is exact
// to half an ulp but scalar; these stay within 2 ulp of it, far inside any
// tolerance a model is checked with, at several times its speed.
#include "CKernels.h"

#include <stdint.h>
#include <string.h>

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/// 2^k as a float, for k in [−126, 127].
static inline float power_of_two(int32_t k) {
    int32_t bits = (k + 127) << 23;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/// e^x with overflow to infinity, gradual underflow to 0 and NaN kept:
/// x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 in two parts, so that r is
/// nearly exact), e^r by its degree-7 polynomial (Cephes' coefficients),
/// and 2^n applied in two halves, so that each stays a normal float from
/// the largest result down to the smallest subnormal.
static inline float exp_one(float x) {
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    // Written so that NaN clamps to -104 too: converting a NaN n to an
    // integer below would be undefined. The NaN itself is returned at the end.
    float clamped = x > -104.0f ? (x < 88.8f ? x : 88.8f) : -104.0f;
    float n = __builtin_floorf(clamped * log2e + 0.5f);
    float r = clamped - n * ln2_hi - n * ln2_lo;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1;
    int32_t k = (int32_t)n, half = k / 2;
    float e = p * power_of_two(half) * power_of_two(k - half);
    return x != x ? x : e;
}

CLONES void ck_exp_f32(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = exp_one(x[i]);
}

/// 1 / (1 + e^−x) from e = e^−|x|, so that nothing overflows: 1/(1 + e)
/// for x ≥ 0, e/(1 + e) below.
static CLONES void sigmoid_clones(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i], e = exp_one(-__builtin_fabsf(v));
        float s = 1 / (1 + e);
        y[i] = v >= 0 ? s : e * s;
        y[i] = v != v ? v : y[i];
    }
}

/// tanh x = sign(x)·(1 − e)/(1 + e), e = e^−2|x|; below |x| = 0.3, where
/// 1 − e cancels, its odd series to x¹⁵ instead.
static inline float tanh_one(float v) {
    float a = __builtin_fabsf(v);
    float e = exp_one(-2 * a);
    float t = (1 - e) / (1 + e);
    float v2 = v * v;
    float series = v * (1 + v2 * (-1.0f / 3 + v2 * (2.0f / 15 + v2 * (-17.0f / 315 + v2 * (62.0f / 2835
        + v2 * (-1382.0f / 155925 + v2 * (21844.0f / 6081075 + v2 * (-1.4558343870513183e-3f))))))));
    float signed_t = v < 0 ? -t : t;
    float y = a < 0.3f ? series : signed_t;
    return v != v ? v : y;
}

CLONES void ck_tanh_f32(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = tanh_one(x[i]);
}

/// GELU's tanh form, x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2, in one pass.
CLONES void ck_gelu_tanh_f32(const float *x, float *y, size_t n) {
    const float k = 0.79788456080286536f;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1 + tanh_one(k * (v + 0.044715f * v * v * v)));
    }
}

/// erf x: below |x| = 0.5 its Taylor series to x¹³; above, 1 − erfc |x| by
/// the Chebyshev fit of erfc in Numerical Recipes (fractional error below
/// 1.2e-7), with the sign of x.
static inline float erf_one(float v) {
    float z = __builtin_fabsf(v), v2 = v * v;
    float series = v * 1.12837916709551257f *
        (1 + v2 * (-1.0f / 3 + v2 * (1.0f / 10 + v2 * (-1.0f / 42 + v2 * (1.0f / 216 + v2 * (-1.0f / 1320 + v2 * (1.0f / 9360)))))));
    float t = 1 / (1 + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    float zc = z < 10 ? z : 10;   // erfc is 0 in float32 beyond, and z² stays finite
    float tail = 1 - t * exp_one(p - zc * zc);
    float signed_tail = v < 0 ? -tail : tail;
    float y = z < 0.5f ? series : signed_tail;
    return v != v ? v : y;
}

CLONES void ck_erf_f32(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = erf_one(x[i]);
}

/// GELU's exact form, x·(1 + erf(x/√2))/2, in one pass.
CLONES void ck_gelu_f32(const float *x, float *y, size_t n) {
    const float inverse_sqrt2 = 0.70710678118654752f;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1 + erf_one(v * inverse_sqrt2));
    }
}

/// x·sigmoid(x) (SiLU, Swish), as `ck_sigmoid_f32` computes the sigmoid.
static inline __attribute__((always_inline)) float silu_one(float v) {
    float e = exp_one(-__builtin_fabsf(v));
    float s = 1 / (1 + e);
    float sigmoid = v >= 0 ? s : e * s;
    return v != v ? v : v * sigmoid;
}

static CLONES void silu_clones(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = silu_one(x[i]);
}

// A separate loop for x = y: the vectorised loop above checks that its
// arrays do not overlap, and given the same array it runs a float at a time.
static CLONES void silu_in_place_clones(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = silu_one(x[i]);
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

/// The sigmoid of 16 floats, or their SiLU, with AVX-512's own steps where
/// the portable code needs several: 2^n applied by one vscalefps (which
/// underflows gradually by itself), and 1/(1 + e) as rcp14 refined by one
/// Newton step (relative error near 2^-28) instead of a division, which on
/// its own cost a third of EfficientNet-B0's SiLU. The same polynomial as
/// exp_one; the sigmoid stays within 2 ulp of the exact value, as the
/// portable loops do.
static inline AVX512 __m512 logistic16(__m512 v, int silu) {
    const __m512 log2e = _mm512_set1_ps(1.44269504088896341f), ln2_hi = _mm512_set1_ps(0.693359375f);
    const __m512 ln2_lo = _mm512_set1_ps(-2.12194440e-4f), one = _mm512_set1_ps(1), two = _mm512_set1_ps(2);
    // a = −|v|, no lower than −104, where e^a is 0 in float32.
    __m512 a = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u)));
    a = _mm512_max_ps(a, _mm512_set1_ps(-104.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(a, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, ln2_lo, _mm512_fnmadd_ps(n, ln2_hi, a));
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, one));
    __m512 e = _mm512_scalef_ps(p, n);
    __m512 d = _mm512_add_ps(one, e), s = _mm512_rcp14_ps(d);
    s = _mm512_mul_ps(s, _mm512_fnmadd_ps(d, s, two));
    // 1/(1 + e) for v ≥ 0, e/(1 + e) below; NaN stays NaN.
    __m512 sigmoid = _mm512_mask_mul_ps(s, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), e, s);
    __m512 y = silu ? _mm512_mul_ps(v, sigmoid) : sigmoid;
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}

static AVX512 void logistic_avx512(const float *x, float *y, size_t n, int silu) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, logistic16(_mm512_loadu_ps(x + i), silu));
    if (i < n) {
        __mmask16 rest = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, rest, logistic16(_mm512_maskz_loadu_ps(rest, x + i), silu));
    }
}

static int has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

void ck_sigmoid_f32(const float *x, float *y, size_t n) {
#if defined(__x86_64__)
    if (has_avx512()) return logistic_avx512(x, y, n, 0);
#endif
    sigmoid_clones(x, y, n);
}

void ck_silu_f32(const float *x, float *y, size_t n) {
#if defined(__x86_64__)
    if (has_avx512()) return logistic_avx512(x, y, n, 1);
#endif
    silu_clones(x, y, n);
}

void ck_silu_in_place_f32(float *x, size_t n) {
#if defined(__x86_64__)
    if (has_avx512()) return logistic_avx512(x, x, n, 1);
#endif
    silu_in_place_clones(x, n);
}

/// Softmax, or log-softmax, of each of `rows` rows of n contiguous floats:
/// the largest value first (so that no exponential overflows), then e^(x −
/// largest) and its sum in 16 lanes, then one scale per row. A NaN anywhere
/// in a row makes the whole row NaN, through the sum.
CLONES void ck_softmax_rows(const float *x, float *y, size_t rows, size_t n, int log_softmax) {
    enum { LANES = 16 };
    for (size_t r = 0; r < rows; r++) {
        const float *in = x + r * n;
        float *out = y + r * n;
        float most[LANES];
        for (size_t k = 0; k < LANES; k++) most[k] = -__builtin_inff();
        size_t j = 0;
        for (; j + LANES <= n; j += LANES) {
            for (size_t k = 0; k < LANES; k++) most[k] = in[j + k] > most[k] ? in[j + k] : most[k];
        }
        for (; j < n; j++) most[0] = in[j] > most[0] ? in[j] : most[0];
        float largest = most[0];
        for (size_t k = 1; k < LANES; k++) largest = most[k] > largest ? most[k] : largest;
        if (n > 0 && !(largest > -__builtin_inff())) largest = in[0];   // all −∞, or all NaN: as the row's first value

        float sums[LANES] = {0};
        j = 0;
        if (log_softmax) {
            for (; j + LANES <= n; j += LANES) {
                for (size_t k = 0; k < LANES; k++) sums[k] += exp_one(in[j + k] - largest);
            }
            for (; j < n; j++) sums[0] += exp_one(in[j] - largest);
        } else {
            for (; j + LANES <= n; j += LANES) {
                for (size_t k = 0; k < LANES; k++) {
                    out[j + k] = exp_one(in[j + k] - largest);
                    sums[k] += out[j + k];
                }
            }
            for (; j < n; j++) {
                out[j] = exp_one(in[j] - largest);
                sums[0] += out[j];
            }
        }
        float sum = 0;
        for (size_t k = 0; k < LANES; k++) sum += sums[k];
        if (log_softmax) {
            float shift = largest + __builtin_logf(sum);
            for (j = 0; j < n; j++) out[j] = in[j] - shift;
        } else {
            float inverse = 1 / sum;
            for (j = 0; j < n; j++) out[j] *= inverse;
        }
    }
}
