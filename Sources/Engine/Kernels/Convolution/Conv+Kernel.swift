internal import CKernels
import ModelCore

/// Convolution as banded im2col + GEMM: bands of output rows are lowered
/// into a column matrix small enough to stay in cache, and the bands (see
/// `ConvPartition`) are the unit of work for the threads. A depthwise
/// convolution runs directly instead.
struct ConvKernel: Kernel {
    let schema: Conv
    /// Weights and bias with a following BatchNormalization folded in, when fused.
    let folded: (weight: EngineTensor, bias: EngineTensor)?
    /// Whether input 3 is a residual added to the output before the activation.
    let addsResidual: Bool
    /// The fused activation as bounds, min(max(x, low), high): Relu is (0, ∞).
    let clamp: (low: Float, high: Float)?
    /// Whether the fused activation is SiLU, x·sigmoid(x), applied last.
    let appliesSiLU: Bool
    /// With constant float32 weights (folded, when fused): their packed form
    /// for the direct path on small maps (`ConvBlocked`), made on first use.
    let blockedWeights: ConvBlockedWeights?

    init(_ schema: Conv, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        folded = nil
        addsResidual = false
        clamp = nil
        appliesSiLU = false
        blockedWeights = Self.blockedWeights(setup.constants[1])
    }

    private static func blockedWeights(_ weight: EngineTensor?) -> ConvBlockedWeights? {
        guard let weight, weight.dtype == .float, weight.shape.count >= 3 else { return nil }
        return ConvBlockedWeights()
    }

