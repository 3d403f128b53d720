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

/// `n` copies of `value` (0 through memset, which is faster).
static inline void fill_floats(float *p, float value, size_t n) {
    if (value == 0) {
        memset(p, 0, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) p[i] = value;
}

size_t ck_plane_window_scratch_floats(const ck_plane_window *d) {
    size_t a, b, rows, span, phase_width, floats;
    if (__builtin_mul_overflow(d->out_h - 1, d->stride_h, &a) || __builtin_mul_overflow(d->kernel_h - 1, d->dilation_h, &b) ||
        __builtin_add_overflow(a, b + 1, &rows) || __builtin_mul_overflow(d->kernel_w - 1, d->dilation_w, &span) ||
        __builtin_add_overflow(d->out_w, span / d->stride_w, &phase_width) ||
        __builtin_mul_overflow(rows, phase_width, &floats) || __builtin_mul_overflow(floats, d->stride_w, &floats) ||
        __builtin_add_overflow(floats, (size_t)LANES, &floats)) {
        return 0;
    }
    return floats;
}

/// Copies the plane into `scratch`, padded with `fill` and split by column
/// phase: scratch[phase][row][i] holds padded column i·sw + phase of padded
/// row `row`, that is input pixel (row − pad_top, i·sw + phase − pad_left),
/// or `fill` outside the image. Returns the rows of one phase.
static inline size_t pad_plane(const ck_plane_window *d, const float *in, float *scratch, float fill, size_t phase_width) {
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
                memcpy(line + begin, source, (end - begin) * sizeof(float));
            } else {
                for (size_t i = begin; i < end; i++) line[i] = source[(i - begin) * sw];
            }
            fill_floats(line + end, fill, phase_width - end);
        }
    }
    memset(scratch + sw * rows * phase_width, 0, LANES * sizeof(float));
    return rows;
}

/// Adds the residual, clamps, and stores the first `count` of `acc` at `row`.
static inline void finish_depthwise(const ck_plane_window *d, float *acc, size_t count, const float *add, float *row) {
    if (add) {
        for (size_t i = 0; i < count; i++) acc[i] += add[i];
    }
    if (d->clamp) {
        // Comparisons, so that NaN passes, as in the GEMM's epilogue.
        for (size_t i = 0; i < count; i++) {
            float v = acc[i] < d->low ? d->low : acc[i];
            acc[i] = v > d->high ? d->high : v;
        }
    }
    memcpy(row, acc, count * sizeof(float));
}

/// `WIDTH` output columns from x0 of output row oy: bias plus every tap's
/// weighted input, accumulated in registers.
#define DEPTHWISE_COLUMNS(WIDTH)                                                                       \
    float acc[WIDTH];                                                                                   \
    for (size_t i = 0; i < WIDTH; i++) acc[i] = bias;                                                   \
    for (size_t ky = 0; ky < kh; ky++) {                                                                \
        size_t r = oy * sh + ky * dh;                                                                   \
        for (size_t kx = 0; kx < kw; kx++) {                                                            \
            size_t c = kx * dw;                                                                         \
            const float *restrict source = scratch + ((c % sw) * rows + r) * phase_width + c / sw + x0; \
            float weight = weights[ky * kw + kx];                                                       \
            for (size_t i = 0; i < WIDTH; i++) acc[i] += weight * source[i];                            \
        }                                                                                               \
    }

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_depthwise_plane(const ck_plane_window *d, const float *in, const float *weights, float bias,
                        const float *residual, float *out, float *scratch) {
    const size_t sh = d->stride_h, sw = d->stride_w, dh = d->dilation_h, dw = d->dilation_w;
    const size_t kh = d->kernel_h, kw = d->kernel_w, oh = d->out_h, ow = d->out_w;
    const size_t phase_width = ow + (kw - 1) * dw / sw;
    const size_t rows = pad_plane(d, in, scratch, 0, phase_width);
    for (size_t oy = 0; oy < oh; oy++) {
        float *row = out + oy * ow;
        const float *add = residual ? residual + oy * ow : NULL;
        size_t x0 = 0;
        for (; x0 + CHUNK <= ow; x0 += CHUNK) {
            DEPTHWISE_COLUMNS(CHUNK)
            finish_depthwise(d, acc, CHUNK, add ? add + x0 : NULL, row + x0);
        }
        for (; x0 < ow; x0 += LANES) {
            DEPTHWISE_COLUMNS(LANES)
            finish_depthwise(d, acc, ow - x0 < LANES ? ow - x0 : LANES, add ? add + x0 : NULL, row + x0);
        }
    }
}

/// `WIDTH` output columns from x0 of output row oy: the largest input under
/// each window (NaN wins, as in the engine's other pools).
#define MAX_COLUMNS(WIDTH)                                                                              \
    float best[WIDTH];                                                                                  \
    for (size_t i = 0; i < WIDTH; i++) best[i] = -__builtin_inff();                                     \
    for (size_t ky = 0; ky < kh; ky++) {                                                                \
        size_t r = oy * sh + ky * dh;                                                                   \
        for (size_t kx = 0; kx < kw; kx++) {                                                            \
            size_t c = kx * dw;                                                                         \
            const float *restrict source = scratch + ((c % sw) * rows + r) * phase_width + c / sw + x0; \
            for (size_t i = 0; i < WIDTH; i++) {                                                        \
                float v = source[i];                                                                    \
                best[i] = v > best[i] || v != v ? v : best[i];                                          \
            }                                                                                           \
        }                                                                                               \
    }

__attribute__((target_clones("avx512f", "avx2", "default")))
void ck_max_pool_plane(const ck_plane_window *d, const float *in, float *out, float *scratch) {
    const size_t sh = d->stride_h, sw = d->stride_w, dh = d->dilation_h, dw = d->dilation_w;
    const size_t kh = d->kernel_h, kw = d->kernel_w, oh = d->out_h, ow = d->out_w;
    const size_t phase_width = ow + (kw - 1) * dw / sw;
    const size_t rows = pad_plane(d, in, scratch, -__builtin_inff(), phase_width);
    for (size_t oy = 0; oy < oh; oy++) {
        float *row = out + oy * ow;
        size_t x0 = 0;
        for (; x0 + CHUNK <= ow; x0 += CHUNK) {
            MAX_COLUMNS(CHUNK)
            memcpy(row + x0, best, CHUNK * sizeof(float));
        }
        for (; x0 < ow; x0 += LANES) {
            MAX_COLUMNS(LANES)
            memcpy(row + x0, best, (ow - x0 < LANES ? ow - x0 : LANES) * sizeof(float));
        }
    }
}
