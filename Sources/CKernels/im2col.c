// im2col for NCHW convolution; see include/CKernels.h.
#include "CKernels.h"

#include <stddef.h>
#include <string.h>

/// The output positions o in [begin, end) whose input position
/// o·stride + offset lies in [0, extent), as the half-open range [*first, *last).
static void valid_range(ptrdiff_t offset, size_t stride, size_t extent, size_t begin, size_t end,
                        size_t *first, size_t *last) {
    ptrdiff_t s = (ptrdiff_t)stride;
    ptrdiff_t lo = offset >= 0 ? 0 : (-offset + s - 1) / s;
    ptrdiff_t room = (ptrdiff_t)extent - offset;
    ptrdiff_t hi = room <= 0 ? 0 : (room + s - 1) / s;
    // Clamped so that begin ≤ first ≤ last ≤ end even when no position is valid.
    if (lo < (ptrdiff_t)begin) lo = (ptrdiff_t)begin;
    if (hi > (ptrdiff_t)end) hi = (ptrdiff_t)end;
    if (hi < lo) hi = lo;
    if (lo > (ptrdiff_t)end) lo = hi = (ptrdiff_t)end;
    *first = (size_t)lo;
    *last = (size_t)hi;
}

void ck_im2col_rows(const float *image, size_t channels, size_t height, size_t width,
                    size_t kernel_h, size_t kernel_w,
                    size_t pad_top, size_t pad_left, size_t pad_bottom, size_t pad_right,
                    size_t stride_h, size_t stride_w,
                    size_t dilation_h, size_t dilation_w,
                    size_t out_row_begin, size_t out_row_end, float *columns) {
    // The band's rows are given, so the bottom padding only matters to the
    // caller's out_h; it is taken so that both functions take one geometry.
    (void)pad_bottom;
    ptrdiff_t span_w = (ptrdiff_t)(width + pad_left + pad_right) - (ptrdiff_t)(dilation_w * (kernel_w - 1) + 1);
    if (span_w < 0 || out_row_begin >= out_row_end) return;
    size_t out_w = (size_t)span_w / stride_w + 1;
    size_t rows = out_row_end - out_row_begin;

    for (size_t c = 0; c < channels; c++) {
        const float *plane = image + c * height * width;
        for (size_t ky = 0; ky < kernel_h; ky++) {
            // Each kernel tap sees a shifted, strided window of the plane: the
            // valid rows and columns are found once, so that each output row
            // is a plain copy between two runs of zeros.
            size_t y0, y1;
            valid_range((ptrdiff_t)(ky * dilation_h) - (ptrdiff_t)pad_top, stride_h, height,
                        out_row_begin, out_row_end, &y0, &y1);
            for (size_t kx = 0; kx < kernel_w; kx++) {
                ptrdiff_t offset_x = (ptrdiff_t)(kx * dilation_w) - (ptrdiff_t)pad_left;
                size_t x0, x1;
                valid_range(offset_x, stride_w, width, 0, out_w, &x0, &x1);
                if (x0 > 0 || x1 < out_w) {
                    // Zeros at both ends of every line: one memset for the
                    // whole block costs less than two tiny ones per line.
                    memset(columns, 0, rows * out_w * sizeof(float));
                } else {
                    memset(columns, 0, (y0 - out_row_begin) * out_w * sizeof(float));
                    memset(columns + (y1 - out_row_begin) * out_w, 0, (out_row_end - y1) * out_w * sizeof(float));
                }
                for (size_t oy = y0; oy < y1; oy++) {
                    float *line = columns + (oy - out_row_begin) * out_w;
                    const float *in = plane + (oy * stride_h + ky * dilation_h - pad_top) * width;
                    if (stride_w == 1) {
                        memcpy(line + x0, in + ((ptrdiff_t)x0 + offset_x), (x1 - x0) * sizeof(float));
                    } else {
                        for (size_t ox = x0; ox < x1; ox++) line[ox] = in[(ptrdiff_t)(ox * stride_w) + offset_x];
                    }
                }
                columns += rows * out_w;
            }
        }
    }
}

void ck_im2col(const float *image, size_t channels, size_t height, size_t width,
               size_t kernel_h, size_t kernel_w,
               size_t pad_top, size_t pad_left, size_t pad_bottom, size_t pad_right,
               size_t stride_h, size_t stride_w,
               size_t dilation_h, size_t dilation_w,
               float *columns) {
    ptrdiff_t span_h = (ptrdiff_t)(height + pad_top + pad_bottom) - (ptrdiff_t)(dilation_h * (kernel_h - 1) + 1);
    if (span_h < 0) return;
    ck_im2col_rows(image, channels, height, width, kernel_h, kernel_w,
                   pad_top, pad_left, pad_bottom, pad_right, stride_h, stride_w, dilation_h, dilation_w,
                   0, (size_t)span_h / stride_h + 1, columns);
}
