// Winograd's minimal filtering F(4×4, 3×3) for 3×3 convolutions of stride 1
// (VGG's and ResNet's): each 4×4 block of outputs ("tile") is computed from
// a 6×6 block of inputs as Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, so that after the
// transforms a tile costs 36 multiplications per input channel instead of
// 144. The elementwise products over channels are 36 matrix products, which
// the caller runs with ck_sgemm:
//     M[ξ] (out_channels × tiles) = U[ξ] (out_channels × channels) · V[ξ] (channels × tiles)
// for ξ < 36. The matrices are Lavin and Gray's (points 0, ±1, ±2, ∞). The
// transforms are vectorised by the compiler, for each instruction set of the
// target_clones list: the weights' across input channels, the others across
// the positions of a row.
#include "CKernels.h"

#include <string.h>

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

enum { ALPHA = 6, TILE = 4, POINTS = ALPHA * ALPHA };

CLONES void ck_winograd_weights(const float *w, size_t out_channels, size_t channels, size_t m0, size_t m1, float *u) {
    static const float G[ALPHA][3] = {
        {1.0f / 4, 0, 0}, {-1.0f / 6, -1.0f / 6, -1.0f / 6}, {-1.0f / 6, 1.0f / 6, -1.0f / 6},
        {1.0f / 24, 1.0f / 12, 1.0f / 6}, {1.0f / 24, -1.0f / 12, 1.0f / 6}, {0, 0, 1},
    };
    enum { LANES = 16 };
    // Sixteen input channels at a time, one per vector lane: the writes to
    // each point's matrix are then contiguous. The last block may be short.
    for (size_t m = m0; m < m1; m++) {
        for (size_t c0 = 0; c0 < channels; c0 += LANES) {
            size_t count = channels - c0 < LANES ? channels - c0 : LANES;
            float g[9][LANES] = {{0}};
            for (size_t l = 0; l < count; l++) {
                for (int k = 0; k < 9; k++) g[k][l] = w[(m * channels + c0 + l) * 9 + k];
            }
            float gg[ALPHA][3][LANES];   // G·g
            for (int i = 0; i < ALPHA; i++) {
                for (int k = 0; k < 3; k++) {
                    for (size_t l = 0; l < LANES; l++) gg[i][k][l] = G[i][0] * g[k][l] + G[i][1] * g[3 + k][l] + G[i][2] * g[6 + k][l];
                }
            }
            for (int i = 0; i < ALPHA; i++) {
                for (int j = 0; j < ALPHA; j++) {
                    float values[LANES];
                    for (size_t l = 0; l < LANES; l++) values[l] = gg[i][0][l] * G[j][0] + gg[i][1][l] * G[j][1] + gg[i][2][l] * G[j][2];
                    memcpy(u + ((size_t)(i * ALPHA + j) * out_channels + m) * channels + c0, values, count * sizeof(float));
                }
            }
        }
    }
}

/// Bᵀ·d for one column of six values, d[k] at d[k·stride].
#define INPUT_COLUMN(out, d, stride)                                                                   \
    do {                                                                                               \
        float d0 = (d)[0], d1 = (d)[stride], d2 = (d)[2 * (stride)];                                   \
        float d3 = (d)[3 * (stride)], d4 = (d)[4 * (stride)], d5 = (d)[5 * (stride)];                  \
        (out)[0] = 4 * d0 - 5 * d2 + d4;                                                               \
        (out)[1] = -4 * d1 - 4 * d2 + d3 + d4;                                                         \
        (out)[2] = 4 * d1 - 4 * d2 - d3 + d4;                                                          \
        (out)[3] = -2 * d1 - d2 + 2 * d3 + d4;                                                         \
        (out)[4] = 2 * d1 - d2 - 2 * d3 + d4;                                                          \
        (out)[5] = 4 * d1 - 5 * d3 + d5;                                                               \
    } while (0)

size_t ck_winograd_row_floats(size_t tiles_w) {
    // Six padded input rows, then their six vertical transforms.
    return 2 * ALPHA * (tiles_w * TILE + 2);
}

