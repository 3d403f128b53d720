import CKernels
import Foundation
import Testing

/// The plane kernels read their input plane and no further: each plane here
/// ends exactly where an inaccessible page begins, so that a read one float
/// past it (a stride-2 row's last vector pair once read one) faults. Over
/// strides, kernels, pads and widths whose rows end mid-vector or on a
/// vector's edge, for the depthwise convolution and the max pool.
struct PlaneWindowBoundsTests {
    /// `floats` floats that end at a page that may not be read or written.
    final class GuardedFloats {
        let base: UnsafeMutableRawPointer, mapped: Int
        let floats: UnsafeMutablePointer<Float>

        init(_ count: Int) throws {
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let bytes = (count * 4 + page - 1) / page * page
            mapped = bytes + page
            let memory = try #require(mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
            try #require(memory != MAP_FAILED)
            base = memory
            try #require(mprotect(memory + bytes, page, PROT_NONE) == 0)
            floats = (memory + bytes - count * 4).assumingMemoryBound(to: Float.self)
        }

        deinit { munmap(base, mapped) }
    }

    @Test(arguments: [(2, 3, 1), (2, 2, 0), (2, 5, 2), (1, 3, 1), (3, 3, 1)])
    func planeKernelsReadOnlyTheirPlane(stride: Int, kernel: Int, pad: Int) throws {
        for width in [16, 17, 31, 32, 33, 63, 64, 65, 112] {
            let out = (width + 2 * pad - kernel) / stride + 1
            var window = ck_plane_window(height: width, width: width, kernel_h: kernel, kernel_w: kernel, stride_h: stride, stride_w: stride,
                                         dilation_h: 1, dilation_w: 1, pad_top: pad, pad_left: pad, out_h: out, out_w: out,
                                         clamp: 0, low: 0, high: 0)
            let input = try GuardedFloats(width * width)
            for i in 0..<width * width { input.floats[i] = Float(i % 7) }
            let weights = [Float](repeating: 1, count: kernel * kernel)
            var scratch = [Float](repeating: 0, count: ck_plane_window_scratch_floats(&window))
            var depthwise = [Float](repeating: 0, count: out * out), pooled = depthwise
            ck_depthwise_plane(&window, input.floats, weights, 0, nil, &depthwise, &scratch)
            ck_max_pool_plane(&window, input.floats, &pooled, &scratch)
            // The last output sees the plane's last rows and columns, as the definition gives them.
            var sum: Float = 0, largest = -Float.infinity
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let (y, x) = ((out - 1) * stride - pad + ky, (out - 1) * stride - pad + kx)
                    guard y >= 0, y < width, x >= 0, x < width else { continue }
                    sum += input.floats[y * width + x]
                    largest = max(largest, input.floats[y * width + x])
                }
            }
            #expect(depthwise[out * out - 1] == sum && pooled[out * out - 1] == largest, "width \(width)")
        }
    }
}