    /// A Conv that also applies `fusion`'s BatchNormalization, Add and activation.
    init(_ schema: Conv, _ setup: KernelSetup, fusion: ConvFusion) throws(ModelError) {
        self.schema = schema
        addsResidual = fusion.residual != nil
        clamp = fusion.activation?.bounds
        appliesSiLU = fusion.activation == .silu
        guard let bn = fusion.batchNorm else {
            folded = nil
            blockedWeights = Self.blockedWeights(setup.constants[1])
            return
        }
        guard let weight = setup.constants[1], weight.dtype == .float, weight.shape.count >= 2 else {
            throw ModelError(.internal, "internal: a fused Conv needs stored float32 weights")
        }
        let channels = weight.shape[0], perChannel = weight.count / max(channels, 1)
        let parameters = try [bn.scale, bn.bias, bn.mean, bn.variance].map { t throws(ModelError) -> [Double] in
            let values = try t.doubleValues()
            guard values.count == channels else { throw ModelError(.invalidGraph, "BatchNormalization has \(values.count) values for \(channels) channels") }
            return values
        }
        var oldBias: [Double]?
        if let b = setup.constants[2] { oldBias = try b.stored(name: "bias").doubleValues() }
        let newWeight = try EngineTensor(dtype: .float, shape: weight.shape)
        let newBias = try EngineTensor(dtype: .float, shape: [channels])
        let (w, w2, b2) = (weight.floats, newWeight.floats, newBias.floats)
        for m in 0..<channels {
            let a = parameters[0][m] / (parameters[3][m] + Double(bn.epsilon)).squareRoot()
            for i in 0..<perChannel { w2[m * perChannel + i] = Float(Double(w[m * perChannel + i]) * a) }
            b2[m] = Float(((oldBias?[m] ?? 0) - parameters[2][m]) * a + parameters[1][m])
        }
        folded = (newWeight, newBias)
        blockedWeights = Self.blockedWeights(newWeight)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var x = try floatInput(inputs, 0, "input X")
        var w: EngineTensor, bias: EngineTensor?
        if let folded {
            (w, bias) = (folded.weight, folded.bias)
        } else {
            w = try floatInput(inputs, 1, "weight W")
            bias = inputs.count > 2 ? inputs[2] : nil
        }
        guard x.shape.count == w.shape.count, x.shape.count >= 3 else {
            throw ModelError(.invalidGraph, "Conv needs input and weight of equal rank ≥ 3, got \(x.shape) and \(w.shape)")
        }
        guard var window = try schema.window(weight: Shape(w.shape)) else { throw ModelError(.invalidGraph, "Conv kernel shape unknown") }
        guard window.kernel.count == x.shape.count - 2, window.kernel == Array(w.shape.dropFirst(2)) else {
            throw ModelError(.invalidGraph, "Conv kernel_shape \(window.kernel) does not fit weight \(w.shape) and input \(x.shape)")
        }
        if x.shape.count > 4 {
            let y = try ConvVolume.run(x, w, bias: bias, window: window, group: schema.group,
                                       residual: addsResidual ? try floatInput(inputs, 3, "the Add's other operand") : nil,
                                       clamp: clamp, context)
            if appliesSiLU { Self.silu(y, context) }
            return [y]
        }
        // A 1-D convolution runs as a 2-D one over a height of 1.
        let resultRank = x.shape.count
        if resultRank == 3 {
            x = x.reshaped([x.shape[0], x.shape[1], 1, x.shape[2]])
            w = w.reshaped([w.shape[0], w.shape[1], 1, w.shape[2]])
            window = window.planar
        }
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let m = w.shape[0], group = schema.group
        // The group count comes from the file: its product with the weight's channels may overflow.
        let expected = w.shape[1].multipliedReportingOverflow(by: group)
        guard !expected.overflow, c == expected.partialValue, m % group == 0 else {
            throw ModelError(.invalidGraph, "input has \(c) channels but the weight expects \(w.shape[1]) × \(group) groups")
        }
        let spatial = window.outputSpatial([.known(h), .known(wd)])
        guard let oh = spatial[0].value, let ow = spatial[1].value, oh > 0, ow > 0 else {
            throw ModelError(.invalidGraph, "convolution output would be empty")
        }
        let pads = Self.pads(window, input: [h, wd], output: [oh, ow])
        let output = try EngineTensor(dtype: .float, shape: [n, m, oh, ow])
        let cg = c / group, mg = m / group
        var biasPointer: UnsafePointer<Float>?
        if let bias {
            guard bias.dtype == .float, bias.count == m else { throw ModelError(.invalidGraph, "bias must be \(m) float32 values") }
            biasPointer = UnsafePointer(bias.floats.baseAddress!)
        }
        // A residual of the output's shape is added in the GEMM's epilogue;
        // one that broadcasts is added afterwards, and the activation with it.
        var residual: EngineTensor?
        if addsResidual { residual = try floatInput(inputs, 3, "the Add's other operand") }
        let resultShape = resultRank == 3 ? [n, m, ow] : output.shape
        let inEpilogue = residual.map { $0.shape == resultShape } ?? true
        let epilogue = Epilogue(bias: biasPointer, residual: inEpilogue ? residual.map { UnsafePointer($0.floats.baseAddress!) } : nil,
                                clamp: inEpilogue ? clamp : nil, silu: inEpilogue && appliesSiLU)
        if cg == 1 && mg == 1 {
            let geometry = WindowGeometry(window, pads: pads, height: h, width: wd, outputWidth: ow)
            try Self.depthwise(x, w, output, geometry, epilogue, context)
        } else if let blockedWeights,
                  ConvBlocked.applies(window, group: group, channels: c, outChannels: m, weights: w.count, outputHeight: oh, outputWidth: ow) {
            let geometry = WindowGeometry(window, pads: pads, height: h, width: wd, outputWidth: ow)
            try ConvBlocked.run(x, try blockedWeights.packed(w), output, geometry, epilogue, context)
        } else if let tile = ConvWinograd.tile(window, pads: pads, group: group, channels: c, outChannels: m, outputHeight: oh, outputWidth: ow) {
            try ConvWinograd.run(x, w, output, tile: tile, pads: pads, epilogue, context)
            if epilogue.silu { Self.silu(output, context) }
        } else {
            try Self.lowered(x, w, output, window, pads, group: group, epilogue, context)
        }
        guard let residual, !inEpilogue else { return [output.reshaped(resultShape)] }
        let sum = try FloatLoops.arithmetic(.add, output.reshaped(resultShape), residual, context)
        if appliesSiLU { Self.silu(sum, context) }
        guard let clamp else { return [sum] }
        return [try FloatLoops.clamp(sum, low: clamp.low, high: clamp.high, context)]
    }

    /// x·sigmoid(x) over all of `tensor`, in place: for the paths that cannot
    /// apply it piece by piece.
    private static func silu(_ tensor: EngineTensor, _ context: ExecutionContext) {
        let base = tensor.floats.baseAddress!
        context.parallelRanges(tensor.count, grain: elementwiseGrain) { range in
            ck_silu_in_place_f32(base + range.lowerBound, range.count)
        }
    }

    /// What is applied to each output after the convolution's sum, in this
    /// order; the pointers are at the output's first element.
    struct Epilogue {
        let bias: UnsafePointer<Float>?
        /// Laid out like the output.
        let residual: UnsafePointer<Float>?
        let clamp: (low: Float, high: Float)?
        /// SiLU, applied last (it is never fused with a clamp): by the lowered
        /// and depthwise paths to each piece of the output they finish, while
        /// it is in cache; after Winograd, over its whole output.
        let silu: Bool
    }

