// The CKernels module: float32 GEMM and im2col for the engine's inner loop,
// with micro-kernels for AVX-512, AVX2 and portable C chosen once at run time.
//
// All matrices are row-major float32. Every function but ck_parallel is
// single-threaded, and all are safe to call from several threads at once:
// scratch memory is per thread.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The kernel variants. `ck_kernel_available` tells which this CPU can run.
typedef enum ck_kernel {
    CK_KERNEL_PORTABLE = 0,
    CK_KERNEL_AVX2 = 1,
    CK_KERNEL_AVX512 = 2,
} ck_kernel;

/// Activations fused into `ck_sgemm_fused`.
typedef enum ck_activation {
    CK_ACTIVATION_NONE = 0,
    CK_ACTIVATION_RELU = 1,   ///< max(x, 0)
    CK_ACTIVATION_CLIP = 2,   ///< min(max(x, clip_min), clip_max); Relu6 is clip 0...6
} ck_activation;

/// C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ as transX is 0 or 1.
///
/// op(A) is M×K, op(B) is K×N, C is M×N; lda, ldb, ldc are row strides in
/// elements. When beta is 0, C is only written (it may hold garbage or NaN);
/// when alpha is 0 or K is 0, A and B are not read.
///
/// Splitting one product over threads: give each thread a range of C's
/// columns (offset B by j0 — or by j0·ldb when transB — and C by j0) or of
/// C's rows (offset A by i0·lda — or by i0 when transA — and C by i0·ldc).
/// Start ranges at multiples of `ck_sgemm_column_step()` columns or
/// `ck_sgemm_row_step()` rows, so that only the last range has a partial
/// tile. Split columns when each thread gets several column steps
/// (convolutions with large maps: each thread packs only its part of B);
/// split rows when N is small (7×7 and 14×14 maps, or N = 1); for a fully
/// connected layer (M = batch, transB) split columns, so that each thread
/// reads only its rows of the weights.
void ck_sgemm(int transA, int transB, size_t M, size_t N, size_t K,
              float alpha, const float *A, size_t lda,
              const float *B, size_t ldb,
              float beta, float *C, size_t ldc);

/// `ck_sgemm` followed, in the same pass over C, by a per-row bias, a
/// residual matrix and an activation:
/// C = act(alpha·op(A)·op(B) + beta·C + bias[i] + R[i·ldr + j]).
///
/// For a convolution, C is [output channels, pixels], so bias is the
/// per-channel bias, and R is the other operand of a residual Add that
/// follows the convolution (a ResNet block's shortcut). bias and residual may
/// be NULL; R must not overlap C. clip_min and clip_max are read only for
/// CK_ACTIVATION_CLIP. NaN passes through every activation unchanged.
void ck_sgemm_fused(int transA, int transB, size_t M, size_t N, size_t K,
                    float alpha, const float *A, size_t lda,
                    const float *B, size_t ldb,
                    float beta, float *C, size_t ldc,
                    const float *bias, const float *residual, size_t ldr,
                    ck_activation activation, float clip_min, float clip_max);

/// `ck_sgemm_fused` run by the named variant, for tests and benchmarks.
/// The variant must be available (see `ck_kernel_available`).
void ck_sgemm_fused_with_kernel(ck_kernel kernel,
                                int transA, int transB, size_t M, size_t N, size_t K,
                                float alpha, const float *A, size_t lda,
                                const float *B, size_t ldb,
                                float beta, float *C, size_t ldc,
                                const float *bias, const float *residual, size_t ldr,
                                ck_activation activation, float clip_min, float clip_max);

/// `ck_sgemm_fused_with_kernel` without a residual: the form Tools/bench-gemm calls.
void ck_sgemm_with_kernel(ck_kernel kernel,
                          int transA, int transB, size_t M, size_t N, size_t K,
                          float alpha, const float *A, size_t lda,
                          const float *B, size_t ldb,
                          float beta, float *C, size_t ldc,
                          const float *bias, ck_activation activation,
                          float clip_min, float clip_max);

/// Products with one constant B (a layer's weights), packed once rather
/// than on every call. `ck_sgemm_packed_floats` is the size of the packed
/// op(B) (0 if it overflows), `ck_sgemm_pack` writes it (op(B) is K×N, B
/// transposed when transB), and `ck_sgemm_packed` computes columns j0..<j1
/// of C = alpha·A·op(B) + beta·C, A row-major M×K; j0 must be a multiple of
/// `ck_sgemm_column_step()`, so that threads can share the columns. The
/// packed buffer must be 64-byte aligned (the micro-kernels load it whole).
size_t ck_sgemm_packed_floats(size_t K, size_t N);
void ck_sgemm_pack(int transB, size_t K, size_t N, const float *B, size_t ldb, float *packed);
void ck_sgemm_packed(size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda, const float *packed,
                     float beta, float *C, size_t ldc, size_t j0, size_t j1);

