// What the GEMM driver (sgemm.c) needs from a kernel variant: block sizes and
// the few functions that differ per instruction set.
#ifndef CKERNELS_INTERNAL_KERNELS_H
#define CKERNELS_INTERNAL_KERNELS_H

#include <stddef.h>

/// What a tile does with its accumulated product before storing it.
typedef struct ck_epilogue {
    float alpha, beta;     // C = alpha·acc + beta·C; beta 0 means C is not read
    const float *bias;     // one per row of the tile, or NULL
    const float *residual; // added after the bias: the tile's first element, rows ldr apart; or NULL
    size_t ldr;
    int clamp;             // whether to clamp to [lo, hi] after the bias and residual
    float lo, hi;
} ck_epilogue;

/// Computes one rows×cols tile of C (rows ≤ mr, cols ≤ nr) from a rows×k
/// block of row-major A (row stride lda) and k steps of packed B
/// (round_up(cols, vl) floats per step, columns beyond `cols` zero).
typedef void (*ck_tile_fn)(size_t k, const float *a, size_t lda, const float *b,
                           float *c, size_t ldc, size_t rows, size_t cols,
                           const ck_epilogue *e);

/// y[j] = Σ_k x[j·ldx + k]·v[k] for j < n: matrix times vector, rows contiguous.
typedef void (*ck_dot_rows_fn)(size_t n, size_t k, const float *x, size_t ldx,
                               const float *v, float *y);

/// y[j] = Σ_k v[k]·x[k·ldx + j] for j < n: vector times matrix, rows contiguous.
typedef void (*ck_axpy_rows_fn)(size_t n, size_t k, const float *x, size_t ldx,
                                const float *v, float *y);

/// One kernel variant. mr×nr is the register tile, vl the vector width.
/// mc, kc and nc bound the cache blocks (the driver evens them out): a kc×nc
/// panel of packed B and an mc×kc block of A share L2, and each kc×nr strip
/// of B serves every tile down the block of A. Tuned with Tools/bench-gemm
/// on a Xeon with 2 MiB of L2 and 48 KiB of L1d per core.
typedef struct ck_variant {
    const char *name;
    size_t mr, nr, vl;
    size_t mc, kc, nc;
    ck_tile_fn tile;
    ck_dot_rows_fn dot_rows;
    ck_axpy_rows_fn axpy_rows;
} ck_variant;

extern const ck_variant ck_variant_portable;
#if defined(__x86_64__)
extern const ck_variant ck_variant_avx2;
extern const ck_variant ck_variant_avx512;
#endif

/// The variant for a kernel id, or NULL if this CPU or build cannot run it.
const ck_variant *ck_variant_for(int kernel);

/// The variant of `ck_kernel_selected`, without checking the CPU again.
const ck_variant *ck_variant_selected(void);

#endif
