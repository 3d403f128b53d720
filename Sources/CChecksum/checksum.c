// CRC-32 by folding with carry-less multiplication (the method of Intel's
// "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ Instruction"),
// finished by zlib.
//
// Notation. P = x^32 + x^26 + ... + 1 (0x104C11DB7; 0xEDB88320 reflected).
// zlib's CRC is reflected: the first byte's bit 0 is the message polynomial's
// highest coefficient, and
//
//     crc32_z(c, M) = ~R(~c, M),   R(s, M) = (s·x^(8|M|) + M·x^32) mod P,
//
// where a 32-bit value v stands for Σ v_i·x^(31−i). Likewise 16 bytes loaded
// little-endian into a 128-bit lane V stand for poly(V) = Σ V_i·x^(127−i), which
// is exactly those 16 bytes read as a message; with L and H the lane's low and
// high 64-bit halves, poly(V) = L'·x^64 + H', where a 64-bit value a stands
// for a' = Σ a_i·x^(63−i).
//
// Carry-less multiplication of two 64-bit values a, b gives a 128-bit C with
// C_k = ⊕_{i+j=k} a_i·b_j, so poly(C) = x·a'·b' exactly (no reduction).
//
// Folding by D bits. Given a lane V, W = clmul(L, kL) ⊕ clmul(H, kH) has
// poly(W) ≡ poly(V)·x^D (mod P) when kL' ≡ x^(D+63) and kH' ≡ x^(D−1):
// x·L'·x^(D+63) = L'·x^64·x^D and x·H'·x^(D−1) = H'·x^D. We take
// k = reflect32(x^(T−32) mod P), for which k' = (x^(T−32) mod P)·x^32 ≡ x^T
// (reflect32 reverses the 32 bits of the remainder, whose x^31 coefficient
// goes to bit 0). The tests check every path against zlib, so a wrong constant
// shows at once.
//
// The loop. XOR ~crc into the first 4 bytes of the input: that adds
// ~crc·x^(8n−32) to M, so afterwards R(0, M) = R(~crc, original M). Keep
// lanes A_0..A_{m−1} holding the first m·16 bytes; each step folds every lane
// by D = 8·(m·16) bits and XORs in the next m·16 bytes, which keeps
// Σ poly(A_j)·x^(128·(m−1−j)) ≡ (message so far) (mod P). Folding the lanes
// into one by 128 bits each, then folding in any further whole 16-byte
// blocks, leaves one lane V with poly(V) ≡ message so far (mod P). Since
// R(0, X ‖ T) = (X·x^(8|T|) + T)·x^32 mod P depends on X only mod P, the 16
// bytes of V followed by the tail T have the same R(0, ·) as the whole input,
// and zlib's crc32_z(0xFFFFFFFF, V ‖ T) = ~R(0, V ‖ T) is the answer. (For
// the wide path, m = 16: lane i of zmm register j is A_(4j+i).)
#include "checksum.h"

#include <stdatomic.h>
#include <zlib.h>

static uint32_t crc32_zlib(uint32_t crc, const unsigned char *p, size_t n) {
    // z_size_t is size_t on LP64 Linux; split anyway in case it is narrower.
    while (n > 0) {
        size_t piece = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
        crc = (uint32_t)crc32_z(crc, p, (z_size_t)piece);
        p += piece;
        n -= piece;
    }
    return crc;
}

#if defined(__x86_64__)
#include <immintrin.h>

// Folding constants k = reflect32(x^(T−32) mod P), named by T.
#define K_X127 0xccaa009eu   // fold by 128 bits (16 bytes):  kH
#define K_X191 0xae689191u   //                                kL
#define K_X511 0x1d9513d7u   // fold by 512 bits (64 bytes):  kH
#define K_X575 0x8f352d95u   //                                kL
#define K_X2047 0xe95c1271u  // fold by 2048 bits (256 bytes): kH
#define K_X2111 0xce3371cbu  //                                kL

#define PCLMUL_TARGET __attribute__((target("pclmul,sse4.1")))
#define VPCLMUL_TARGET __attribute__((target("pclmul,sse4.1,avx512f,vpclmulqdq")))

