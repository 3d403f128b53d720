// Depthwise 2-D convolution and 2-D max pooling, one channel plane at a
// time (MobileNet's and EfficientNet's 3×3 and 5×5 layers, GoogLeNet's
// pools inside its inception blocks). The plane is first copied into a
// padded scratch (zeros, or −∞ for a max), split by column phase for
// strides above 1, so that every tap of every output row is one contiguous
// pass over a chunk of the row held in registers, with no border cases: the
// compiler vectorises it for each instruction set of the target_clones
// list, chosen once at load time.
#include "CKernels.h"
#include "interleaved.h"

#include <stdint.h>
#include <string.h>

// Output columns computed at once: chunks of 64 floats (four AVX-512 or
// eight AVX registers) along the row, then what is left as one block of as
// many whole vectors of 16 as cover it (for max pooling). A block's vectors
// are independent chains of one operation per tap, so they overlap: computed
// one vector at a time, each tap would wait for the one before (a 3×3 window
// is a chain of nine). A block keeps only the columns that exist, so it may
// read up to 15 floats past its row: the scratch has that much slack after
// the padded plane, zeroed, so that no stray value is a slow subnormal.
enum { CHUNK = 64, LANES = 16 };

/// `COLUMNS(WIDTH)` for the row's last ow − x0 < CHUNK columns from x0,
/// with WIDTH the whole vectors that cover them.
#define REST_OF_ROW(COLUMNS)                                \
    switch ((ow - x0 + LANES - 1) / LANES) {                 \
    case 1: { COLUMNS(LANES) } break;                        \
    case 2: { COLUMNS(2 * LANES) } break;                    \
    case 3: { COLUMNS(3 * LANES) } break;                    \
    case 4: { COLUMNS(4 * LANES) } break;                    \
    }

// The rows copied into the scratch are short (7 to 112 floats), and a
// library call per row and per border cost more than the convolution of a
// small plane: these copy and fill whole vectors inline, the last one
// overlapping the one before, and pieces of 8, 4, 2 and 1 below 16.

/// dst[i] = src[i] for i < n.
static inline void copy_floats(float *restrict dst, const float *restrict src, size_t n) {
    if (n >= LANES) {
        for (size_t i = 0; i + LANES <= n; i += LANES) __builtin_memcpy_inline(dst + i, src + i, LANES * sizeof(float));
        __builtin_memcpy_inline(dst + n - LANES, src + n - LANES, LANES * sizeof(float));
        return;
    }
    size_t i = 0;
    if (n & 8) { __builtin_memcpy_inline(dst + i, src + i, 8 * sizeof(float)); i += 8; }
    if (n & 4) { __builtin_memcpy_inline(dst + i, src + i, 4 * sizeof(float)); i += 4; }
    if (n & 2) { __builtin_memcpy_inline(dst + i, src + i, 2 * sizeof(float)); i += 2; }
    if (n & 1) dst[i] = src[i];
}

/// dst[i] = src[2·i] for i < n: a stride of 2, nearly every strided layer.
/// Sixteen at a time from a pair of vectors, src[2i] to src[2i + 31]: the
/// last float of a pair is one past those it uses, so whole pairs run only
/// while that float still precedes src[2(n − 1)], the last one used (the row
/// may end there), and the last sixteen are read from one float earlier, so
/// that the read ends exactly there.
static inline void every_other_float(float *restrict dst, const float *restrict src, size_t n) {
#define EVENS 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define ODDS 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
    if (n <= LANES) {
        for (size_t i = 0; i < n; i++) dst[i] = src[2 * i];
        return;
    }
    for (size_t i = 0; i + LANES < n; i += LANES) {
        vec16 a = LOAD16(src + 2 * i), b = LOAD16(src + 2 * i + LANES);
        STORE16(dst + i, __builtin_shufflevector(a, b, EVENS));
    }
    const float *from = src + 2 * (n - LANES) - 1;
    vec16 a = LOAD16(from), b = LOAD16(from + LANES);
    STORE16(dst + n - LANES, __builtin_shufflevector(a, b, ODDS));
#undef EVENS
#undef ODDS
}

