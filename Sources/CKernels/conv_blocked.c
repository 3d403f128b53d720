// A convolution computed directly over sixteen interleaved input channels,
// for maps too small for the GEMM's register tiles: a 7×7 map is 49 columns,
// which fill 77% of four vectors, and the tile of the last column does one
// multiply-add per broadcast. Here the vectors run along output channels
// instead, so that every lane is used whatever the map's size: a run of up
// to 14 output pixels (a row, part of one, or two rows of a map at most 7
// wide) and two vectors of output channels keep 28 sums in registers; each
// step broadcasts one input value of the run's pixels and multiplies it by
// the two weight vectors of that input channel and tap. The input is
// interleaved and padded once per image (interleaved.h), and the weights
// packed once per layer, so that neither needs a check or a gather inside.
#include "CKernels.h"
#include "interleaved.h"

// Output channels per group: two vectors. Pixels per run: 14, so that the
// sums (28 vectors), two weight vectors and a broadcast fit in 32 registers.
enum { GROUP = 2 * BLOCK, RUN = 14 };

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define UNROLLED _Pragma("clang loop unroll(full)")

static inline size_t blocks_of(size_t n, size_t size) {
    return n / size + (n % size != 0);
}

size_t ck_conv_blocked_weight_floats(size_t out_channels, size_t channels, size_t taps) {
    size_t floats;
    if (__builtin_mul_overflow(blocks_of(out_channels, GROUP), blocks_of(channels, BLOCK), &floats) ||
        __builtin_mul_overflow(floats, taps, &floats) || __builtin_mul_overflow(floats, (size_t)BLOCK * GROUP, &floats)) {
        return 0;
    }
    return floats;
}

void ck_conv_blocked_weights(const float *w, size_t out_channels, size_t channels, size_t taps, float *packed) {
    const size_t groups = blocks_of(out_channels, GROUP), blocks = blocks_of(channels, BLOCK);
    for (size_t g = 0; g < groups; g++) {
        for (size_t b = 0; b < blocks; b++) {
            for (size_t t = 0; t < taps; t++) {
                for (size_t i = 0; i < BLOCK; i++) {
                    const size_t c = b * BLOCK + i;
                    for (size_t o = 0; o < GROUP; o++) {
                        const size_t m = g * GROUP + o;
                        *packed++ = m < out_channels && c < channels ? w[(m * channels + c) * taps + t] : 0;
                    }
                }
            }
        }
    }
}

size_t ck_conv_blocked_input_floats(const ck_plane_window *d, size_t channels) {
    size_t rows, cols, floats;
    if (blocked_extent(d, &rows, &cols) || __builtin_mul_overflow(rows, cols, &floats) ||
        __builtin_mul_overflow(floats, (size_t)BLOCK, &floats) ||
        __builtin_mul_overflow(floats, blocks_of(channels, BLOCK), &floats)) {
        return 0;
    }
    return floats;
}

CLONES void ck_conv_blocked_input(const ck_plane_window *d, const float *x, size_t channels, size_t first, size_t last,
                                  float *blocked) {
    size_t rows, cols;
    blocked_extent(d, &rows, &cols);
    const size_t plane = d->height * d->width, block_floats = rows * cols * BLOCK;
    for (size_t b = first; b < last; b++) {
        const size_t count = channels - b * BLOCK < BLOCK ? channels - b * BLOCK : BLOCK;
        interleave(d, x + b * BLOCK * plane, count, 0, rows, cols, blocked + b * block_floats);
    }
}

/// Where a run's sums go, and what is applied to them on the way.
typedef struct run_target {
    float *out;                // output channel 0 of the image, at the run's first pixel
    const float *residual;     // laid out like out, or NULL
    const float *bias;         // output channel 0's bias, or NULL
    size_t plane, row;         // floats from one output channel to the next, from one output row to the next
    size_t channels;           // output channels of the group that exist (≤ GROUP)
    int clamp;
    float low, high;
    const char *prefetch;      // weights of the next group, requested a few lines per tap
    size_t prefetch_lines;
} run_target;

/// Stores output channel m's sums over a run of R rows of P pixels
/// (values[r·P + p]) with its bias, the residual and the clamp.
static inline __attribute__((always_inline)) void finish_channel(size_t m, const float *values, int R, int P,
                                                                 const run_target *t) {
    const float bias = t->bias ? t->bias[m] : 0;
    for (int r = 0; r < R; r++) {
        float *out = t->out + m * t->plane + r * t->row;
        const float *add = t->residual ? t->residual + m * t->plane + r * t->row : NULL;
        for (int p = 0; p < P; p++) {
            float v = values[r * P + p] + bias;
            if (add) v += add[p];
            if (t->clamp) {
                // Comparisons, so that NaN passes, as in the GEMM's epilogue.
                v = v < t->low ? t->low : v;
                v = v > t->high ? t->high : v;
            }
            out[p] = v;
        }
    }
}