/// The column granularity for splitting C across threads (see `ck_sgemm`):
/// the register tile's width of the variant in use (48 for AVX-512).
size_t ck_sgemm_column_step(void);

/// The row granularity for splitting C across threads (see `ck_sgemm`):
/// the register tile's height of the variant in use (8 for AVX-512).
size_t ck_sgemm_row_step(void);

/// The floats of one vector of the variant in use (16 for AVX-512): a
/// register tile's last strip of columns is a whole number of vectors wide.
size_t ck_sgemm_vector_floats(void);

/// Up to this many rows of A, `ck_sgemm` reads a transposed B in place (as
/// dot products) as fast as packed: packing a constant transposed B pays
/// only for products with more rows.
size_t ck_sgemm_transposed_in_place_rows(void);

/// out[c·ldo + r] = in[r·ldi + c] for r < rows, c < cols, in 16×16 blocks
/// that stay in L1; the 4-byte elements are copied as they are (any 4-byte type).
void ck_transpose_f32(const float *in, size_t ldi, size_t rows, size_t cols, float *out, size_t ldo);

/// y[i] = e^x[i], 1/(1 + e^−x[i]) and tanh x[i] for float32 arrays, within
/// 2 ulp of libm (vectorised); NaN passes, overflow gives infinity. x and y
/// may be the same array.
void ck_exp_f32(const float *x, float *y, size_t n);
void ck_sigmoid_f32(const float *x, float *y, size_t n);
void ck_tanh_f32(const float *x, float *y, size_t n);
/// erf x[i], within 3 ulp (GELU's exact form).
void ck_erf_f32(const float *x, float *y, size_t n);
/// x[i]·(1 + erf(x[i]/√2))/2 (GELU), with the erf of ck_erf_f32.
void ck_gelu_f32(const float *x, float *y, size_t n);
/// GELU's tanh form, x[i]·(1 + tanh(√(2/π)·(x[i] + 0.044715·x[i]³)))/2,
/// with the tanh of ck_tanh_f32.
void ck_gelu_tanh_f32(const float *x, float *y, size_t n);
/// x[i]·sigmoid(x[i]) (SiLU), as ck_sigmoid_f32 gives the sigmoid.
void ck_silu_f32(const float *x, float *y, size_t n);
/// ck_silu_f32 with y = x.
void ck_silu_in_place_f32(float *x, size_t n);
/// Softmax (log_softmax 0) or log-softmax (1) of each of `rows` rows of n
/// contiguous floats, computed as the vectorised e^x above. x and y may be
/// the same array.
void ck_softmax_rows(const float *x, float *y, size_t rows, size_t n, int log_softmax);

/// means[r] = the mean of row r, for `rows` rows of n contiguous floats
/// (summed in float64; NaN for n = 0).
void ck_row_means(const float *x, size_t rows, size_t n, float *means);
/// Layer normalisation of `rows` rows of n contiguous floats:
/// y = (x − mean)·inverse·scale + bias with inverse = 1/√(variance + ε),
/// statistics in float64. With `rms` the mean is taken as 0 (RMSNormalization).
/// scale and bias hold n floats each, or are NULL (bias is used only with
/// a scale); means and inverses, when not NULL, receive each row's statistics.
void ck_layer_norm_rows(const float *x, float *y, size_t rows, size_t n, const float *scale, const float *bias,
                        float epsilon, int rms, float *means, float *inverses);

/// A 2-D window over one channel plane, as a depthwise convolution or a
/// pooling slides it: a height×width input plane, a kernel_h×kernel_w
/// window, and an out_h×out_w output plane (all at least 1), with strides
/// and dilations (at least 1) and the top and left padding; with `clamp`,
/// a depthwise convolution's outputs are clamped to [low, high].
typedef struct ck_plane_window {
    size_t height, width, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w;
    size_t pad_top, pad_left, out_h, out_w;
    int clamp;
    float low, high;
} ck_plane_window;

/// The floats of scratch that `ck_depthwise_plane` and `ck_max_pool_plane`
/// need (the padded plane, split by column phase, and each tap's offset in
/// it), or 0 when that count overflows.
size_t ck_plane_window_scratch_floats(const ck_plane_window *d);

/// One plane of a depthwise convolution: out = bias + Σ weights[ky·kernel_w
/// + kx] · input under each tap (0 in the padding), + residual (laid out
/// like out; may be NULL), then the clamp.
void ck_depthwise_plane(const ck_plane_window *d, const float *in, const float *weights, float bias,
                        const float *residual, float *out, float *scratch);

