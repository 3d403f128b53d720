// Winograd's minimal filtering F(m×m, 3×3) for 3×3 convolutions of stride 1
// (VGG's and ResNet's), for output tiles of m = 4 or m = 2: each m×m block
// of outputs ("tile") is computed from an α×α block of inputs, α = m + 2, as
// Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so that after the transforms a tile costs α²
// multiplications per input channel instead of 9m² (36 instead of 144 for
// m = 4, 16 instead of 36 for m = 2). The elementwise products over
// channels are α² matrix products, which the caller runs with ck_sgemm:
//     M[ξ] (out_channels × tiles) = U[ξ] (out_channels × channels) · V[ξ] (channels × tiles)
// for ξ < α². The matrices are Lavin and Gray's (points 0, ±1, ±2, ∞ for
// m = 4; 0, ±1, ∞ for m = 2). F(4×4) saves more multiplications; F(2×2)
// has four times as many tiles on a map, so that on small maps (14×14) its
// products are still wide enough to run at the GEMM's speed. The transforms
// are written once for both sizes and specialised for each (always
// inlined with a constant m), and vectorised by the compiler for each
// instruction set of the target_clones list: the weights' across input
// channels, the others across the positions of a row.
#include "CKernels.h"

#include <string.h>

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define INLINE static inline __attribute__((always_inline))

enum { MAX_ALPHA = 6 };

/// G (α×3), the weights' transform.
static const float G4[6][3] = {
    {1.0f / 4, 0, 0}, {-1.0f / 6, -1.0f / 6, -1.0f / 6}, {-1.0f / 6, 1.0f / 6, -1.0f / 6},
    {1.0f / 24, 1.0f / 12, 1.0f / 6}, {1.0f / 24, -1.0f / 12, 1.0f / 6}, {0, 0, 1},
};
static const float G2[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};

/// Bᵀ·d for one column of α values, d[k] at d[k·stride].
INLINE void input_column(const int m, float *out, const float *d, size_t stride) {
    if (m == 4) {
        float d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride], d4 = d[4 * stride], d5 = d[5 * stride];
        out[0] = 4 * d0 - 5 * d2 + d4;
        out[1] = -4 * d1 - 4 * d2 + d3 + d4;
        out[2] = 4 * d1 - 4 * d2 - d3 + d4;
        out[3] = -2 * d1 - d2 + 2 * d3 + d4;
        out[4] = 2 * d1 - d2 - 2 * d3 + d4;
        out[5] = 4 * d1 - 5 * d3 + d5;
    } else {
        float d0 = d[0], d1 = d[stride], d2 = d[2 * stride], d3 = d[3 * stride];
        out[0] = d0 - d2;
        out[1] = d1 + d2;
        out[2] = d2 - d1;
        out[3] = d1 - d3;
    }
}

/// Aᵀ·p for one column of α values, p[k] at p[k·stride]: m values.
INLINE void output_column(const int m, float *out, const float *p, size_t stride) {
    if (m == 4) {
        float p0 = p[0], p1 = p[stride], p2 = p[2 * stride], p3 = p[3 * stride], p4 = p[4 * stride], p5 = p[5 * stride];
        out[0] = p0 + p1 + p2 + p3 + p4;
        out[1] = p1 - p2 + 2 * p3 - 2 * p4;
        out[2] = p1 + p2 + 4 * p3 + 4 * p4;
        out[3] = p1 - p2 + 8 * p3 - 8 * p4 + p5;
    } else {
        float p0 = p[0], p1 = p[stride], p2 = p[2 * stride], p3 = p[3 * stride];
        out[0] = p0 + p1 + p2;
        out[1] = p1 - p2 - p3;
    }
}