/// `width` copies of `value` at p.
#define FILL(p, width) for (size_t j = 0; j < (width); j++) (p)[j] = value

/// p[i] = value for i < n.
static inline void fill_floats(float *p, float value, size_t n) {
    if (n >= LANES) {
        for (size_t i = 0; i + LANES <= n; i += LANES) { FILL(p + i, LANES); }
        FILL(p + n - LANES, LANES);
        return;
    }
    size_t i = 0;
    if (n & 8) { FILL(p + i, 8); i += 8; }
    if (n & 4) { FILL(p + i, 4); i += 4; }
    if (n & 2) { FILL(p + i, 2); i += 2; }
    if (n & 1) p[i] = value;
}

// Each line of the padded plane is a whole number of vectors long, and the
// scratch is used from the point where the image's first column of phase 0
// lands on a 64-byte boundary: the copies into it are then whole aligned
// vectors (a store split across two cache lines costs two).

/// The floats from one line of the padded plane to the next: the columns
/// of one phase that the window reads, rounded up to whole vectors.
static inline size_t line_pitch(const ck_plane_window *d) {
    size_t columns = d->out_w + (d->kernel_w - 1) * d->dilation_w / d->stride_w;
    return (columns + LANES - 1) / LANES * LANES;
}

/// Where the padded plane starts in `scratch`: at most LANES − 1 floats in,
/// so that padded column ⌈pad_left / stride_w⌉ of phase 0, the image's
/// first, is 64-byte aligned.
static inline float *aligned_plane(const ck_plane_window *d, float *scratch) {
    size_t begin = (d->pad_left + d->stride_w - 1) / d->stride_w % LANES;
    uintptr_t first = (uintptr_t)(scratch + begin), aligned = (first + 63) & ~(uintptr_t)63;
    return (float *)(aligned - begin * sizeof(float));
}

size_t ck_plane_window_scratch_floats(const ck_plane_window *d) {
    size_t a, b, rows, span, phase_width, floats;
    if (__builtin_mul_overflow(d->out_h - 1, d->stride_h, &a) || __builtin_mul_overflow(d->kernel_h - 1, d->dilation_h, &b) ||
        __builtin_add_overflow(a, b + 1, &rows) || __builtin_mul_overflow(d->kernel_w - 1, d->dilation_w, &span) ||
        __builtin_add_overflow(d->out_w, span / d->stride_w, &phase_width) ||
        __builtin_add_overflow(phase_width, (size_t)LANES - 1, &phase_width) ||
        __builtin_mul_overflow(rows, phase_width / LANES * LANES, &floats) || __builtin_mul_overflow(floats, d->stride_w, &floats) ||
        __builtin_add_overflow(floats, (size_t)2 * LANES + 1, &floats)) {
        return 0;
    }
    // The depthwise kernel's tap offsets follow, at the next 8-byte boundary.
    size_t taps, offsets;
    if (__builtin_mul_overflow(d->kernel_h, d->kernel_w, &taps) || __builtin_mul_overflow(taps, sizeof(size_t) / sizeof(float), &offsets) ||
        __builtin_add_overflow(floats, offsets, &floats)) {
        return 0;
    }
    return floats;
}