/// The sums of R rows of P output pixels (R·P ≤ RUN) for the group's
/// 2 × 16 output channels. `in` is the blocked input under the run's first
/// pixel; the pixels of a row are S input columns apart (the column stride,
/// a constant so that each broadcast's address is a constant offset), its
/// rows `row_step` floats apart. Then each vector of sums is transposed into
/// one vector per output channel and finished: bias, residual, clamp.
static inline __attribute__((always_inline)) void conv_run(const int R, const int P, const int S, const float *in,
                                                           size_t row_step, size_t blocks, size_t block_floats,
                                                           size_t kh, size_t kw, size_t tap_row, size_t tap_column,
                                                           const float *w, const run_target *t) {
    const char *ahead = t->prefetch;
    // Every loop over the sums is unrolled, so that they stay in registers:
    // one indexed by a variable would keep the array in memory.
    vec16 acc[2][RUN];
    UNROLLED for (int j = 0; j < R * P; j++) acc[0][j] = acc[1][j] = 0;
    for (size_t b = 0; b < blocks; b++) {
        for (size_t ky = 0; ky < kh; ky++) {
            for (size_t kx = 0; kx < kw; kx++, w += BLOCK * GROUP) {
                for (size_t line = 0; line < t->prefetch_lines; line++, ahead += 64) __builtin_prefetch(ahead, 0, 2);
                const float *base = in + b * block_floats + ky * tap_row + kx * tap_column;
                for (size_t i = 0; i < BLOCK; i++) {
                    const vec16 w0 = LOAD16(w + i * GROUP), w1 = LOAD16(w + i * GROUP + BLOCK);
                    UNROLLED for (int r = 0; r < R; r++) {
                        UNROLLED for (int p = 0; p < P; p++) {
                            const float s = base[r * row_step + (size_t)(p * S * BLOCK) + i];
                            acc[0][r * P + p] += s * w0;
                            acc[1][r * P + p] += s * w1;
                        }
                    }
                }
            }
        }
    }
    UNROLLED for (int half = 0; half < 2; half++) {
        vec16 lanes[BLOCK];
        UNROLLED for (int j = 0; j < BLOCK; j++) lanes[j] = j < R * P ? acc[half][j] : 0;
        transpose16(lanes);
        for (size_t k = 0; k < BLOCK && half * BLOCK + k < t->channels; k++) {
            float values[BLOCK];
            STORE16(values, lanes[k]);
            finish_channel(half * BLOCK + k, values, R, P, t);
        }
    }
}

#define RUN_CASE(R, P)                                                                                     \
    case (R) * 16 + (P):                                                                                   \
        if (stride == 1) {                                                                                 \
            conv_run(R, P, 1, in, row_step, blocks, block_floats, kh, kw, tap_row, tap_column, w, t);      \
        } else {                                                                                           \
            conv_run(R, P, 2, in, row_step, blocks, block_floats, kh, kw, tap_row, tap_column, w, t);      \
        }                                                                                                  \
        break;

typedef void run_fn(size_t R, size_t P, size_t stride, const float *in, size_t row_step, size_t blocks, size_t block_floats,
                    size_t kh, size_t kw, size_t tap_row, size_t tap_column, const float *w, const run_target *t);

/// One run with R and P as constants (R = 1 with P ≤ 14, or R = 2 with P ≤ 7),
/// for AVX-512, whose 32 registers hold the sums. The engine takes this path
/// only with AVX-512 in use.
__attribute__((target("avx512f"))) static void run_avx512(size_t R, size_t P, size_t stride, const float *in, size_t row_step,
                                                          size_t blocks, size_t block_floats, size_t kh, size_t kw,
                                                          size_t tap_row, size_t tap_column, const float *w, const run_target *t) {
    switch (R * 16 + P) {
        RUN_CASE(1, 1) RUN_CASE(1, 2) RUN_CASE(1, 3) RUN_CASE(1, 4) RUN_CASE(1, 5) RUN_CASE(1, 6) RUN_CASE(1, 7)
        RUN_CASE(1, 8) RUN_CASE(1, 9) RUN_CASE(1, 10) RUN_CASE(1, 11) RUN_CASE(1, 12) RUN_CASE(1, 13) RUN_CASE(1, 14)
        RUN_CASE(2, 1) RUN_CASE(2, 2) RUN_CASE(2, 3) RUN_CASE(2, 4) RUN_CASE(2, 5) RUN_CASE(2, 6) RUN_CASE(2, 7)
    default:
        break;
    }
}