INLINE void weights(const int m, const float *w, size_t out_channels, size_t channels, size_t m0, size_t m1, float *u) {
    const int alpha = m + 2;
    const float (*G)[3] = m == 4 ? G4 : G2;
    enum { LANES = 16 };
    // Sixteen input channels at a time, one per vector lane: the writes to
    // each point's matrix are then contiguous. The last block may be short.
    for (size_t o = m0; o < m1; o++) {
        for (size_t c0 = 0; c0 < channels; c0 += LANES) {
            size_t count = channels - c0 < LANES ? channels - c0 : LANES;
            float g[9][LANES] = {{0}};
            for (size_t l = 0; l < count; l++) {
                for (int k = 0; k < 9; k++) g[k][l] = w[(o * channels + c0 + l) * 9 + k];
            }
            float gg[MAX_ALPHA][3][LANES];   // G·g
            for (int i = 0; i < alpha; i++) {
                for (int k = 0; k < 3; k++) {
                    for (size_t l = 0; l < LANES; l++) gg[i][k][l] = G[i][0] * g[k][l] + G[i][1] * g[3 + k][l] + G[i][2] * g[6 + k][l];
                }
            }
            for (int i = 0; i < alpha; i++) {
                for (int j = 0; j < alpha; j++) {
                    float values[LANES];
                    for (size_t l = 0; l < LANES; l++) values[l] = gg[i][0][l] * G[j][0] + gg[i][1][l] * G[j][1] + gg[i][2][l] * G[j][2];
                    memcpy(u + ((size_t)(i * alpha + j) * out_channels + o) * channels + c0, values, count * sizeof(float));
                }
            }
        }
    }
}

CLONES void ck_winograd_weights(size_t tile, const float *w, size_t out_channels, size_t channels, size_t m0, size_t m1, float *u) {
    if (tile == 4) {
        weights(4, w, out_channels, channels, m0, m1, u);
    } else {
        weights(2, w, out_channels, channels, m0, m1, u);
    }
}

size_t ck_winograd_row_floats(size_t tile, size_t tiles_w) {
    // α padded input rows, then their α vertical transforms.
    return 2 * (tile + 2) * (tiles_w * tile + 2);
}

INLINE void input(const int m, const float *x, size_t height, size_t width, size_t pad_top, size_t pad_left,
                  size_t tiles_w, size_t tile_row0, size_t tile_row1, size_t c0, size_t c1,
                  size_t channels, float *v, float *rows) {
    const int alpha = m + 2;
    const size_t span = tiles_w * m + 2, tiles = (tile_row1 - tile_row0) * tiles_w;
    float *vertical = rows + alpha * span;
    for (size_t c = c0; c < c1; c++) {
        const float *plane = x + c * height * width;
        for (size_t tr = tile_row0; tr < tile_row1; tr++) {
            // The α input rows under this row of tiles, zero outside the image.
            for (int k = 0; k < alpha; k++) {
                float *line = rows + k * span;
                size_t y = tr * m + k - pad_top;   // wraps around above the image, and is then ≥ height
                memset(line, 0, span * sizeof(float));
                if (tr * m + k < pad_top || y >= height) continue;
                size_t first = pad_left, count = width < span - pad_left ? width : span - pad_left;
                memcpy(line + first, plane + y * width, count * sizeof(float));
            }
            for (size_t s = 0; s < span; s++) {
                float out[MAX_ALPHA];
                input_column(m, out, rows + s, span);
                for (int i = 0; i < alpha; i++) vertical[i * span + s] = out[i];
            }
            // Across each tile's α columns of the vertical transforms.
            size_t tile0 = (tr - tile_row0) * tiles_w;
            for (int i = 0; i < alpha; i++) {
                const float *t = vertical + i * span;
                float *target = v + ((size_t)(i * alpha) * channels + c) * tiles + tile0;
                const size_t point_stride = channels * tiles;
                for (size_t tc = 0; tc < tiles_w; tc++) {
                    float out[MAX_ALPHA];
                    input_column(m, out, t + tc * m, 1);
                    for (int j = 0; j < alpha; j++) target[j * point_stride + tc] = out[j];
                }
            }
        }
    }
}

