internal import CKernels
import ModelCore

/// DeformConv over one to three spatial axes, float32 (float16 and bfloat16
/// through `HalfPrecision`): a convolution whose every kernel tap, at every
/// output position, reads the input at the tap's place moved by a learned
/// offset, interpolated linearly along each axis (neighbours outside the
/// input read 0), and scaled by the mask when there is one. As `ConvVolume`,
/// the sampled values are lowered into a column matrix, a chunk of output
/// positions at a time, and multiplied by the weights by SGEMM.
struct DeformConvKernel: Kernel {
    let schema: DeformConv

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "DeformConv input X"), w = try floatInput(inputs, 1, "DeformConv weight W")
        let offset = try floatInput(inputs, 2, "DeformConv offset")
        let bias = optionalInput(inputs, 3) == nil ? nil : try floatInput(inputs, 3, "DeformConv bias B")
        let mask = optionalInput(inputs, 4) == nil ? nil : try floatInput(inputs, 4, "DeformConv mask")
        let rank = x.shape.count - 2
        guard rank >= 1, w.shape.count == x.shape.count else {
            throw ModelError(.invalidGraph, "DeformConv needs input and weight of equal rank ≥ 3, got \(x.shape) and \(w.shape)")
        }
        // Each sample reads 2^rank neighbours.
        guard rank <= 3 else {
            throw ModelError(.unsupported(op: "DeformConv", dtype: nil), "the engine runs DeformConv over 1 to 3 spatial axes, not \(rank)")
        }
        guard let window = try schema.convolution.window(weight: Shape(w.shape)), window.kernel == Array(w.shape.dropFirst(2)) else {
            throw ModelError(.invalidGraph, "DeformConv kernel_shape does not fit weight \(w.shape)")
        }
        let (n, c, m) = (x.shape[0], x.shape[1], w.shape[0])
        let group = schema.convolution.group, offsetGroups = schema.offsetGroup
        let (groupChannels, overflow) = w.shape[1].multipliedReportingOverflow(by: group)
        guard !overflow, c == groupChannels, m % group == 0 else {
            throw ModelError(.invalidGraph, "DeformConv input has \(c) channels but the weight \(w.shape) expects \(w.shape[1]) × \(group) groups")
        }
        guard c % offsetGroups == 0 else { throw ModelError(.invalidGraph, "DeformConv: \(c) channels do not divide into \(offsetGroups) offset groups") }
        let inSize = Array(x.shape.dropFirst(2))
        let outSize = window.outputSpatial(inSize.map(Dim.known)).compactMap(\.value)
        guard outSize.count == rank, outSize.allSatisfy({ $0 > 0 }) else { throw ModelError(.invalidGraph, "DeformConv output would be empty") }
        // Checked products: the kernel sizes come from the file and, with no output channels, bound no tensor.
        let taps = try ShapeKernels.count(window.kernel), coordinates = try ShapeKernels.count(window.kernel + [rank])
        try Self.check(offset, "offset", [n, offsetGroups, coordinates] + outSize)
        if let mask { try Self.check(mask, "mask", [n, offsetGroups, taps] + outSize) }
        if let bias, bias.shape != [m] { throw ModelError(.invalidGraph, "DeformConv bias must have shape [\(m)], got \(bias.shape)") }
        let output = try EngineTensor(dtype: .float, shape: [n, m] + outSize)
        guard output.count > 0 else { return [output] }
        let sampling = Sampling(window: window, pads: window.resolvedPads(input: inSize, output: outSize), inSize: inSize, outSize: outSize,
                                channels: c / group, perOffsetGroup: c / offsetGroups, offsetGroups: offsetGroups)
        let mg = m / group, depth = sampling.depth, pixels = sampling.pixels
        // Chunks of output positions whose column matrix stays near 1 MB, as in `ConvVolume`.
        let chunk = max(1, min(pixels, (256 * 1024) / max(1, depth)))
        let chunks = (pixels + chunk - 1) / chunk, items = n * group * chunks
        let workers = min(context.threads, items)
        let scratch = try EngineTensor(dtype: .float, shape: [workers, depth * chunk])
        let xBase = x.floats.baseAddress!, wBase = w.floats.baseAddress!, yBase = output.floats.baseAddress!
        let offsetBase = UnsafePointer(offset.floats.baseAddress!), maskBase = mask.map { UnsafePointer($0.floats.baseAddress!) }
        let biasBase = bias.map { UnsafePointer($0.floats.baseAddress!) }
        let columnsBase = scratch.floats.baseAddress!
        context.parallel(workers) { worker in
            let columns = columnsBase + worker * depth * chunk
            var item = worker
            while item < items {
                let (unit, part) = item.quotientAndRemainder(dividingBy: chunks)
                item += workers
                let (image, g) = unit.quotientAndRemainder(dividingBy: group)
                let first = part * chunk, count = min(chunk, pixels - first)
                sampling.lower(image: image, group: g, pixels: first..<first + count, input: xBase + image * c * sampling.plane,
                               offsets: offsetBase, mask: maskBase, into: columns)
                let target = yBase + (image * m + g * mg) * pixels + first
                ck_sgemm_fused(0, 0, mg, count, depth, 1, wBase + g * mg * depth, depth, columns, count, 0, target, pixels,
                               biasBase.map { $0 + g * mg }, nil, 0, CK_ACTIVATION_NONE, 0, 0)
            }
        }
        return [output]
    }

    /// Checks that `tensor` is `[N, groups · perGroup, output spatial…]`, without multiplying attribute values.
    private static func check(_ tensor: EngineTensor, _ what: String, _ expected: [Int]) throws(ModelError) {
        let (groups, perGroup) = (expected[1], expected[2])
        let shape = tensor.shape
        guard shape.count == expected.count - 1, shape[0] == expected[0], perGroup > 0, shape[1] % perGroup == 0,
              shape[1] / perGroup == groups, Array(shape.dropFirst(2)) == Array(expected.dropFirst(3)) else {
            throw ModelError(.invalidGraph, "DeformConv \(what) must have shape [\(expected[0]), \(groups) × \(perGroup)"
                             + expected.dropFirst(3).map { ", \($0)" }.joined() + "], got \(shape)")
        }
    }

    /// Where each kernel tap of each output position samples the input: the
    /// column matrix has a row per (channel of the group, tap) and a column per output position.
    struct Sampling {
        let inSize: [Int], outSize: [Int]
        let strides: [Int], pads: [Int]
        /// Per tap, its displacement along each axis (kernel index × dilation).
        let tapShifts: [[Int]]
        /// Input channels of one group, and of one offset group.
        let channels: Int, perOffsetGroup: Int
        let offsetGroups: Int
        /// Elements of one input channel, and output positions of one output channel.
        let plane: Int, pixels: Int

        var rank: Int { inSize.count }
        var taps: Int { tapShifts.count }
        var depth: Int { channels * taps }

        init(window: Window, pads: [Int], inSize: [Int], outSize: [Int], channels: Int, perOffsetGroup: Int, offsetGroups: Int) {
            self.inSize = inSize
            self.outSize = outSize
            strides = window.strides
            self.pads = pads
            tapShifts = ConvVolume.Lowering.tapShifts(window)
            self.channels = channels
            self.perOffsetGroup = perOffsetGroup
            self.offsetGroups = offsetGroups
            plane = inSize.reduce(1, *)
            pixels = outSize.reduce(1, *)
        }

        /// Writes the columns of output positions `range` (row-major over the
        /// output's spatial axes) of group `group` of image `image` into
        /// `columns`, `range.count` floats a row. `input` is the image's first channel.
        func lower(image: Int, group: Int, pixels range: Range<Int>, input: UnsafePointer<Float>,
                   offsets: UnsafePointer<Float>, mask: UnsafePointer<Float>?, into columns: UnsafeMutablePointer<Float>) {
            let count = range.count
            let origins = ConvVolume.windowOrigins(of: range, outSize: outSize, strides: strides, pads: pads)
            // The group's channels in runs that share an offset group: each
            // sampling place is worked out once per run and read in every channel of it.
            let firstChannel = group * channels, lastChannel = firstChannel + channels
            var runStart = firstChannel
            while runStart < lastChannel {
                let offsetGroup = runStart / perOffsetGroup, runEnd = min(lastChannel, (offsetGroup + 1) * perOffsetGroup)
                let slot = image * offsetGroups + offsetGroup
                for (tap, shift) in tapShifts.enumerated() {
                    let tapOffsets = offsets + (slot * taps + tap) * rank * pixels + range.lowerBound
                    let tapMask = mask.map { $0 + (slot * taps + tap) * pixels + range.lowerBound }
                    for j in 0..<count {
                        var position = SIMD4<Double>()
                        for a in 0..<rank {
                            position[a] = Double(origins[j * rank + a] + shift[a]) + Double(tapOffsets[a * pixels + j])
                        }
                        let (neighbours, indices, weights) = self.neighbours(of: position, scale: tapMask?[j] ?? 1)
                        for channel in runStart..<runEnd {
                            let source = input + channel * plane
                            var value: Float = 0
                            for q in 0..<neighbours { value += weights[q] * source[indices[q]] }
                            columns[((channel - firstChannel) * taps + tap) * count + j] = value
                        }
                    }
                }
                runStart = runEnd
            }
        }

        /// The neighbours of `position` (the first `rank` lanes) inside the
        /// input, as flat indices into one channel, and their weights in the
        /// linear interpolation between all 2^rank neighbours, times `scale`;
        /// the neighbours outside the input read 0 and are left out.
        @inline(__always)
        func neighbours(of position: SIMD4<Double>, scale: Float) -> (count: Int, indices: SIMD8<Int>, weights: SIMD8<Float>) {
            var low = SIMD4<Int>(), fraction = SIMD4<Double>()
            var indices = SIMD8<Int>(), weights = SIMD8<Float>(), count = 0
            for a in 0..<rank {
                // Also false for NaN; bounds the conversion to Int below.
                guard position[a] > -1, position[a] < Double(inSize[a]) else { return (0, indices, weights) }
                let floor = position[a].rounded(.down)
                low[a] = Int(floor)
                fraction[a] = position[a] - floor
            }
            corners: for corner in 0..<(1 << rank) {
                var weight = Double(scale), index = 0
                for a in 0..<rank {
                    let high = corner >> a & 1 == 1
                    let i = low[a] + (high ? 1 : 0)
                    guard i >= 0, i < inSize[a] else { continue corners }
                    weight *= high ? fraction[a] : 1 - fraction[a]
                    index = index * inSize[a] + i
                }
                indices[count] = index
                weights[count] = Float(weight)
                count += 1
            }
            return (count, indices, weights)
        }
    }
}

extension DeformConv: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try HalfPrecision(DeformConvKernel(schema: self), setup)
    }
}