/// Copies the plane into `scratch`, padded with `fill` and split by column
/// phase: scratch[phase][row][i] holds padded column i·sw + phase of padded
/// row `row`, that is input pixel (row − pad_top, i·sw + phase − pad_left),
/// or `fill` outside the image. Returns the rows of one phase.
static inline __attribute__((always_inline)) size_t pad_plane(const ck_plane_window *d, const float *in, float *scratch, float fill, size_t phase_width) {
    const size_t sh = d->stride_h, sw = d->stride_w, dh = d->dilation_h;
    const size_t kh = d->kernel_h, oh = d->out_h, h = d->height, w = d->width;
    const size_t rows = (oh - 1) * sh + (kh - 1) * dh + 1;
    for (size_t phase = 0; phase < sw; phase++) {
        // Padded column i·sw + phase is input column x = i·sw + phase − pad_left:
        // zeros for i < begin, the input for begin ≤ i < end, zeros after.
        size_t begin = phase >= d->pad_left ? 0 : (d->pad_left - phase + sw - 1) / sw;
        size_t end = w + d->pad_left > phase ? (w + d->pad_left - phase + sw - 1) / sw : 0;
        if (begin > phase_width) begin = phase_width;
        if (end > phase_width) end = phase_width;
        if (end < begin) end = begin;
        for (size_t r = 0; r < rows; r++) {
            float *line = scratch + (phase * rows + r) * phase_width;
            size_t y = r - d->pad_top;   // wraps around above the image, and is then ≥ h
            if (r < d->pad_top || y >= h) {
                fill_floats(line, fill, phase_width);
                continue;
            }
            const float *source = in + y * w + (begin * sw + phase - d->pad_left);
            fill_floats(line, fill, begin);
            if (sw == 1) {
                copy_floats(line + begin, source, end - begin);
            } else if (sw == 2) {
                every_other_float(line + begin, source, end - begin);
            } else {
                for (size_t i = begin; i < end; i++) line[i] = source[(i - begin) * sw];
            }
            fill_floats(line + end, fill, phase_width - end);
        }
    }
    memset(scratch + sw * rows * phase_width, 0, LANES * sizeof(float));
    return rows;
}

/// Adds the residual, clamps, and stores the first `count` of the `width`
/// values of `acc` at `row`. The clamp covers all `width`, a constant, so
/// that it is whole vectors even when fewer columns are kept.
static inline __attribute__((always_inline)) void finish_depthwise(const ck_plane_window *d, float *acc, size_t width, size_t count,
                                                                   const float *add, float *row) {
    if (add) {
        for (size_t i = 0; i < count; i++) acc[i] += add[i];
    }
    if (d->clamp) {
        // Comparisons, so that NaN passes, as in the GEMM's epilogue.
        const float low = d->low, high = d->high;
        for (size_t i = 0; i < width; i++) {
            float v = acc[i] < low ? low : acc[i];
            acc[i] = v > high ? high : v;
        }
    }
    if (count == width) {
        memcpy(row, acc, width * sizeof(float));
    } else {
        copy_floats(row, acc, count);
    }
}

/// Where each tap of the window starts in the scratch, relative to the
/// output row's first padded row: tap (ky, kx) reads padded column
/// i·sw + kx·dw, which is column i + kx·dw / sw of phase kx·dw mod sw.
/// Computed once per plane, so that the inner loops do no division.
static inline void tap_offsets(const ck_plane_window *d, size_t rows, size_t phase_width, size_t *offsets) {
    for (size_t ky = 0; ky < d->kernel_h; ky++) {
        for (size_t kx = 0; kx < d->kernel_w; kx++) {
            size_t c = kx * d->dilation_w;
            offsets[ky * d->kernel_w + kx] = ((c % d->stride_w) * rows + ky * d->dilation_h) * phase_width + c / d->stride_w;
        }
    }
}

/// Where the tap offsets go in the scratch: after the padded plane of
/// `plane` floats and its slack, at the next 8-byte boundary.
static inline size_t *tap_offsets_place(float *scratch, size_t plane) {
    return (size_t *)(((uintptr_t)(scratch + plane + LANES) + 7) & ~(uintptr_t)7);
}