CLONES void ck_winograd_input(size_t tile, const float *x, size_t height, size_t width, size_t pad_top, size_t pad_left,
                              size_t tiles_w, size_t tile_row0, size_t tile_row1, size_t c0, size_t c1,
                              size_t channels, float *v, float *rows) {
    if (tile == 4) {
        input(4, x, height, width, pad_top, pad_left, tiles_w, tile_row0, tile_row1, c0, c1, channels, v, rows);
    } else {
        input(2, x, height, width, pad_top, pad_left, tiles_w, tile_row0, tile_row1, c0, c1, channels, v, rows);
    }
}

size_t ck_winograd_output_floats(size_t tile, size_t tiles_w) {
    // Per point column, the vertical transform of a row of tiles; then m output rows.
    return tile * (tile + 2) * tiles_w + tile * tiles_w * tile;
}

INLINE void output(const int m, const float *products, size_t out_channels, size_t tiles_w,
                   size_t tile_row0, size_t tile_row1, size_t out_h, size_t out_w,
                   const float *bias, const float *residual, int clamp, float low, float high,
                   size_t m0, size_t m1, float *y, float *scratch) {
    const int alpha = m + 2;
    const size_t tiles = (tile_row1 - tile_row0) * tiles_w, point_stride = out_channels * tiles;
    const size_t line = tiles_w * m;
    float *vertical = scratch, *lines = scratch + m * alpha * tiles_w;
    for (size_t o = m0; o < m1; o++) {
        float b = bias ? bias[o] : 0;
        for (size_t tr = tile_row0; tr < tile_row1; tr++) {
            const float *source = products + o * tiles + (tr - tile_row0) * tiles_w;
            // vertical[a][j][tc]: Aᵀ over the α rows of point column j.
            for (int j = 0; j < alpha; j++) {
                for (size_t tc = 0; tc < tiles_w; tc++) {
                    float out[4];
                    output_column(m, out, source + (size_t)j * point_stride + tc, alpha * point_stride);
                    for (int a = 0; a < m; a++) vertical[(a * alpha + j) * tiles_w + tc] = out[a];
                }
            }
            for (int a = 0; a < m; a++) {
                for (size_t tc = 0; tc < tiles_w; tc++) {
                    float out[4];
                    output_column(m, out, vertical + (size_t)(a * alpha) * tiles_w + tc, tiles_w);
                    for (int k = 0; k < m; k++) lines[a * line + tc * m + k] = out[k] + b;
                }
            }
            for (size_t a = 0; a < (size_t)m && tr * m + a < out_h; a++) {
                size_t oy = tr * m + a;
                float *row = y + (o * out_h + oy) * out_w;
                float *values = lines + a * line;
                if (residual) {
                    const float *add = residual + (o * out_h + oy) * out_w;
                    for (size_t x = 0; x < out_w; x++) values[x] += add[x];
                }
                if (clamp) {
                    // Comparisons, so that NaN passes, as in the GEMM's epilogue.
                    for (size_t x = 0; x < out_w; x++) {
                        float value = values[x] < low ? low : values[x];
                        values[x] = value > high ? high : value;
                    }
                }
                memcpy(row, values, out_w * sizeof(float));
            }
        }
    }
}

CLONES void ck_winograd_output(size_t tile, const float *products, size_t out_channels, size_t tiles_w,
                               size_t tile_row0, size_t tile_row1, size_t out_h, size_t out_w,
                               const float *bias, const float *residual, int clamp, float low, float high,
                               size_t m0, size_t m1, float *y, float *scratch) {
    if (tile == 4) {
        output(4, products, out_channels, tiles_w, tile_row0, tile_row1, out_h, out_w, bias, residual, clamp, low, high, m0, m1, y, scratch);
    } else {
        output(2, products, out_channels, tiles_w, tile_row0, tile_row1, out_h, out_w, bias, residual, clamp, low, high, m0, m1, y, scratch);
    }
}