    /// The convolution as banded im2col (none when pointwise) + GEMM.
    private static func lowered(_ x: EngineTensor, _ w: EngineTensor, _ output: EngineTensor, _ window: Window, _ pads: [Int],
                                group: Int, _ epilogue: Epilogue, _ context: ExecutionContext) throws(ModelError) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, oh, ow) = (output.shape[1], output.shape[2], output.shape[3])
        let cg = c / group, mg = m / group, k = cg * window.kernel[0] * window.kernel[1]
        let activation = epilogue.clamp == nil ? CK_ACTIVATION_NONE : CK_ACTIVATION_CLIP
        let (low, high) = epilogue.clamp ?? (0, 0)
        let pointwise = window.kernel == [1, 1] && window.strides == [1, 1] && pads == [0, 0, 0, 0]
        let split = ConvPartition(units: n * group, outputRows: oh, outputColumns: ow, channels: mg,
                                  depth: pointwise ? nil : k, threads: context.threads)
        let xBase = x.floats.baseAddress!, wBase = w.floats.baseAddress!, yBase = output.floats.baseAddress!
        let work = split.items, workers = min(context.threads, work)
        // Each worker's column matrix; from the activation pool, so that
        // once the layer is done its memory serves the next layers.
        let columnBuffers = try (0..<(pointwise ? 0 : workers)).map { _ throws(ModelError) in
            try TensorBuffer(byteCount: k * split.rowsPerBand * ow * MemoryLayout<Float>.size)
        }
        context.parallel(workers) { worker in
            let columns = pointwise ? nil : columnBuffers[worker].base.assumingMemoryBound(to: Float.self)
            var item = worker
            while item < work {
                let (unit, rows, channels) = split.item(item)
                item += context.threads
                guard !channels.isEmpty else { continue }
                let (image, g) = unit.quotientAndRemainder(dividingBy: group)
                let pixels = rows.count * ow
                let source = xBase + (image * c + g * cg) * h * wd
                let target = yBase + (image * m + g * mg + channels.lowerBound) * oh * ow + rows.lowerBound * ow
                let b: UnsafePointer<Float>
                if pointwise {
                    b = UnsafePointer(source + rows.lowerBound * ow)
                } else {
                    ck_im2col_rows(source, cg, h, wd, window.kernel[0], window.kernel[1], pads[0], pads[1], pads[2], pads[3],
                                   window.strides[0], window.strides[1], window.dilations[0], window.dilations[1],
                                   rows.lowerBound, rows.upperBound, columns!)
                    b = UnsafePointer(columns!)
                }
                let channelBias = epilogue.bias.map { $0 + g * mg + channels.lowerBound }
                ck_sgemm_fused(0, 0, channels.count, pixels, k, 1, wBase + (g * mg + channels.lowerBound) * k, k,
                               b, pointwise ? h * wd : pixels, 0, target, oh * ow,
                               channelBias, epilogue.residual.map { $0 + (target - yBase) }, oh * ow, activation, low, high)
                if epilogue.silu {
                    for row in 0..<channels.count { ck_silu_in_place_f32(target + row * oh * ow, pixels) }
                }
            }
        }
    }

    /// A depthwise convolution (one input and one output channel per
    /// group, as MobileNetV2's) computed directly, plane by plane
    /// (`ck_depthwise_plane`): lowered, it would be one matrix–vector
    /// product of 9 rows per channel. Each thread pads its planes into its own scratch.
    private static func depthwise(_ x: EngineTensor, _ w: EngineTensor, _ output: EngineTensor, _ geometry: WindowGeometry,
                                  _ epilogue: Epilogue, _ context: ExecutionContext) throws(ModelError) {
        let (planes, h, wd) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (channels, oh, ow) = (output.shape[1], output.shape[2], output.shape[3])
        let (source, weights, target) = (x.floats.baseAddress!, w.floats.baseAddress!, output.floats.baseAddress!)
        let (taps, planeSize) = (geometry.kernel.h * geometry.kernel.w, oh * ow)
        let window = geometry.plane(outputHeight: oh, clamp: epilogue.clamp)
        if ow < WindowGeometry.blockedWidth {
            // Sixteen planes at once: a row this narrow would leave most of a vector idle.
            try WindowGeometry.forEachBlock(planes, window, context) { window, first, count, scratch in
                ck_depthwise_blocked(window, source, weights, epilogue.bias, channels, first, count, epilogue.residual, target, scratch)
                if epilogue.silu { ck_silu_in_place_f32(target + first * planeSize, count * planeSize) }
            }
            return
        }
        try WindowGeometry.forEachPlane(planes, window, context) { window, plane, scratch in
            ck_depthwise_plane(window, source + plane * h * wd, weights + plane % channels * taps, epilogue.bias?[plane % channels] ?? 0,
                               epilogue.residual.map { $0 + plane * planeSize }, target + plane * planeSize, scratch)
            if epilogue.silu { ck_silu_in_place_f32(target + plane * planeSize, planeSize) }
        }
    }

    /// Explicit begin/end pads (top, left, bottom, right), resolving auto_pad.
    static func pads(_ window: Window, input: [Int], output: [Int]) -> [Int] {
        window.resolvedPads(input: input, output: output)
    }
}