/// The floats of scratch `ck_depthwise_blocked` and `ck_max_pool_blocked`
/// need, or 0 when that count overflows.
size_t ck_plane_window_blocked_scratch_floats(const ck_plane_window *d);
/// Planes first..<first + count (count ≤ 16) of a depthwise convolution at
/// once, interleaved so that each tap is one 16-wide multiply-add: for maps
/// narrower than a vector. `in`, `residual` (may be NULL) and `out` point at
/// plane 0; plane p uses weights[(p mod channels)·taps …] and
/// bias[p mod channels] (bias may be NULL). Same results as ck_depthwise_plane.
void ck_depthwise_blocked(const ck_plane_window *d, const float *in, const float *weights, const float *bias, size_t channels,
                          size_t first, size_t count, const float *residual, float *out, float *scratch);
/// Max pooling of planes first..<first + count (count ≤ 16) at once, as
/// ck_max_pool_plane computes each: for maps narrower than a vector.
void ck_max_pool_blocked(const ck_plane_window *d, const float *in, size_t first, size_t count, float *out, float *scratch);

/// One plane of a max pooling: the largest input under each window (the
/// padding never wins; NaN does).
void ck_max_pool_plane(const ck_plane_window *d, const float *in, float *out, float *scratch);

/// A convolution of one group computed directly over sixteen interleaved
/// input channels (conv_blocked.c), for maps too small for the GEMM's
/// tiles; `d` gives the geometry and the clamp (fast on AVX-512 with a
/// stride_w of 1 or 2, correct with any). The weights, out_channels ×
/// channels × taps as ONNX stores them, are packed once into
/// ck_conv_blocked_weight_floats floats (0 when that overflows).
size_t ck_conv_blocked_weight_floats(size_t out_channels, size_t channels, size_t taps);
void ck_conv_blocked_weights(const float *w, size_t out_channels, size_t channels, size_t taps, float *packed);
/// Each image's input, interleaved and padded: ck_conv_blocked_input_floats
/// floats (0 on overflow), filled by blocks of sixteen channels
/// first..<last of the NCHW image x.
size_t ck_conv_blocked_input_floats(const ck_plane_window *d, size_t channels);
void ck_conv_blocked_input(const ck_plane_window *d, const float *x, size_t channels, size_t first, size_t last,
                           float *blocked);
/// Output rows row0..<row1 of the groups of 32 output channels
/// first_group..<last_group (the channels below out_channels): out = Σ +
/// bias (may be NULL) + residual (laid out like out; may be NULL), then the
/// clamp. out and residual point at the image's first output channel.
/// Bands of rows should start at multiples of ck_conv_blocked_row_step,
/// which computes rows in pairs on narrow maps.
void ck_conv_blocked_rows(const ck_plane_window *d, const float *blocked, size_t channels, const float *packed,
                          size_t out_channels, size_t first_group, size_t last_group, size_t row0, size_t row1,
                          const float *bias, const float *residual, float *out);
size_t ck_conv_blocked_row_step(const ck_plane_window *d);

/// Writes the Conv input matrix of one NCHW image: columns is
/// [channels·kernel_h·kernel_w, out_h·out_w], row (c, ky, kx) holding the
/// input pixel each output pixel sees through that kernel tap, or 0 in the
/// padding. out_h = (height + pad_top + pad_bottom − dilation_h·(kernel_h−1) − 1)
/// / stride_h + 1, and out_w likewise; the caller checks that both are
/// positive and that strides and dilations are at least 1.
void ck_im2col(const float *image, size_t channels, size_t height, size_t width,
               size_t kernel_h, size_t kernel_w,
               size_t pad_top, size_t pad_left, size_t pad_bottom, size_t pad_right,
               size_t stride_h, size_t stride_w,
               size_t dilation_h, size_t dilation_w,
               float *columns);

/// `ck_im2col` for the output rows [out_row_begin, out_row_end) only, with
/// out_row_end ≤ out_h: columns is
/// [channels·kernel_h·kernel_w, (out_row_end − out_row_begin)·out_w].
///
/// A convolution whose column matrix is larger than L2 (VGG-16's first
/// layers: up to 115 MB) runs much faster in bands of output rows: each
/// band's columns, sized to about 1 MB, are written here and read by
/// `ck_sgemm` while still in cache, into C's columns
/// [out_row_begin·out_w, out_row_end·out_w) with ldc = out_h·out_w.
/// (VGG-16 conv1_2 on one AVX-512 core: 64 ms whole, 40 ms in bands of two
/// rows.) Bands are also a natural unit of work for threads.
void ck_im2col_rows(const float *image, size_t channels, size_t height, size_t width,
                    size_t kernel_h, size_t kernel_w,
                    size_t pad_top, size_t pad_left, size_t pad_bottom, size_t pad_right,
                    size_t stride_h, size_t stride_w,
                    size_t dilation_h, size_t dilation_w,
                    size_t out_row_begin, size_t out_row_end, float *columns);

