// Sixteen channel planes interleaved channel-minor, so that one vector holds
// one pixel of all sixteen: the layout of the blocked depthwise and
// max-pool kernels (plane_window.c) and of the direct convolution on small
// maps (conv_blocked.c). Vectors are written as clang's extended vector
// types, so that each file's target_clones compiles them for its instruction set.
#ifndef CKERNELS_INTERNAL_INTERLEAVED_H
#define CKERNELS_INTERNAL_INTERLEAVED_H

#include "CKernels.h"

#include <stddef.h>

enum { BLOCK = 16 };

typedef float vec16 __attribute__((ext_vector_type(16)));
/// The same, at any float's address. Vectors are loaded and stored through
/// it rather than passed to helpers: a 16-float vector as an argument or a
/// result is not allowed in the clones for narrower vector units.
typedef float vec16_at __attribute__((ext_vector_type(16), aligned(4), may_alias));
#define LOAD16(p) (*(const vec16_at *)(p))
#define STORE16(p, v) (*(vec16_at *)(p) = (v))

/// Transposes the 16×16 matrix whose rows are r[0..15]. Each level swaps,
/// for the rows i and i + S with i & S = 0, the S-wide blocks off the
/// diagonal of every 2S×2S block; the four levels make the transpose.
static inline __attribute__((always_inline)) void transpose16(vec16 r[BLOCK]) {
    // Row i keeps its blocks where bit S of the offset is clear and takes row
    // i + S's there into the places where it is set; row i + S gets the rest.
#define KEEP_8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define REST_8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define KEEP_4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define REST_4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define KEEP_2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define REST_2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define KEEP_1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define REST_1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
#define SWAP_BLOCKS(S)                                           \
    for (int i = 0; i < BLOCK; i++) {                            \
        if (i & S) continue;                                     \
        vec16 a = r[i], b = r[i + S];                            \
        r[i] = __builtin_shufflevector(a, b, KEEP_##S);          \
        r[i + S] = __builtin_shufflevector(a, b, REST_##S);      \
    }
    SWAP_BLOCKS(8)
    SWAP_BLOCKS(4)
    SWAP_BLOCKS(2)
    SWAP_BLOCKS(1)
#undef SWAP_BLOCKS
#undef KEEP_8
#undef REST_8
#undef KEEP_4
#undef REST_4
#undef KEEP_2
#undef REST_2
#undef KEEP_1
#undef REST_1
}

/// The padded extent of the interleaved input, in pixels.
static int blocked_extent(const ck_plane_window *d, size_t *rows, size_t *cols) {
    size_t a, b;
    return __builtin_mul_overflow(d->out_h - 1, d->stride_h, &a) || __builtin_mul_overflow(d->kernel_h - 1, d->dilation_h, &b) ||
           __builtin_add_overflow(a, b + 1, rows) ||
           __builtin_mul_overflow(d->out_w - 1, d->stride_w, &a) || __builtin_mul_overflow(d->kernel_w - 1, d->dilation_w, &b) ||
           __builtin_add_overflow(a, b + 1, cols);
}

/// Planes 0..<count of `in` copied into padded[row][col][lane], with `fill`
/// in the padding and in the lanes past `count`: sixteen pixels of the
/// sixteen planes at a time, transposed.
static inline __attribute__((always_inline)) void interleave(const ck_plane_window *d, const float *in, size_t count, float fill,
                                                             size_t rows, size_t cols, float *padded) {
    const size_t h = d->height, w = d->width, plane = h * w, top = d->pad_top, left = d->pad_left;
    const vec16 filled = fill;
    // The padding: whole rows above and below the image, columns beside it.
    for (size_t r = 0; r < rows; r++) {
        float *line = padded + r * cols * BLOCK;
        if (r < top || r - top >= h) {
            for (size_t col = 0; col < cols; col++) STORE16(line + col * BLOCK, filled);
            continue;
        }
        for (size_t col = 0; col < cols && col < left; col++) STORE16(line + col * BLOCK, filled);
        for (size_t col = left + w; col < cols; col++) STORE16(line + col * BLOCK, filled);
    }
    size_t y = 0, x = 0;   // of pixel i0
    for (size_t i0 = 0; i0 < plane; i0 += BLOCK) {
        const size_t n = plane - i0 < BLOCK ? plane - i0 : BLOCK;
        vec16 r[BLOCK];
        for (size_t k = 0; k < BLOCK; k++) {
            const float *source = in + k * plane + i0;
            if (k >= count) {
                r[k] = filled;
            } else if (n == BLOCK) {
                r[k] = LOAD16(source);
            } else {
                // The plane's last pixels, then `fill`.
                float lanes[BLOCK];
                for (size_t i = 0; i < BLOCK; i++) lanes[i] = i < n ? source[i] : fill;
                r[k] = LOAD16(lanes);
            }
        }
        transpose16(r);
        for (size_t j = 0; j < n; j++) {
            // The window may not reach the image's last rows and columns.
            size_t row = y + top, col = x + left;
            if (row < rows && col < cols) STORE16(padded + (row * cols + col) * BLOCK, r[j]);
            if (++x == w) { x = 0; y++; }
        }
    }
}

#endif