/// How a convolution's output is divided into work items for the threads:
/// per image and group, bands of output rows, each lowered into a column
/// matrix small enough to stay in cache; and, on maps too small to give every
/// thread a band of useful width (7×7), slices of the output channels, each
/// lowering the band itself (cheap next to its share of the product).
struct ConvPartition {
    /// Images × groups.
    let units: Int
    let outputRows: Int
    let bands: Int
    let channels: Int
    let slices: Int
    /// The most output rows in one band: the column matrix a thread needs holds `rowsPerBand · ow` columns.
    let rowsPerBand: Int

    var items: Int { units * bands * slices }

    /// `depth` is the column matrix's height (input channels × kernel taps),
    /// or `nil` for a pointwise convolution, which reads its input in place.
    init(units: Int, outputRows: Int, outputColumns: Int, channels: Int, depth: Int?, threads: Int) {
        self.units = units
        self.outputRows = outputRows
        self.channels = channels
        // A band's columns stay near 1 MB (VGG-16 conv1_2: 40 ms in bands of
        // two rows, 64 ms whole); a pointwise convolution has no columns.
        let rowsInCache = depth.map { max(1, min(outputRows, (256 * 1024) / max(1, $0 * outputColumns))) } ?? outputRows
        var bands = (outputRows + rowsInCache - 1) / rowsInCache
        var slices = 1
        if units * bands < threads {
            // Narrower bands while each keeps a few register tiles of
            // columns; on smaller maps, and on maps of too few rows to give
            // every thread one (a 1-D convolution's single row), slices of
            // whole tiles of channels.
            let minimumPixels = 2 * ck_sgemm_column_step(), pixels = outputRows * outputColumns
            // A pointwise convolution reads its input in place, so a slice of
            // channels costs no second lowering; its whole map may fill the
            // register tiles' vectors better than a band does (14×14: 196
            // pixels fill 94% of 13 vectors, a band of 98 fills 88% of 7).
            let bandFillsWorse = depth == nil && channels >= 2 * threads * ck_sgemm_row_step()
                && Self.vectorFill(pixels) > Self.vectorFill((pixels + threads - 1) / threads) + 0.03
            if pixels / threads >= minimumPixels, units * outputRows >= threads, !bandFillsWorse {
                bands = min(outputRows, (threads + units - 1) / units)
            } else {
                slices = max(1, min((threads + units * bands - 1) / (units * bands), channels / ck_sgemm_row_step()))
            }
        }
        // A count of items that is not a multiple of the threads leaves one
        // thread a whole item behind (7 bands on 2 threads: 4 and 3).
        while (units * bands * slices) % threads != 0, bands < outputRows {
            bands += 1
        }
        self.bands = bands
        self.slices = slices
        rowsPerBand = (outputRows + bands - 1) / bands
    }

    /// The share of the SGEMM's vectors that `columns` columns of C fill: its
    /// tiles are `ck_sgemm_column_step()` wide, the last one whole vectors.
    static func vectorFill(_ columns: Int) -> Double {
        let (step, vector) = (ck_sgemm_column_step(), ck_sgemm_vector_floats())
        let tail = columns % step
        let width = columns / step * step + (tail + vector - 1) / vector * vector
        return width == 0 ? 1 : Double(columns) / Double(width)
    }

    /// The image × group, output rows and output channels of work item `item`;
    /// the channels may be empty (nothing to do) when they do not divide evenly.
    func item(_ item: Int) -> (unit: Int, rows: Range<Int>, channels: Range<Int>) {
        let slice = item % slices, band = (item / slices) % bands, unit = item / (slices * bands)
        // Bands differ by at most one row.
        let rows = band * outputRows / bands..<(band + 1) * outputRows / bands
        let step = ck_sgemm_row_step()
        let perSlice = ((channels + slices - 1) / slices + step - 1) / step * step
        let first = min(channels, slice * perSlice)
        return (unit, rows, first..<min(channels, first + perSlice))
    }
}

// MARK: - The schemas' kernels

extension Conv: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try HalfPrecision(ConvKernel(self, setup), setup)
    }
}