/// W with poly(W) ≡ poly(v)·x^D, for k = (kL, kH) of D in the low and high halves.
static inline __attribute__((always_inline)) PCLMUL_TARGET __m128i fold128(__m128i v, __m128i k) {
    return _mm_xor_si128(_mm_clmulepi64_si128(v, k, 0x00), _mm_clmulepi64_si128(v, k, 0x11));
}

/// Hands the lane `v` (≡ the message so far, with the initial state folded in)
/// and the `n` < 16 bytes at `p` to zlib.
static PCLMUL_TARGET uint32_t finish(__m128i v, const unsigned char *p, size_t n) {
    unsigned char lane[16];
    _mm_storeu_si128((__m128i *)lane, v);
    return crc32_zlib(crc32_zlib(0xFFFFFFFFu, lane, 16), p, n);
}

/// Folds lane `v` through the whole 16-byte blocks at `p`, then finishes.
static PCLMUL_TARGET uint32_t fold_blocks_and_finish(__m128i v, const unsigned char *p, size_t n) {
    const __m128i k128 = _mm_set_epi64x(K_X127, K_X191);
    for (; n >= 16; p += 16, n -= 16)
        v = _mm_xor_si128(fold128(v, k128), _mm_loadu_si128((const __m128i *)p));
    return finish(v, p, n);
}

/// Four 128-bit lanes, 64 bytes a step. Needs n ≥ 64 + 15.
static PCLMUL_TARGET uint32_t crc32_pclmul(uint32_t crc, const unsigned char *p, size_t n) {
    size_t head = (size_t)(-(uintptr_t)p & 15);
    crc = crc32_zlib(crc, p, head);
    p += head;
    n -= head;

    const __m128i k512 = _mm_set_epi64x(K_X511, K_X575);
    const __m128i k128 = _mm_set_epi64x(K_X127, K_X191);
    const __m128i *q = (const __m128i *)p;
    __m128i a0 = _mm_xor_si128(_mm_load_si128(q), _mm_cvtsi32_si128((int)~crc));
    __m128i a1 = _mm_load_si128(q + 1);
    __m128i a2 = _mm_load_si128(q + 2);
    __m128i a3 = _mm_load_si128(q + 3);
    p += 64;
    n -= 64;
    for (; n >= 64; p += 64, n -= 64) {
        q = (const __m128i *)p;
        a0 = _mm_xor_si128(fold128(a0, k512), _mm_load_si128(q));
        a1 = _mm_xor_si128(fold128(a1, k512), _mm_load_si128(q + 1));
        a2 = _mm_xor_si128(fold128(a2, k512), _mm_load_si128(q + 2));
        a3 = _mm_xor_si128(fold128(a3, k512), _mm_load_si128(q + 3));
    }
    __m128i v = _mm_xor_si128(fold128(a0, k128), a1);
    v = _mm_xor_si128(fold128(v, k128), a2);
    v = _mm_xor_si128(fold128(v, k128), a3);
    return fold_blocks_and_finish(v, p, n);
}

/// As fold128 on each of the four lanes of `v`, then ⊕ d.
static inline __attribute__((always_inline)) VPCLMUL_TARGET __m512i fold512_xor(__m512i v, __m512i k, __m512i d) {
    return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(v, k, 0x00),
                                     _mm512_clmulepi64_epi128(v, k, 0x11), d, 0x96);
}