/// The same sums a float at a time: correct on any processor, and compact,
/// since the engine does not choose this path without AVX-512.
static void run_portable(size_t R, size_t P, size_t stride, const float *in, size_t row_step, size_t blocks,
                         size_t block_floats, size_t kh, size_t kw, size_t tap_row, size_t tap_column, const float *w,
                         const run_target *t) {
    float sums[GROUP][RUN] = {{0}};
    for (size_t b = 0; b < blocks; b++) {
        for (size_t ky = 0; ky < kh; ky++) {
            for (size_t kx = 0; kx < kw; kx++, w += BLOCK * GROUP) {
                const float *base = in + b * block_floats + ky * tap_row + kx * tap_column;
                for (size_t i = 0; i < BLOCK; i++) {
                    for (size_t r = 0; r < R; r++) {
                        for (size_t p = 0; p < P; p++) {
                            const float s = base[r * row_step + p * stride * BLOCK + i];
                            for (size_t o = 0; o < GROUP; o++) sums[o][r * P + p] += s * w[i * GROUP + o];
                        }
                    }
                }
            }
        }
    }
    for (size_t m = 0; m < t->channels; m++) finish_channel(m, sums[m], (int)R, (int)P, t);
}

size_t ck_conv_blocked_row_step(const ck_plane_window *d) {
    return d->out_w * 2 <= RUN ? 2 : 1;
}

void ck_conv_blocked_rows(const ck_plane_window *d, const float *blocked, size_t channels, const float *packed,
                          size_t out_channels, size_t first_group, size_t last_group, size_t row0, size_t row1,
                          const float *bias, const float *residual, float *out) {
    size_t rows, cols;
    blocked_extent(d, &rows, &cols);
    const size_t blocks = blocks_of(channels, BLOCK), kh = d->kernel_h, kw = d->kernel_w;
    const size_t block_floats = rows * cols * BLOCK, oh = d->out_h, ow = d->out_w, stride = d->stride_w;
    const size_t row_step = d->stride_h * cols * BLOCK, group_floats = blocks * kh * kw * BLOCK * GROUP;
    // Rows in pairs where two fit in a run; else each row in as few runs as
    // hold it, of nearly equal widths (16 columns: 8 and 8, not 14 and 2).
    const size_t pair = ck_conv_blocked_row_step(d), pieces = blocks_of(ow, RUN);
    if (row0 >= row1 || blocks == 0 || kh * kw == 0) return;
    const size_t steps = blocks_of(row1 - row0, pair) * pieces * blocks * kh * kw;
    // The AVX-512 runs know column strides of 1 and 2; any other is correct
    // by the portable loop.
    __builtin_cpu_init();
    run_fn *run = stride <= 2 && __builtin_cpu_supports("avx512f") ? run_avx512 : run_portable;
    for (size_t group = first_group; group < last_group; group++) {
        const size_t first = group * GROUP;
        const float *w = packed + group * group_floats;
        // The group's first run reads its weights from memory, the others
        // from the level-2 cache: each run requests its share of the next
        // group's, so that they arrive while this group computes.
        const size_t lines = group + 1 < last_group ? blocks_of(group_floats * sizeof(float) / 64, steps) : 0;
        run_target t = {
            .bias = bias ? bias + first : NULL, .plane = oh * ow, .row = ow,
            .channels = out_channels - first < GROUP ? out_channels - first : GROUP,
            .clamp = d->clamp, .low = d->low, .high = d->high,
            .prefetch = (const char *)(w + group_floats), .prefetch_lines = lines,
        };
        for (size_t oy = row0; oy < row1; oy += pair) {
            const size_t R = oy + pair <= row1 ? pair : 1;
            for (size_t piece = 0, ox = 0; piece < pieces; piece++) {
                const size_t end = (piece + 1) * ow / pieces, P = end - ox;
                const float *in = blocked + (oy * d->stride_h * cols + ox * stride) * BLOCK;
                const size_t at = (first * oh + oy) * ow + ox;
                t.out = out + at;
                t.residual = residual ? residual + at : NULL;
                run(R, P, stride, in, row_step, blocks, block_floats, kh, kw, d->dilation_h * cols * BLOCK,
                    d->dilation_w * BLOCK, w, &t);
                t.prefetch += lines * blocks * kh * kw * 64;
                ox = end;
            }
        }
    }
}