CLONES void ck_winograd_input(const float *x, size_t height, size_t width, size_t pad_top, size_t pad_left,
                              size_t tiles_w, size_t tile_row0, size_t tile_row1, size_t c0, size_t c1,
                              size_t channels, float *v, float *rows) {
    const size_t span = tiles_w * TILE + 2, tiles = (tile_row1 - tile_row0) * tiles_w;
    float *vertical = rows + ALPHA * span;
    for (size_t c = c0; c < c1; c++) {
        const float *plane = x + c * height * width;
        for (size_t tr = tile_row0; tr < tile_row1; tr++) {
            // The six input rows under this row of tiles, zero outside the image.
            for (size_t k = 0; k < ALPHA; k++) {
                float *line = rows + k * span;
                size_t y = tr * TILE + k - pad_top;   // wraps around above the image, and is then ≥ height
                memset(line, 0, span * sizeof(float));
                if (tr * TILE + k < pad_top || y >= height) continue;
                size_t first = pad_left, count = width < span - pad_left ? width : span - pad_left;
                memcpy(line + first, plane + y * width, count * sizeof(float));
            }
            for (size_t s = 0; s < span; s++) {
                float out[ALPHA];
                INPUT_COLUMN(out, rows + s, span);
                for (int i = 0; i < ALPHA; i++) vertical[i * span + s] = out[i];
            }
            // Across each tile's six columns of the vertical transforms.
            size_t tile0 = (tr - tile_row0) * tiles_w;
            for (int i = 0; i < ALPHA; i++) {
                const float *t = vertical + i * span;
                float *target = v + ((size_t)(i * ALPHA) * channels + c) * tiles + tile0;
                const size_t point_stride = channels * tiles;
                for (size_t tc = 0; tc < tiles_w; tc++) {
                    float out[ALPHA];
                    INPUT_COLUMN(out, t + tc * TILE, 1);
                    for (int j = 0; j < ALPHA; j++) target[j * point_stride + tc] = out[j];
                }
            }
        }
    }
}

/// Aᵀ·m for one column of six values, m[k] at m[k·stride].
#define OUTPUT_COLUMN(out, m, stride)                                                                  \
    do {                                                                                               \
        float m0 = (m)[0], m1 = (m)[stride], m2 = (m)[2 * (stride)];                                   \
        float m3 = (m)[3 * (stride)], m4 = (m)[4 * (stride)], m5 = (m)[5 * (stride)];                  \
        (out)[0] = m0 + m1 + m2 + m3 + m4;                                                             \
        (out)[1] = m1 - m2 + 2 * m3 - 2 * m4;                                                          \
        (out)[2] = m1 + m2 + 4 * m3 + 4 * m4;                                                          \
        (out)[3] = m1 - m2 + 8 * m3 - 8 * m4 + m5;                                                     \
    } while (0)

size_t ck_winograd_output_floats(size_t tiles_w) {
    // Per point column, the vertical transform of a row of tiles; then four output rows.
    return TILE * ALPHA * tiles_w + TILE * tiles_w * TILE;
}

CLONES void ck_winograd_output(const float *products, size_t out_channels, size_t tiles_w,
                               size_t tile_row0, size_t tile_row1, size_t out_h, size_t out_w,
                               const float *bias, const float *residual, int clamp, float low, float high,
                               size_t m0, size_t m1, float *y, float *scratch) {
    const size_t tiles = (tile_row1 - tile_row0) * tiles_w, point_stride = out_channels * tiles;
    const size_t line = tiles_w * TILE;
    float *vertical = scratch, *lines = scratch + TILE * ALPHA * tiles_w;
    for (size_t m = m0; m < m1; m++) {
        float b = bias ? bias[m] : 0;
        for (size_t tr = tile_row0; tr < tile_row1; tr++) {
            const float *source = products + m * tiles + (tr - tile_row0) * tiles_w;
            // vertical[a][j][tc]: Aᵀ over the six rows of point column j.
            for (int j = 0; j < ALPHA; j++) {
                for (size_t tc = 0; tc < tiles_w; tc++) {
                    float out[TILE];
                    OUTPUT_COLUMN(out, source + (size_t)j * point_stride + tc, ALPHA * point_stride);
                    for (int a = 0; a < TILE; a++) vertical[(a * ALPHA + j) * tiles_w + tc] = out[a];
                }
            }
            for (int a = 0; a < TILE; a++) {
                for (size_t tc = 0; tc < tiles_w; tc++) {
                    float out[TILE];
                    OUTPUT_COLUMN(out, vertical + (size_t)(a * ALPHA) * tiles_w + tc, tiles_w);
                    for (int k = 0; k < TILE; k++) lines[a * line + tc * TILE + k] = out[k] + b;
                }
            }
            for (size_t a = 0; a < TILE && tr * TILE + a < out_h; a++) {
                size_t oy = tr * TILE + a;
                float *row = y + (m * out_h + oy) * out_w;
                float *values = lines + a * line;
                if (residual) {
                    const float *add = residual + (m * out_h + oy) * out_w;
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