/// float16 (IEEE half) elements to float32, exactly; F16C when the selected
/// variant is not the portable one and the CPU has it.
void ck_f16_to_f32(const unsigned short *src, float *dst, size_t n);

/// float32 to float16, rounded to nearest even; overflow gives infinity.
void ck_f32_to_f16(const float *src, unsigned short *dst, size_t n);

/// bfloat16 (the upper half of a float32) elements to float32, exactly.
void ck_bf16_to_f32(const unsigned short *src, float *dst, size_t n);

/// float32 to bfloat16, rounded to nearest even, a NaN kept quiet (as
/// ElementCodec.bfloat16Bits); AVX-512 BF16 with the AVX-512 variant.
void ck_f32_to_bf16(const float *src, unsigned short *dst, size_t n);

/// Winograd F(m×m, 3×3), m = `tile` (4 or 2), for a 3×3 convolution of
/// stride 1 and dilation 1, one group (winograd.c); α = m + 2 and the points
/// are the α² elements of a transformed tile. Outputs come in tiles of m×m:
/// tiles_w = ceil(out_w / m) per tile row; a range of tile rows is "the
/// tiles", counted row by row. With U, V and M as below, for each point ξ <
/// α² the caller computes M[ξ] = U[ξ]·V[ξ] (ck_sgemm: out_channels × tiles ×
/// channels).
///
/// U = the transformed weights, [α²][out_channels][channels] floats, of w
/// [out_channels][channels][3][3]; this call writes out channels [m0, m1).
void ck_winograd_weights(size_t tile, const float *w, size_t out_channels, size_t channels, size_t m0, size_t m1, float *u);

/// Floats of the `rows` scratch of ck_winograd_input, per calling thread.
size_t ck_winograd_row_floats(size_t tile, size_t tiles_w);

/// V = the transformed input, [α²][channels][tiles] floats, for the tiles of
/// tile rows [tile_row0, tile_row1) of one image x [channels][height][width];
/// this call writes channels [c0, c1). pad_left + width must not pass
/// tiles_w·m + 2 (true of any output width the padding gives).
void ck_winograd_input(size_t tile, const float *x, size_t height, size_t width, size_t pad_top, size_t pad_left,
                       size_t tiles_w, size_t tile_row0, size_t tile_row1, size_t c0, size_t c1,
                       size_t channels, float *v, float *rows);

/// Floats of the `scratch` of ck_winograd_output, per calling thread.
size_t ck_winograd_output_floats(size_t tile, size_t tiles_w);

/// The outputs of those tiles from M = [α²][out_channels][tiles], for out
/// channels [m0, m1) of one image y [out_channels][out_h][out_w]: plus
/// bias[m] (or NULL), plus the residual laid out like y (or NULL), then
/// clamped to [low, high] when `clamp`; rows and columns past the image dropped.
void ck_winograd_output(size_t tile, const float *products, size_t out_channels, size_t tiles_w,
                        size_t tile_row0, size_t tile_row1, size_t out_h, size_t out_w,
                        const float *bias, const float *residual, int clamp, float low, float high,
                        size_t m0, size_t m1, float *y, float *scratch);

/// One iteration of a parallel loop: `task(context, index)`.
typedef void (*ck_task)(void *context, size_t index);

/// Calls task(context, i) for every i < count, spread over `threads` threads
/// (the caller and up to threads − 1 persistent workers), and returns when all
/// calls have returned. Iterations are handed out one at a time, in order.
/// While one job runs, other calls (from other threads, or nested inside the
/// job) run their loop on the calling thread.
void ck_parallel(size_t count, size_t threads, ck_task task, void *context);

/// Whether this CPU (and build) can run the variant.
int ck_kernel_available(ck_kernel kernel);

/// The variant `ck_sgemm` uses: the best available one, unless the
/// environment variable MODELINFO_KERNELS (portable, avx2 or avx512) names
/// an available one (other values are ignored). Chosen at first use and
/// fixed for the process.
ck_kernel ck_kernel_selected(void);

/// The name of the variant `ck_sgemm` uses: "portable", "avx2" or "avx512".
const char *ck_kernel_name(void);

#ifdef __cplusplus
}
#endif

#endif