/// Sixteen 128-bit lanes in four zmm registers, 256 bytes a step. Needs n ≥ 256 + 63.
static VPCLMUL_TARGET uint32_t crc32_vpclmul(uint32_t crc, const unsigned char *p, size_t n) {
    size_t head = (size_t)(-(uintptr_t)p & 63);
    crc = crc32_zlib(crc, p, head);
    p += head;
    n -= head;

    const __m512i k2048 = _mm512_broadcast_i32x4(_mm_set_epi64x(K_X2047, K_X2111));
    const __m512i k512 = _mm512_broadcast_i32x4(_mm_set_epi64x(K_X511, K_X575));
    const __m512i *q = (const __m512i *)p;
    __m512i z0 = _mm512_xor_si512(_mm512_load_si512(q), _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)~crc)));
    __m512i z1 = _mm512_load_si512(q + 1);
    __m512i z2 = _mm512_load_si512(q + 2);
    __m512i z3 = _mm512_load_si512(q + 3);
    p += 256;
    n -= 256;
    for (; n >= 256; p += 256, n -= 256) {
        q = (const __m512i *)p;
        z0 = fold512_xor(z0, k2048, _mm512_load_si512(q));
        z1 = fold512_xor(z1, k2048, _mm512_load_si512(q + 1));
        z2 = fold512_xor(z2, k2048, _mm512_load_si512(q + 2));
        z3 = fold512_xor(z3, k2048, _mm512_load_si512(q + 3));
    }
    // Lane i of z_j holds bytes 64j + 16i...: fold z_j onto z_(j+1) by 64 bytes.
    __m512i z = fold512_xor(z0, k512, z1);
    z = fold512_xor(z, k512, z2);
    z = fold512_xor(z, k512, z3);
    for (; n >= 64; p += 64, n -= 64) z = fold512_xor(z, k512, _mm512_load_si512((const __m512i *)p));

    const __m128i k128 = _mm_set_epi64x(K_X127, K_X191);
    __m128i v = _mm_xor_si128(fold128(_mm512_extracti32x4_epi32(z, 0), k128), _mm512_extracti32x4_epi32(z, 1));
    v = _mm_xor_si128(fold128(v, k128), _mm512_extracti32x4_epi32(z, 2));
    v = _mm_xor_si128(fold128(v, k128), _mm512_extracti32x4_epi32(z, 3));
    return fold_blocks_and_finish(v, p, n);
}

enum { PCLMUL_MIN = 128, VPCLMUL_MIN = 512 };

static int method_available(swm_crc32_method method) {
    switch (method) {
    case SWM_CRC32_ZLIB:
        return 1;
    case SWM_CRC32_PCLMUL:
        __builtin_cpu_init();
        return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    case SWM_CRC32_VPCLMUL:
        __builtin_cpu_init();
        return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")
            && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("vpclmulqdq");
    default:
        return 0;
    }
}

static uint32_t crc32_with(swm_crc32_method method, uint32_t crc, const unsigned char *p, size_t n) {
    switch (method) {
    case SWM_CRC32_VPCLMUL:
        if (n >= VPCLMUL_MIN) return crc32_vpclmul(crc, p, n);
        // The 128-bit path's setup is cheaper for medium lengths.
        __attribute__((fallthrough));
    case SWM_CRC32_PCLMUL:
        if (n >= PCLMUL_MIN) return crc32_pclmul(crc, p, n);
        __attribute__((fallthrough));
    default:
        return crc32_zlib(crc, p, n);
    }
}

/// The best available method, found on first use (-1 until then).
static _Atomic int best_method = -1;

static swm_crc32_method best(void) {
    int method = atomic_load_explicit(&best_method, memory_order_relaxed);
    if (method < 0) {
        method = method_available(SWM_CRC32_VPCLMUL) ? SWM_CRC32_VPCLMUL
            : method_available(SWM_CRC32_PCLMUL) ? SWM_CRC32_PCLMUL : SWM_CRC32_ZLIB;
        atomic_store_explicit(&best_method, method, memory_order_relaxed);
    }
    return (swm_crc32_method)method;
}

uint32_t swm_crc32(uint32_t crc, const void *data, size_t length) {
    if (length < PCLMUL_MIN) return crc32_zlib(crc, data, length);
    return crc32_with(best(), crc, data, length);
}

int swm_crc32_method_available(swm_crc32_method method) {
    return method_available(method);
}

uint32_t swm_crc32_using(swm_crc32_method method, uint32_t crc, const void *data, size_t length) {
    if (!method_available(method)) method = SWM_CRC32_ZLIB;
    return crc32_with(method, crc, data, length);
}

#else  // not x86-64: zlib throughout.

uint32_t swm_crc32(uint32_t crc, const void *data, size_t length) {
    return crc32_zlib(crc, data, length);
}

int swm_crc32_method_available(swm_crc32_method method) {
    return method == SWM_CRC32_ZLIB;
}

uint32_t swm_crc32_using(swm_crc32_method method, uint32_t crc, const void *data, size_t length) {
    (void)method;
    return crc32_zlib(crc, data, length);
}

#endif