/// `WIDTH` output columns from x0 of the output row whose first padded row
/// starts at `top`: bias plus every tap's weighted input, accumulated in registers.
#define DEPTHWISE_COLUMNS(WIDTH)                                                  \
    float acc[WIDTH];                                                              \
    for (size_t i = 0; i < WIDTH; i++) acc[i] = bias;                              \
    for (size_t t = 0; t < taps; t++) {                                            \
        const float *restrict source = top + offsets[t] + x0;                      \
        float weight = weights[t];                                                 \
        for (size_t i = 0; i < WIDTH; i++) acc[i] += weight * source[i];           \
    }

/// One output row: chunks of 64 columns, then one of 32, then blocks of 16.
/// (Here the rest as one block, as the max pool does, made MobileNetV2 and
/// EfficientNet-B0 slower: 3.15 → 3.36 and 5.35 → 6.0 ms.)
#define DEPTHWISE_ROW()                                                                           \
    size_t x0 = 0;                                                                                 \
    for (; x0 + CHUNK <= ow; x0 += CHUNK) {                                                        \
        DEPTHWISE_COLUMNS(CHUNK)                                                                   \
        finish_depthwise(d, acc, CHUNK, CHUNK, add ? add + x0 : NULL, row + x0);                          \
    }                                                                                              \
    if (x0 + 2 * LANES <= ow) {                                                                    \
        DEPTHWISE_COLUMNS(2 * LANES)                                                               \
        finish_depthwise(d, acc, 2 * LANES, 2 * LANES, add ? add + x0 : NULL, row + x0);                      \
        x0 += 2 * LANES;                                                                           \
    }                                                                                              \
    for (; x0 < ow; x0 += LANES) {                                                                 \
        DEPTHWISE_COLUMNS(LANES)                                                                   \
        finish_depthwise(d, acc, LANES, ow - x0 < LANES ? ow - x0 : LANES, add ? add + x0 : NULL, row + x0); \
    }

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_depthwise_plane(const ck_plane_window *d, const float *in, const float *weights, float bias,
                        const float *residual, float *out, float *scratch) {
    // A local copy, which the stores to `out` cannot alias: the clamp's bounds
    // then stay in registers instead of being reloaded for every vector.
    const ck_plane_window window = *d;
    d = &window;
    const size_t sh = d->stride_h, sw = d->stride_w;
    const size_t taps = d->kernel_h * d->kernel_w, oh = d->out_h, ow = d->out_w;
    const size_t phase_width = line_pitch(d);
    scratch = aligned_plane(d, scratch);
    const size_t rows = pad_plane(d, in, scratch, 0, phase_width);
    size_t *offsets = tap_offsets_place(scratch, sw * rows * phase_width);
    tap_offsets(d, rows, phase_width, offsets);
    for (size_t oy = 0; oy < oh; oy++) {
        float *row = out + oy * ow;
        const float *add = residual ? residual + oy * ow : NULL;
        const float *top = scratch + oy * sh * phase_width;
        DEPTHWISE_ROW()
    }
}

/// `WIDTH` output columns from x0 of the output row whose first padded row
/// starts at `top`: the largest input under each window (NaN wins, as in
/// the engine's other pools).
#define MAX_COLUMNS(WIDTH)                                                        \
    float best[WIDTH];                                                             \
    for (size_t i = 0; i < WIDTH; i++) best[i] = -__builtin_inff();                \
    for (size_t t = 0; t < taps; t++) {                                            \
        const float *restrict source = top + offsets[t] + x0;                      \
        for (size_t i = 0; i < WIDTH; i++) {                                       \
            float v = source[i];                                                   \
            best[i] = v > best[i] || v != v ? v : best[i];                         \
        }                                                                          \
    }

typedef int ivec16 __attribute__((ext_vector_type(16)));

/// Whether any of the n floats at p is NaN.
static inline __attribute__((always_inline)) int contains_nan(const float *p, size_t n) {
    ivec16 seen = 0;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        vec16 v = LOAD16(p + i);
        seen |= v != v;
    }
    int any = 0;
    for (size_t k = 0; k < LANES; k++) any |= seen[k];
    for (; i < n; i++) any |= p[i] != p[i];
    return any;
}

