// float16 and bfloat16 to and from float32, for the kernels that compute a
// half-precision model in float32. The F16C and AVX-512 forms are chosen at
// run time alongside the GEMM variant (MODELINFO_KERNELS=portable forces the
// plain loops); every form rounds to nearest even and keeps NaN a NaN.
#include "CKernels.h"
#include "kernels.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(src[i])));
}

__attribute__((target("avx,f16c")))
static void f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++)
        dst[i] = (uint16_t)_mm_cvtsi128_si32(_mm_cvtps_ph(_mm_set_ss(src[i]), _MM_FROUND_TO_NEAREST_INT));
}

__attribute__((target("avx512f,avx512bf16,avx512vl")))
static void f32_to_bf16_avx512(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh half = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
        memcpy(dst + i, &half, sizeof half);
    }
    if (i < n) {
        __mmask16 mask = (__mmask16)((1u << (n - i)) - 1);
        __m256bh half = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, src + i));
        uint16_t rest[16];
        memcpy(rest, &half, sizeof half);
        memcpy(dst + i, rest, (n - i) * sizeof(uint16_t));
    }
}

static int has(int feature_f16c) {
    __builtin_cpu_init();
    return feature_f16c ? __builtin_cpu_supports("f16c") : __builtin_cpu_supports("avx512bf16");
}
#endif

void ck_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
#if defined(__x86_64__)
    if (ck_kernel_selected() != CK_KERNEL_PORTABLE && has(1)) { f16_to_f32_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) {
        _Float16 h;
        memcpy(&h, src + i, sizeof h);
        dst[i] = (float)h;
    }
}

void ck_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
#if defined(__x86_64__)
    if (ck_kernel_selected() != CK_KERNEL_PORTABLE && has(1)) { f32_to_f16_f16c(src, dst, n); return; }
#endif
    for (size_t i = 0; i < n; i++) {
        _Float16 h = (_Float16)src[i];
        memcpy(dst + i, &h, sizeof h);
    }
}

void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)src[i] << 16;
        memcpy(dst + i, &bits, sizeof bits);
    }
}

void ck_f32_to_bf16(const float *src, uint16_t *dst, size_t n) {
#if defined(__x86_64__)
    if (ck_kernel_selected() == CK_KERNEL_AVX512 && has(0)) { f32_to_bf16_avx512(src, dst, n); return; }
#endif
    // As ElementCodec.bfloat16Bits: a NaN keeps its upper bits and turns quiet.
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, src + i, sizeof bits);
        int nan = (bits & 0x7FFFFFFFu) > 0x7F800000u;
        uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
        dst[i] = (uint16_t)(nan ? ((bits >> 16) | 0x0040u) : rounded);
    }
}
