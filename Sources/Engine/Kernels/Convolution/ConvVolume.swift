internal import CKernels
import ModelCore

/// Convolution over three or more spatial axes (volumes, video) as vol2col +
/// the same SGEMM as the 2-D path. The output positions of each image and
/// group are cut into chunks whose column matrix stays near 1 MB, and the
/// chunks are the threads' work items. (1-D and 2-D convolutions take the
/// banded 2-D path in `ConvKernel`.)
enum ConvVolume {
    /// Each output position of `range` (row-major over `outSize`), its
    /// window's origin in input coordinates: `outSize.count` numbers a
    /// position, which may lie in the padding (negative or past the end).
    static func windowOrigins(of range: Range<Int>, outSize: [Int], strides: [Int], pads: [Int]) -> [Int] {
        let rank = outSize.count
        var origins = [Int](repeating: 0, count: range.count * rank)
        for (j, pixel) in range.enumerated() {
            var rest = pixel
            for a in stride(from: rank - 1, through: 0, by: -1) {
                origins[j * rank + a] = rest % outSize[a] * strides[a] - pads[a]
                rest /= outSize[a]
            }
        }
        return origins
    }

    /// The convolution of `x` by `w` (both float32, of equal rank ≥ 5), with
    /// the bias, a residual added and a clamp applied, as `ConvKernel.Epilogue`.
    static func run(_ x: EngineTensor, _ w: EngineTensor, bias: EngineTensor?, window: Window, group: Int,
                    residual: EngineTensor?, clamp: (low: Float, high: Float)?,
                    _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let rank = x.shape.count - 2
        let (n, c, m) = (x.shape[0], x.shape[1], w.shape[0])
        // The group count comes from the file: its product with the weight's channels may overflow.
        let expected = w.shape[1].multipliedReportingOverflow(by: group)
        guard !expected.overflow, c == expected.partialValue, m % group == 0 else {
            throw ModelError(.invalidGraph, "input has \(c) channels but the weight expects \(w.shape[1]) × \(group) groups")
        }
        let inSize = Array(x.shape.dropFirst(2))
        let outSize = window.outputSpatial(inSize.map(Dim.known)).compactMap(\.value)
        guard outSize.count == rank, outSize.allSatisfy({ $0 > 0 }) else {
            throw ModelError(.invalidGraph, "convolution output would be empty")
        }
        let pads = window.resolvedPads(input: inSize, output: outSize)
        let output = try EngineTensor(dtype: .float, shape: [n, m] + outSize)
        if let bias, bias.dtype != .float || bias.count != m {
            throw ModelError(.invalidGraph, "bias must be \(m) float32 values")
        }
        // A residual of the output's shape is added in the GEMM's epilogue; one that broadcasts afterwards.
        let inEpilogue = residual.map { $0.shape == output.shape } ?? true
        let lowering = Lowering(window: window, pads: pads, inSize: inSize, outSize: outSize, channels: c / group)
        let mg = m / group, depth = lowering.depth, pixels = lowering.pixels
        let activation = clamp != nil && inEpilogue ? CK_ACTIVATION_CLIP : CK_ACTIVATION_NONE
        let (low, high) = clamp ?? (0, 0)
        let chunk = max(1, min(pixels, (256 * 1024) / max(1, depth)))
        let chunks = (pixels + chunk - 1) / chunk, items = n * group * chunks
        let xBase = x.floats.baseAddress!, wBase = w.floats.baseAddress!, yBase = output.floats.baseAddress!
        let biasBase = bias.map { UnsafePointer($0.floats.baseAddress!) }
        let residualBase = inEpilogue ? residual.map { UnsafePointer($0.floats.baseAddress!) } : nil
        context.parallel(min(context.threads, items)) { worker in
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: depth * chunk)
            defer { columns.deallocate() }
            var item = worker
            while item < items {
                let (unit, part) = item.quotientAndRemainder(dividingBy: chunks)
                item += context.threads
                let (image, g) = unit.quotientAndRemainder(dividingBy: group)
                let first = part * chunk, count = min(chunk, pixels - first)
                lowering.lower(xBase + (image * c + g * lowering.channels) * lowering.plane, pixels: first..<first + count, into: columns)
                let target = yBase + (image * m + g * mg) * pixels + first
                ck_sgemm_fused(0, 0, mg, count, depth, 1, wBase + g * mg * depth, depth, columns, count, 0, target, pixels,
                               biasBase.map { $0 + g * mg }, residualBase.map { $0 + (target - yBase) }, pixels, activation, low, high)
            }
        }
        guard let residual, !inEpilogue else { return output }
        let sum = try FloatLoops.arithmetic(.add, output, residual, context)
        guard let clamp else { return sum }
        return try FloatLoops.clamp(sum, low: clamp.low, high: clamp.high, context)
    }

    /// Where each kernel tap of each output position reads one channel's
    /// input: the column matrix has a row per (channel, tap) and a column per output position.
    struct Lowering {
        let inSize: [Int], outSize: [Int]
        let strides: [Int], pads: [Int]
        /// Per tap, its displacement along each axis (kernel index × dilation).
        let tapShifts: [[Int]]
        /// Input channels of one group.
        let channels: Int
        /// Elements of one input channel, and output positions of one output channel.
        let plane: Int, pixels: Int

        var taps: Int { tapShifts.count }
        var depth: Int { channels * taps }

        init(window: Window, pads: [Int], inSize: [Int], outSize: [Int], channels: Int) {
            self.inSize = inSize
            self.outSize = outSize
            strides = window.strides
            self.pads = pads
            self.channels = channels
            plane = inSize.reduce(1, *)
            pixels = outSize.reduce(1, *)
            tapShifts = Self.tapShifts(window)
        }

        /// Each tap of `window`, row-major, as its displacement along each
        /// axis from the window's origin; pooling visits its windows by the same list.
        static func tapShifts(_ window: Window) -> [[Int]] {
            var shifts: [[Int]] = [[]]
            for (size, dilation) in zip(window.kernel, window.dilations) {
                shifts = shifts.flatMap { prefix in (0..<size).map { prefix + [$0 * dilation] } }
            }
            return shifts
        }

        /// Writes the columns of output positions `range` (row-major over the
        /// output's spatial axes) into `columns`, `range.count` floats a row;
        /// taps outside the input read 0.
        func lower(_ source: UnsafePointer<Float>, pixels range: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
            let rank = inSize.count, count = range.count
            let origins = ConvVolume.windowOrigins(of: range, outSize: outSize, strides: strides, pads: pads)
            var offsets = [Int](repeating: -1, count: count)
            for (tap, shift) in tapShifts.enumerated() {
                for j in 0..<count {
                    var offset = 0
                    for a in 0..<rank {
                        let i = origins[j * rank + a] + shift[a]
                        guard i >= 0, i < inSize[a] else { offset = -1; break }
                        offset = offset * inSize[a] + i
                    }
                    offsets[j] = offset
                }
                for channel in 0..<channels {
                    let from = source + channel * plane, row = columns + (channel * taps + tap) * count
                    for j in 0..<count {
                        let offset = offsets[j]
                        row[j] = offset < 0 ? 0 : from[offset]
                    }
                }
            }
        }
    }
}