/// The window's largest value as two passes over the padded plane: each
/// padded row's largest over the kernel's columns, then each output's
/// largest over the kernel's rows of those, kw + kh operations an output
/// where the window's taps one by one take kw·kh. Plain comparisons: the
/// plane holds no NaN.
static inline __attribute__((always_inline)) void max_pool_separable(const ck_plane_window *d, float *scratch, size_t rows,
                                                                     size_t pitch, const size_t *offsets, float *out) {
    const size_t kh = d->kernel_h, kw = d->kernel_w, oh = d->out_h, ow = d->out_w;
    const size_t row_step = d->stride_h * pitch, tap_step = d->dilation_h * pitch;
    // Written over the row's line of phase 0: a block of columns reads only
    // columns at or right of those it writes (offsets[kx] ≥ 0), which no
    // earlier block has written.
    for (size_t r = 0; r < rows; r++) {
        float *line = scratch + r * pitch;
        for (size_t x0 = 0; x0 < ow; x0 += LANES) {
            vec16 best = LOAD16(line + offsets[0] + x0);
            for (size_t kx = 1; kx < kw; kx++) {
                vec16 v = LOAD16(line + offsets[kx] + x0);
                best = v > best ? v : best;
            }
            STORE16(line + x0, best);
        }
    }
    // A vector that runs past its row is stored whole while it stays inside
    // the plane: the rows after it, stored later, overwrite what it spills.
    const float *plane_end = out + oh * ow;
    for (size_t oy = 0; oy < oh; oy++) {
        const float *top = scratch + oy * row_step;
        float *row = out + oy * ow;
        for (size_t x0 = 0; x0 < ow; x0 += LANES) {
            vec16 best = LOAD16(top + x0);
            for (size_t ky = 1; ky < kh; ky++) {
                vec16 v = LOAD16(top + ky * tap_step + x0);
                best = v > best ? v : best;
            }
            if (row + x0 + LANES <= plane_end) {
                STORE16(row + x0, best);
            } else {
                float values[LANES];
                STORE16(values, best);
                copy_floats(row + x0, values, ow - x0);
            }
        }
    }
}

/// `WIDTH` columns from x0, of which those before ow are kept.
#define MAX_BLOCK(WIDTH)                                                          \
    MAX_COLUMNS(WIDTH)                                                             \
    copy_floats(row + x0, best, ow - x0);

