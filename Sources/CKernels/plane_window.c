// Depthwise 2-D convolution and 2-D max pooling, one channel plane at a
// time (MobileNet's and EfficientNet's 3×3 and 5×5 layers, GoogLeNet's
// pools inside its inception blocks). The plane is first copied into a
// padded scratch (zeros, or −∞ for a max), split by column phase for
// strides above 1, so that every tap of every output row is one contiguous
// pass over a chunk of the row held in registers, with no border cases: the
// compiler vectorises it for each instruction set of the target_clones
// list, chosen once at load time.
#include "CKernels.h"

#include <string.h>

// Output columns computed at once: chunks of 64 floats (four AVX-512 or
// eight AVX registers) along the row, then blocks of 16 for what is left.
// A block always computes 16 columns and keeps those that exist, so it may
// read up to 15 floats past its row: the scratch has that much slack after
// the padded plane, zeroed, so that no stray value is a slow subnormal.
enum { CHUNK = 64, LANES = 16 };

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

size_t ck_plane_window_scratch_floats(const ck_plane_window *d) {
    size_t a, b, rows, span, phase_width, floats;
    if (__builtin_mul_overflow(d->out_h - 1, d->stride_h, &a) || __builtin_mul_overflow(d->kernel_h - 1, d->dilation_h, &b) ||
        __builtin_add_overflow(a, b + 1, &rows) || __builtin_mul_overflow(d->kernel_w - 1, d->dilation_w, &span) ||
        __builtin_add_overflow(d->out_w, span / d->stride_w, &phase_width) ||
        __builtin_mul_overflow(rows, phase_width, &floats) || __builtin_mul_overflow(floats, d->stride_w, &floats) ||
        __builtin_add_overflow(floats, (size_t)LANES + 1, &floats)) {
        return 0;
    }
    // The depthwise kernel's tap offsets follow, at an even float index.
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
                // A stride of 2 (nearly every strided layer) as a constant, so that
                // the vectoriser can deinterleave whole vectors.
                for (size_t i = begin; i < end; i++) line[i] = source[(i - begin) * 2];
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
/// `plane` floats and its slack, at an even float index (8-byte aligned).
static inline size_t *tap_offsets_place(float *scratch, size_t plane) {
    return (size_t *)(scratch + ((plane + LANES + 1) & ~(size_t)1));
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
    const size_t sh = d->stride_h, sw = d->stride_w, dw = d->dilation_w;
    const size_t taps = d->kernel_h * d->kernel_w, oh = d->out_h, ow = d->out_w;
    const size_t phase_width = ow + (d->kernel_w - 1) * dw / sw;
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

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_max_pool_plane(const ck_plane_window *d, const float *in, float *out, float *scratch) {
    const size_t sh = d->stride_h, sw = d->stride_w, dw = d->dilation_w;
    const size_t taps = d->kernel_h * d->kernel_w, oh = d->out_h, ow = d->out_w;
    const size_t phase_width = ow + (d->kernel_w - 1) * dw / sw;
    const size_t rows = pad_plane(d, in, scratch, -__builtin_inff(), phase_width);
    size_t *offsets = tap_offsets_place(scratch, sw * rows * phase_width);
    tap_offsets(d, rows, phase_width, offsets);
    for (size_t oy = 0; oy < oh; oy++) {
        float *row = out + oy * ow;
        const float *top = scratch + oy * sh * phase_width;
        size_t x0 = 0;
        for (; x0 + CHUNK <= ow; x0 += CHUNK) {
            MAX_COLUMNS(CHUNK)
            memcpy(row + x0, best, CHUNK * sizeof(float));
        }
        for (; x0 < ow; x0 += LANES) {
            MAX_COLUMNS(LANES)
            copy_floats(row + x0, best, ow - x0 < LANES ? ow - x0 : LANES);
        }
    }
}

// MARK: - Sixteen planes at once, for narrow maps

// On a map narrower than a vector (MobileNet's and EfficientNet's 14×14 and
// 7×7 depthwise layers, GoogLeNet's pools inside its inception blocks) a
// plane at a time leaves most lanes of every row idle and pays the plane's
// setup for a few dozen operations. Here sixteen planes are interleaved,
// channel-minor, into a padded scratch, so that each tap of each output pixel
// is one 16-wide operation over the sixteen planes.
enum { BLOCK = 16 };

/// The padded extent of the interleaved input, in pixels.
static int blocked_extent(const ck_plane_window *d, size_t *rows, size_t *cols) {
    size_t a, b;
    return __builtin_mul_overflow(d->out_h - 1, d->stride_h, &a) || __builtin_mul_overflow(d->kernel_h - 1, d->dilation_h, &b) ||
           __builtin_add_overflow(a, b + 1, rows) ||
           __builtin_mul_overflow(d->out_w - 1, d->stride_w, &a) || __builtin_mul_overflow(d->kernel_w - 1, d->dilation_w, &b) ||
           __builtin_add_overflow(a, b + 1, cols);
}

size_t ck_plane_window_blocked_scratch_floats(const ck_plane_window *d) {
    size_t rows, cols, padded, result, taps, floats;
    if (blocked_extent(d, &rows, &cols) || __builtin_mul_overflow(rows, cols, &padded) ||
        __builtin_mul_overflow(d->out_h, d->out_w, &result) || __builtin_mul_overflow(d->kernel_h, d->kernel_w, &taps) ||
        __builtin_add_overflow(padded, result, &floats) || __builtin_add_overflow(floats, taps, &floats) ||
        __builtin_mul_overflow(floats, (size_t)BLOCK, &floats)) {
        return 0;
    }
    return floats;
}

/// Planes first..<first + count of `in` (plane 0 at `in`) copied into
/// padded[row][col][lane], with `fill` in the padding and in unused lanes.
static inline __attribute__((always_inline)) void interleave(const ck_plane_window *d, const float *in, size_t first, size_t count,
                                                             float fill, size_t rows, size_t cols, float *padded) {
    const size_t h = d->height, w = d->width, plane_in = h * w;
    for (size_t r = 0; r < rows; r++) {
        size_t y = r - d->pad_top;   // wraps around above the image, and is then ≥ h
        for (size_t col = 0; col < cols; col++) {
            float *cell = padded + (r * cols + col) * BLOCK;
            size_t x = col - d->pad_left;
            for (size_t k = 0; k < BLOCK; k++) cell[k] = fill;
            if (r < d->pad_top || y >= h || col < d->pad_left || x >= w) continue;
            const float *source = in + first * plane_in + y * w + x;
            for (size_t k = 0; k < count; k++) cell[k] = source[k * plane_in];
        }
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_depthwise_blocked(const ck_plane_window *d, const float *in, const float *weights, const float *bias, size_t channels,
                          size_t first, size_t count, const float *residual, float *out, float *scratch) {
    const size_t sh = d->stride_h, sw = d->stride_w, dh = d->dilation_h, dw = d->dilation_w;
    const size_t kh = d->kernel_h, kw = d->kernel_w, taps = kh * kw, oh = d->out_h, ow = d->out_w;
    size_t rows, cols;
    blocked_extent(d, &rows, &cols);
    const size_t plane_out = oh * ow;
    float *padded = scratch, *result = padded + rows * cols * BLOCK, *wt = result + plane_out * BLOCK;
    if (count > BLOCK) count = BLOCK;

    // Each lane's weights and bias; lanes past `count` stay 0.
    float b[BLOCK] = {0};
    for (size_t t = 0; t < taps * BLOCK; t++) wt[t] = 0;
    for (size_t k = 0; k < count; k++) {
        size_t c = (first + k) % channels;
        b[k] = bias ? bias[c] : 0;
        for (size_t t = 0; t < taps; t++) wt[t * BLOCK + k] = weights[c * taps + t];
    }
    interleave(d, in, first, count, 0, rows, cols, padded);
    for (size_t oy = 0; oy < oh; oy++) {
        for (size_t ox = 0; ox < ow; ox++) {
            float acc[BLOCK];
            for (size_t k = 0; k < BLOCK; k++) acc[k] = b[k];
            for (size_t ky = 0; ky < kh; ky++) {
                for (size_t kx = 0; kx < kw; kx++) {
                    const float *restrict cell = padded + ((oy * sh + ky * dh) * cols + ox * sw + kx * dw) * BLOCK;
                    const float *restrict weight = wt + (ky * kw + kx) * BLOCK;
                    for (size_t k = 0; k < BLOCK; k++) acc[k] += weight[k] * cell[k];
                }
            }
            float *pixel = result + (oy * ow + ox) * BLOCK;
            for (size_t k = 0; k < BLOCK; k++) pixel[k] = acc[k];
        }
    }
    // Back to planes, adding the residual and clamping as ck_depthwise_plane does.
    const float low = d->low, high = d->high;
    for (size_t k = 0; k < count; k++) {
        float *target = out + (first + k) * plane_out;
        const float *add = residual ? residual + (first + k) * plane_out : NULL;
        for (size_t i = 0; i < plane_out; i++) {
            float v = result[i * BLOCK + k];
            if (add) v += add[i];
            if (d->clamp) {
                v = v < low ? low : v;
                v = v > high ? high : v;
            }
            target[i] = v;
        }
    }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_max_pool_blocked(const ck_plane_window *d, const float *in, size_t first, size_t count, float *out, float *scratch) {
    const size_t sh = d->stride_h, sw = d->stride_w, dh = d->dilation_h, dw = d->dilation_w;
    const size_t kh = d->kernel_h, kw = d->kernel_w, oh = d->out_h, ow = d->out_w, plane_out = oh * ow;
    size_t rows, cols;
    blocked_extent(d, &rows, &cols);
    float *padded = scratch, *result = padded + rows * cols * BLOCK;
    if (count > BLOCK) count = BLOCK;
    interleave(d, in, first, count, -__builtin_inff(), rows, cols, padded);
    for (size_t oy = 0; oy < oh; oy++) {
        for (size_t ox = 0; ox < ow; ox++) {
            float best[BLOCK];
            for (size_t k = 0; k < BLOCK; k++) best[k] = -__builtin_inff();
            for (size_t ky = 0; ky < kh; ky++) {
                for (size_t kx = 0; kx < kw; kx++) {
                    const float *restrict cell = padded + ((oy * sh + ky * dh) * cols + ox * sw + kx * dw) * BLOCK;
                    // NaN wins, as in ck_max_pool_plane.
                    for (size_t k = 0; k < BLOCK; k++) best[k] = cell[k] > best[k] || cell[k] != cell[k] ? cell[k] : best[k];
                }
            }
            float *pixel = result + (oy * ow + ox) * BLOCK;
            for (size_t k = 0; k < BLOCK; k++) pixel[k] = best[k];
        }
    }
    for (size_t k = 0; k < count; k++) {
        float *target = out + (first + k) * plane_out;
        for (size_t i = 0; i < plane_out; i++) target[i] = result[i * BLOCK + k];
    }
}
