// The CChecksum module: CRC-32 for the .swm format, computed by folding with
// carry-less multiplication where the CPU has it, and by zlib otherwise.
#ifndef CCHECKSUM_H
#define CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CRC-32 (zlib's polynomial and conventions) of `length` bytes at `data`,
/// continuing from `crc` (0 to start); same results as zlib's crc32_z.
/// Safe to call from several threads at once.
uint32_t swm_crc32(uint32_t crc, const void *data, size_t length);

/// The ways `swm_crc32` can compute a CRC; it uses the best available one.
typedef enum swm_crc32_method {
    SWM_CRC32_ZLIB = 0,     ///< zlib's crc32_z
    SWM_CRC32_PCLMUL = 1,   ///< PCLMULQDQ, four 128-bit accumulators (64 bytes a step)
    SWM_CRC32_VPCLMUL = 2,  ///< VPCLMULQDQ on AVX-512, four 512-bit accumulators (256 bytes a step)
} swm_crc32_method;

/// Whether this CPU (and build) can run `method`.
int swm_crc32_method_available(swm_crc32_method method);

/// `swm_crc32` computed by `method` alone where the input is long enough for
/// it (shorter inputs, heads and tails go to zlib as in `swm_crc32`); by zlib
/// if `method` is not available. For tests and benchmarks.
uint32_t swm_crc32_using(swm_crc32_method method, uint32_t crc, const void *data, size_t length);

#ifdef __cplusplus
}
#endif

#endif