/// The window's largest value, tap by tap, for every output row.
static inline __attribute__((always_inline)) void max_pool_taps(const ck_plane_window *d, const float *scratch, size_t pitch,
                                                                const size_t *offsets, float *out) {
    const size_t taps = d->kernel_h * d->kernel_w, oh = d->out_h, ow = d->out_w;
    for (size_t oy = 0; oy < oh; oy++) {
        float *row = out + oy * ow;
        const float *top = scratch + oy * d->stride_h * pitch;
        size_t x0 = 0;
        for (; x0 + CHUNK <= ow; x0 += CHUNK) {
            MAX_COLUMNS(CHUNK)
            memcpy(row + x0, best, CHUNK * sizeof(float));
        }
        if (x0 < ow) {
            REST_OF_ROW(MAX_BLOCK)
        }
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_max_pool_plane(const ck_plane_window *d, const float *in, float *out, float *scratch) {
    const size_t phase_width = line_pitch(d);
    scratch = aligned_plane(d, scratch);
    const size_t rows = pad_plane(d, in, scratch, -__builtin_inff(), phase_width);
    size_t *offsets = tap_offsets_place(scratch, d->stride_w * rows * phase_width);
    tap_offsets(d, rows, phase_width, offsets);
    // Two passes where each row's largest over the kernel's columns serves
    // several output rows (stride 1), and the plane has no NaN to carry;
    // else each tap compared one by one. (With a stride of 2, the scan for
    // NaN cost more than the passes saved: 112×112 planes went 5.0 → 5.5 µs.)
    if (d->stride_h == 1 && !contains_nan(in, d->height * d->width)) {
        max_pool_separable(d, scratch, rows, phase_width, offsets, out);
    } else {
        max_pool_taps(d, scratch, phase_width, offsets, out);
    }
}

// MARK: - Sixteen planes at once, for narrow maps

// On a map narrower than a vector (MobileNet's and EfficientNet's 14×14 and
// 7×7 depthwise layers, GoogLeNet's pools inside its inception blocks) a
// plane at a time leaves most lanes of every row idle and pays the plane's
// setup for a few dozen operations. Here sixteen planes are interleaved,
// channel-minor, into a padded scratch, so that each tap of each output pixel
// is one 16-wide operation over the sixteen planes. Sixteen pixels are
// computed at once, and the 16×16 blocks go between the planes and the
// interleaved form by transposes in registers (element by element, the
// moves in and out cost three times the window's arithmetic).


size_t ck_plane_window_blocked_scratch_floats(const ck_plane_window *d) {
    size_t rows, cols, padded, taps, floats;
    if (blocked_extent(d, &rows, &cols) || __builtin_mul_overflow(rows, cols, &padded) ||
        __builtin_mul_overflow(d->kernel_h, d->kernel_w, &taps) || __builtin_add_overflow(padded, taps, &floats) ||
        __builtin_mul_overflow(floats, (size_t)BLOCK, &floats)) {
        return 0;
    }
    return floats;
}

/// The first n of `values` at `target`: one plane's pixels of a block.
static inline __attribute__((always_inline)) void store_pixels(float *target, const float values[BLOCK], size_t n) {
    if (n == BLOCK) {
        STORE16(target, LOAD16(values));
    } else {
        for (size_t i = 0; i < n; i++) target[i] = values[i];
    }
}

/// (oy, ox) moved on by n pixels of a row of width ow.
static inline __attribute__((always_inline)) void advance(size_t *oy, size_t *ox, size_t n, size_t ow) {
    for (size_t p = 0; p < n; p++) {
        if (++*ox == ow) { *ox = 0; ++*oy; }
    }
}

/// Where in the padded scratch the window of each of the 16 output pixels
/// from pixel (oy, ox) starts; pixels past the plane repeat its last one.
static inline __attribute__((always_inline)) void window_starts(const ck_plane_window *d, size_t cols, size_t oy, size_t ox, size_t n,
                                                                size_t starts[BLOCK]) {
    for (size_t p = 0; p < BLOCK; p++) {
        starts[p] = (oy * d->stride_h * cols + ox * d->stride_w) * BLOCK;
        if (p + 1 < n && ++ox == d->out_w) { ox = 0; oy++; }
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_depthwise_blocked(const ck_plane_window *d, const float *in, const float *weights, const float *bias, size_t channels,
                          size_t first, size_t count, const float *residual, float *out, float *scratch) {
    const size_t dh = d->dilation_h, dw = d->dilation_w, kh = d->kernel_h, kw = d->kernel_w, taps = kh * kw;
    const size_t ow = d->out_w, plane_in = d->height * d->width, plane_out = d->out_h * ow;
    size_t rows, cols;
    blocked_extent(d, &rows, &cols);
    float *padded = scratch, *wt = padded + rows * cols * BLOCK;
    if (count > BLOCK) count = BLOCK;

    // Each lane's weights and bias; lanes past `count` stay 0.
    float b[BLOCK] = {0};
    for (size_t t = 0; t < taps * BLOCK; t++) wt[t] = 0;
    for (size_t k = 0; k < count; k++) {
        size_t c = (first + k) % channels;
        b[k] = bias ? bias[c] : 0;
        for (size_t t = 0; t < taps; t++) wt[t * BLOCK + k] = weights[c * taps + t];
    }
    const vec16 bias_lanes = LOAD16(b);
    interleave(d, in + first * plane_in, count, 0, rows, cols, padded);
    const float low = d->low, high = d->high;
    size_t oy = 0, ox = 0;   // of pixel i0
    for (size_t i0 = 0; i0 < plane_out; i0 += BLOCK) {
        const size_t n = plane_out - i0 < BLOCK ? plane_out - i0 : BLOCK;
        size_t starts[BLOCK];
        window_starts(d, cols, oy, ox, n, starts);
        vec16 acc[BLOCK];
        for (size_t p = 0; p < BLOCK; p++) acc[p] = bias_lanes;
        for (size_t ky = 0; ky < kh; ky++) {
            for (size_t kx = 0; kx < kw; kx++) {
                // Each weight vector serves sixteen pixels.
                const size_t offset = (ky * dh * cols + kx * dw) * BLOCK;
                const vec16 weight = LOAD16(wt + (ky * kw + kx) * BLOCK);
                for (size_t p = 0; p < BLOCK; p++) acc[p] += weight * LOAD16(padded + starts[p] + offset);
            }
        }
        // acc[k] becomes plane k's sixteen pixels; then the residual and the
        // clamp, as ck_depthwise_plane applies them.
        transpose16(acc);
        for (size_t k = 0; k < count; k++) {
            float values[BLOCK];
            STORE16(values, acc[k]);
            if (residual) {
                // A loop of its own: merged into the one below, the compiler
                // loads the residual under a mask even when it is NULL, and a
                // masked load of an unmapped page takes a microcode assist.
                const float *add = residual + (first + k) * plane_out + i0;
                for (size_t i = 0; i < n; i++) values[i] += add[i];
            }
            if (d->clamp) {
                for (size_t i = 0; i < BLOCK; i++) {
                    float v = values[i] < low ? low : values[i];
                    values[i] = v > high ? high : v;
                }
            }
            store_pixels(out + (first + k) * plane_out + i0, values, n);
        }
        advance(&oy, &ox, n, ow);
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_max_pool_blocked(const ck_plane_window *d, const float *in, size_t first, size_t count, float *out, float *scratch) {
    const size_t dh = d->dilation_h, dw = d->dilation_w, kh = d->kernel_h, kw = d->kernel_w;
    const size_t ow = d->out_w, plane_in = d->height * d->width, plane_out = d->out_h * ow;
    size_t rows, cols;
    blocked_extent(d, &rows, &cols);
    float *padded = scratch;
    if (count > BLOCK) count = BLOCK;
    interleave(d, in + first * plane_in, count, -__builtin_inff(), rows, cols, padded);
    size_t oy = 0, ox = 0;   // of pixel i0
    for (size_t i0 = 0; i0 < plane_out; i0 += BLOCK) {
        const size_t n = plane_out - i0 < BLOCK ? plane_out - i0 : BLOCK;
        size_t starts[BLOCK];
        window_starts(d, cols, oy, ox, n, starts);
        // A pixel at a time, its largest value in one register (sixteen at
        // once, as the depthwise sums, they stay in memory: no operand to share).
        vec16 best[BLOCK];
        for (size_t p = 0; p < BLOCK; p++) {
            vec16 largest = -__builtin_inff();
            for (size_t ky = 0; ky < kh; ky++) {
                const float *restrict cells = padded + starts[p] + ky * dh * cols * BLOCK;
                for (size_t kx = 0; kx < kw; kx++) {
                    // NaN wins, as in ck_max_pool_plane.
                    vec16 v = LOAD16(cells + kx * dw * BLOCK);
                    largest = ((v > largest) | (v != v)) ? v : largest;
                }
            }
            best[p] = largest;
        }
        transpose16(best);
        for (size_t k = 0; k < count; k++) {
            float values[BLOCK];
            STORE16(values, best[k]);
            store_pixels(out + (first + k) * plane_out + i0, values, n);
        }
        advance(&oy, &ox, n, ow);
    }
}
