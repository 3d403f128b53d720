import CKernels
import Testing

/// One convolution geometry: (channels, height, width), kernel, pads
/// (top, left, bottom, right), strides and dilations.
struct Geometry: CustomTestStringConvertible, Sendable {
    var channels: Int, height: Int, width: Int
    var kernel: (h: Int, w: Int)
    var pads: (top: Int, left: Int, bottom: Int, right: Int)
    var strides: (h: Int, w: Int) = (1, 1)
    var dilations: (h: Int, w: Int) = (1, 1)

    var outHeight: Int { (height + pads.top + pads.bottom - dilations.h * (kernel.h - 1) - 1) / strides.h + 1 }
    var outWidth: Int { (width + pads.left + pads.right - dilations.w * (kernel.w - 1) - 1) / strides.w + 1 }

    var testDescription: String {
        "\(channels)×\(height)×\(width) kernel \(kernel) pads \(pads) strides \(strides) dilations \(dilations)"
    }

    /// The column matrix by its definition, one element at a time.
    func reference(_ image: [Float]) -> [Float] {
        var columns: [Float] = []
        for c in 0..<channels {
            for ky in 0..<kernel.h {
                for kx in 0..<kernel.w {
                    for oy in 0..<outHeight {
                        for ox in 0..<outWidth {
                            let y = oy * strides.h - pads.top + ky * dilations.h
                            let x = ox * strides.w - pads.left + kx * dilations.w
                            let inside = (0..<height).contains(y) && (0..<width).contains(x)
                            columns.append(inside ? image[(c * height + y) * width + x] : 0)
                        }
                    }
                }
            }
        }
        return columns
    }

    /// ck_im2col_rows for output rows [begin, end), into a buffer that starts
    /// as NaN so that every element must be written.
    func run(_ image: [Float], rows: Range<Int>? = nil) -> [Float] {
        let rows = rows ?? 0..<outHeight
        var columns = [Float](repeating: .nan, count: channels * kernel.h * kernel.w * rows.count * outWidth)
        columns.withUnsafeMutableBufferPointer { out in
            if rows == 0..<outHeight {
                ck_im2col(image, channels, height, width, kernel.h, kernel.w,
                          pads.top, pads.left, pads.bottom, pads.right, strides.h, strides.w,
                          dilations.h, dilations.w, out.baseAddress)
            } else {
                ck_im2col_rows(image, channels, height, width, kernel.h, kernel.w,
                               pads.top, pads.left, pads.bottom, pads.right, strides.h, strides.w,
                               dilations.h, dilations.w, rows.lowerBound, rows.upperBound, out.baseAddress)
            }
        }
        return columns
    }
}

@Suite struct Im2colTests {
    static let geometries: [Geometry] = [
        Geometry(channels: 1, height: 1, width: 1, kernel: (1, 1), pads: (0, 0, 0, 0)),
        Geometry(channels: 3, height: 7, width: 5, kernel: (3, 3), pads: (1, 1, 1, 1)),
        Geometry(channels: 2, height: 9, width: 11, kernel: (3, 2), pads: (0, 2, 1, 0), strides: (2, 3)),
        Geometry(channels: 2, height: 10, width: 8, kernel: (3, 3), pads: (2, 2, 2, 2), dilations: (2, 3)),
        Geometry(channels: 3, height: 16, width: 16, kernel: (7, 7), pads: (3, 3, 3, 3), strides: (2, 2)),
        Geometry(channels: 1, height: 4, width: 4, kernel: (5, 5), pads: (2, 2, 2, 2), strides: (3, 3)),
        Geometry(channels: 2, height: 6, width: 13, kernel: (1, 3), pads: (0, 0, 0, 4), strides: (1, 2), dilations: (1, 2)),
        // Kernel larger than the image; only padding makes an output.
        Geometry(channels: 1, height: 2, width: 3, kernel: (4, 5), pads: (1, 2, 1, 2)),
    ]

    @Test(arguments: geometries)
    func matchesDefinition(geometry: Geometry) {
        var numbers = Numbers(state: 3)
        let image = numbers.array(geometry.channels * geometry.height * geometry.width)
        #expect(geometry.run(image) == geometry.reference(image))
    }

    /// Bands of output rows, laid side by side per matrix row, are the whole.
    @Test(arguments: geometries)
    func bandsMakeTheWholeMatrix(geometry: Geometry) {
        var numbers = Numbers(state: 4)
        let image = numbers.array(geometry.channels * geometry.height * geometry.width)
        let whole = geometry.reference(image)
        let taps = geometry.channels * geometry.kernel.h * geometry.kernel.w
        let width = geometry.outWidth, height = geometry.outHeight
        for bandHeight in 1...2 {
            var joined = [Float](repeating: .nan, count: whole.count)
            for begin in stride(from: 0, to: height, by: bandHeight) {
                let end = min(begin + bandHeight, height)
                let band = geometry.run(image, rows: begin..<end)
                for tap in 0..<taps {
                    for offset in 0..<(end - begin) * width {
                        joined[tap * height * width + begin * width + offset] = band[tap * (end - begin) * width + offset]
                    }
                }
            }
            #expect(joined == whole, "bands of \(bandHeight) rows")
        }
    }
}
