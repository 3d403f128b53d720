internal import CKernels
import ModelCore

// Kernels of the convolutional-network path: Conv, Gemm, MatMul, pooling,
// BatchNormalization and the fused-friendly activations, all float32.

/// Checks that an input is present and float32.
func floatInput(_ inputs: [EngineTensor?], _ index: Int, _ what: String) throws(ModelError) -> EngineTensor {
    guard index < inputs.count, let tensor = inputs[index] else { throw ModelError(.invalidGraph, "\(what) is missing") }
    guard tensor.dtype == .float else { throw ModelError(.unsupported(op: nil, dtype: tensor.dtype), "\(what) is \(tensor.dtype); this kernel runs float32") }
    return tensor
}

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

    init(_ schema: Conv, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        folded = nil
        addsResidual = false
        clamp = nil
    }

    /// A Conv that also applies `fusion`'s BatchNormalization, Add and activation.
    init(_ schema: Conv, _ setup: KernelSetup, fusion: ConvFusion) throws(ModelError) {
        self.schema = schema
        addsResidual = fusion.residual != nil
        switch fusion.activation {
        case nil: clamp = nil
        case .relu: clamp = (0, .infinity)
        case .clip(let low, let high): clamp = (low, high)
        }
        guard let bn = fusion.batchNorm else {
            folded = nil
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
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        let w: EngineTensor, bias: EngineTensor?
        if let folded {
            (w, bias) = (folded.weight, folded.bias)
        } else {
            w = try floatInput(inputs, 1, "weight W")
            bias = inputs.count > 2 ? inputs[2] : nil
        }
        guard x.shape.count == 4, w.shape.count == 4 else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "the engine runs 2-D convolutions (rank-4 input and weight), got ranks \(x.shape.count) and \(w.shape.count)")
        }
        guard let window = try schema.window(weight: Shape(w.shape)) else { throw ModelError(.invalidGraph, "Conv kernel shape unknown") }
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let m = w.shape[0], group = schema.group
        guard c == w.shape[1] * group, m % group == 0 else {
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
        let inEpilogue = residual.map { $0.shape == output.shape } ?? true
        let epilogue = Epilogue(bias: biasPointer, residual: inEpilogue ? residual.map { UnsafePointer($0.floats.baseAddress!) } : nil,
                                clamp: inEpilogue ? clamp : nil)
        if cg == 1 && mg == 1 {
            let geometry = WindowGeometry(window, pads: pads, height: h, width: wd, outputWidth: ow)
            Self.depthwise(x, w, output, geometry, epilogue, context)
        } else {
            Self.lowered(x, w, output, window, pads, group: group, epilogue, context)
        }
        guard let residual, !inEpilogue else { return [output] }
        let sum = try FloatLoops.arithmetic(.add, output, residual, context)
        guard let clamp else { return [sum] }
        return [try FloatLoops.clamp(sum, low: clamp.low, high: clamp.high, context)]
    }

    /// What is applied to each output after the convolution's sum, in this
    /// order; the pointers are at the output's first element.
    struct Epilogue {
        let bias: UnsafePointer<Float>?
        /// Laid out like the output.
        let residual: UnsafePointer<Float>?
        let clamp: (low: Float, high: Float)?
    }

    /// The convolution as banded im2col (none when pointwise) + GEMM.
    private static func lowered(_ x: EngineTensor, _ w: EngineTensor, _ output: EngineTensor, _ window: Window, _ pads: [Int],
                                group: Int, _ epilogue: Epilogue, _ context: ExecutionContext) {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (m, oh, ow) = (output.shape[1], output.shape[2], output.shape[3])
        let cg = c / group, mg = m / group, k = cg * window.kernel[0] * window.kernel[1]
        let activation = epilogue.clamp == nil ? CK_ACTIVATION_NONE : CK_ACTIVATION_CLIP
        let (low, high) = epilogue.clamp ?? (0, 0)
        let pointwise = window.kernel == [1, 1] && window.strides == [1, 1] && pads == [0, 0, 0, 0]
        let split = ConvPartition(units: n * group, outputRows: oh, outputColumns: ow, channels: mg,
                                  depth: pointwise ? nil : k, threads: context.threads)
        let xBase = x.floats.baseAddress!, wBase = w.floats.baseAddress!, yBase = output.floats.baseAddress!
        let work = split.items
        context.parallel(min(context.threads, work)) { worker in
            let columns = UnsafeMutablePointer<Float>.allocate(capacity: pointwise ? 1 : k * split.rowsPerBand * ow)
            defer { columns.deallocate() }
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
                                   rows.lowerBound, rows.upperBound, columns)
                    b = UnsafePointer(columns)
                }
                let channelBias = epilogue.bias.map { $0 + g * mg + channels.lowerBound }
                ck_sgemm_fused(0, 0, channels.count, pixels, k, 1, wBase + (g * mg + channels.lowerBound) * k, k,
                               b, pointwise ? h * wd : pixels, 0, target, oh * ow,
                               channelBias, epilogue.residual.map { $0 + (target - yBase) }, oh * ow, activation, low, high)
            }
        }
    }

    /// A depthwise convolution (one input and one output channel per
    /// group, as MobileNetV2's) computed directly, plane by plane: lowered,
    /// it would be one matrix–vector product of 9 rows per channel.
    private static func depthwise(_ x: EngineTensor, _ w: EngineTensor, _ output: EngineTensor, _ geometry: WindowGeometry,
                                  _ epilogue: Epilogue, _ context: ExecutionContext) {
        let (planes, h, wd) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        let (channels, oh, ow) = (output.shape[1], output.shape[2], output.shape[3])
        let (source, weights, target) = (x.floats.baseAddress!, w.floats.baseAddress!, output.floats.baseAddress!)
        let taps = geometry.kernel.h * geometry.kernel.w
        context.parallelRanges(planes, grain: 1) { range in
            for plane in range {
                let from = UnsafePointer(source + plane * h * wd), to = target + plane * oh * ow
                let kernel = weights + plane % channels * taps, bias = epilogue.bias?[plane % channels] ?? 0
                for oy in 0..<oh {
                    let out = to + oy * ow
                    for ox in geometry.borderColumns {
                        var sum = bias
                        _ = geometry.forEachTap(of: oy, ox, in: from) { v, tap in sum += kernel[tap] * v }
                        out[ox] = sum
                    }
                    for ox in geometry.interior { out[ox] = bias }
                    geometry.accumulateInterior(out, from, row: oy) { sum, v, tap in sum + kernel[tap] * v }
                    if let residual = epilogue.residual.map({ $0 + plane * oh * ow + oy * ow }) {
                        for ox in 0..<ow { out[ox] += residual[ox] }
                    }
                    if let (low, high) = epilogue.clamp {
                        // NaN passes, as in the GEMM's epilogue.
                        for ox in 0..<ow {
                            let v = out[ox] < low ? low : out[ox]
                            out[ox] = v > high ? high : v
                        }
                    }
                }
            }
        }
    }

    /// Explicit begin/end pads (top, left, bottom, right), resolving auto_pad.
    static func pads(_ window: Window, input: [Int], output: [Int]) -> [Int] {
        switch window.autoPad {
        case .notSet: return [window.pads[0], window.pads[1], window.pads[2], window.pads[3]]
        case .valid: return [0, 0, 0, 0]
        case .sameUpper, .sameLower:
            var begin = [0, 0], end = [0, 0]
            for i in 0..<2 {
                let extent = (window.kernel[i] - 1) * window.dilations[i] + 1
                let total = max(0, (output[i] - 1) * window.strides[i] + extent - input[i])
                let small = total / 2
                begin[i] = window.autoPad == .sameUpper ? small : total - small
                end[i] = total - begin[i]
            }
            return [begin[0], begin[1], end[0], end[1]]
        }
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
            // columns; on smaller maps, slices of whole tiles of channels.
            let minimumPixels = 2 * ck_sgemm_column_step()
            if outputRows * outputColumns / threads >= minimumPixels {
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

/// Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N].
struct GemmKernel: Kernel {
    let schema: Gemm

    init(_ schema: Gemm, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        guard a.shape.count == 2, b.shape.count == 2 else { throw ModelError(.invalidGraph, "Gemm needs 2-D inputs") }
        let m = schema.transA ? a.shape[1] : a.shape[0], k = schema.transA ? a.shape[0] : a.shape[1]
        let n = schema.transB ? b.shape[0] : b.shape[1]
        guard k == (schema.transB ? b.shape[1] : b.shape[0]) else { throw ModelError(.invalidGraph, "Gemm inner dimensions differ") }
        let output = try EngineTensor(dtype: .float, shape: [m, n])
        var beta: Float = 0
        if inputs.count > 2, let c = inputs[2] {
            guard c.dtype == .float else { throw ModelError(.invalidGraph, "C must be float32") }
            try broadcastInto(output, from: c)
            beta = schema.beta
        }
        let (aBase, bBase, yBase) = (a.floats.baseAddress!, b.floats.baseAddress!, output.floats.baseAddress!)
        let (alpha, transA, transB) = (schema.alpha, schema.transA, schema.transB)
        let lda = a.shape[1], ldb = b.shape[1]
        // Rows of Y for tall products, columns for wide ones (a batch-1 classifier is one row).
        if m >= 2 * context.threads {
            context.parallelRanges(m, grain: 16) { rows in
                let aRows = transA ? aBase + rows.lowerBound : aBase + rows.lowerBound * lda
                ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, rows.count, n, k, alpha, aRows, lda, bBase, ldb, beta,
                         yBase + rows.lowerBound * n, n)
            }
        } else {
            context.parallelRanges(n, grain: 64) { columns in
                let bColumns = transB ? bBase + columns.lowerBound * ldb : bBase + columns.lowerBound
                ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, columns.count, k, alpha, aBase, lda, bColumns, ldb, beta,
                         yBase + columns.lowerBound, n)
            }
        }
        return [output]
    }
}

/// MatMul with NumPy semantics: 1-D operands promoted, batch dimensions broadcast.
struct MatMulKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw ModelError(.invalidGraph, "MatMul inputs must have rank 1 or more") }
        let left = a.shape.count == 1 ? [1] + a.shape : a.shape
        let right = b.shape.count == 1 ? b.shape + [1] : b.shape
        let m = left[left.count - 2], k = left[left.count - 1], n = right[right.count - 1]
        guard k == right[right.count - 2] else { throw ModelError(.invalidGraph, "MatMul inner dimensions \(k) and \(right[right.count - 2]) differ") }
        let batchA = Array(left.dropLast(2)), batchB = Array(right.dropLast(2))
        let batch = try broadcastShape(batchA, batchB)
        var shape = batch
        if a.shape.count > 1 { shape.append(m) }
        if b.shape.count > 1 { shape.append(n) }
        let output = try EngineTensor(dtype: .float, shape: shape)
        let count = batch.reduce(1, *)
        let indexA = BroadcastIndex(from: batchA, to: batch), indexB = BroadcastIndex(from: batchB, to: batch)
        let (aBase, bBase, yBase) = (a.floats.baseAddress!, b.floats.baseAddress!, output.floats.baseAddress!)
        context.parallel(min(context.threads, max(count, 1))) { worker in
            var item = worker
            while item < count {
                ck_sgemm(0, 0, m, n, k, 1, aBase + indexA.source(of: item) * m * k, k, bBase + indexB.source(of: item) * k * n, n,
                         0, yBase + item * m * n, n)
                item += context.threads
            }
        }
        return [output]
    }
}

/// BatchNormalization in inference form, y = a·x + b per channel.
struct BatchNormKernel: Kernel {
    let epsilon: Float

    init(_ schema: BatchNormalization, _ setup: KernelSetup) throws(ModelError) {
        epsilon = schema.epsilon
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "BatchNormalization needs rank ≥ 2") }
        let c = x.shape[1]
        var parameters: [UnsafeMutableBufferPointer<Float>] = []
        for (i, name) in ["scale", "bias", "mean", "var"].enumerated() {
            let p = try floatInput(inputs, i + 1, name)
            guard p.count == c else { throw ModelError(.invalidGraph, "\(name) has \(p.count) values for \(c) channels") }
            parameters.append(p.floats)
        }
        var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
        for i in 0..<c {
            a[i] = parameters[0][i] / (parameters[3][i] + epsilon).squareRoot()
            b[i] = parameters[1][i] - parameters[2][i] * a[i]
        }
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let inner = x.shape.dropFirst(2).reduce(1, *), planes = x.count / max(inner, 1)
        let (source, target) = (x.floats.baseAddress!, output.floats.baseAddress!)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                context.parallelRanges(planes, grain: 8) { range in
                    for plane in range {
                        let channel = plane % c, scale = a[channel], shift = b[channel]
                        let from = source + plane * inner, to = target + plane * inner
                        for i in 0..<inner { to[i] = scale * from[i] + shift }
                    }
                }
            }
        }
        return [output]
    }
}

/// MaxPool and AveragePool over 2-D windows.
struct PoolKernel: Kernel {
    let schema: WindowPool
    let countPadding: Bool

    init(_ schema: WindowPool, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        countPadding = (try? AttributeReader(setup.node).int("count_include_pad", default: 0)) ?? 0 != 0
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        let window = schema.window
        guard x.shape.count == 4, window.kernel.count == 2 else { throw ModelError(.unsupported(op: nil, dtype: nil), "the engine pools 2-D images (rank-4 input)") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let spatial = window.outputSpatial([.known(h), .known(w)])
        guard let oh = spatial[0].value, let ow = spatial[1].value else { throw ModelError(.invalidGraph, "pooling output size unknown") }
        let pads = ConvKernel.pads(window, input: [h, w], output: [oh, ow])
        let output = try EngineTensor(dtype: .float, shape: [n, c, oh, ow])
        let (source, target) = (x.floats.baseAddress!, output.floats.baseAddress!)
        let isMax = schema.op == "MaxPool"
        let countPadding = self.countPadding
        let geometry = WindowGeometry(window, pads: pads, height: h, width: w, outputWidth: ow)
        let kw = window.kernel[1]
        context.parallelRanges(n * c, grain: 4) { planes in
            for plane in planes {
                let from = UnsafePointer(source + plane * h * w), to = target + plane * oh * ow
                for oy in 0..<oh {
                    let out = to + oy * ow
                    for ox in geometry.borderColumns {
                        var best = -Float.infinity, sum: Float = 0, used = 0
                        let padded = geometry.forEachTap(of: oy, ox, in: from) { v, _ in
                            if v > best || v.isNaN { best = v }
                            sum += v
                            used += 1
                        }
                        out[ox] = isMax ? best : sum / Float(max(1, countPadding ? padded : used))
                    }
                    if isMax {
                        for ox in geometry.interior { out[ox] = -.infinity }
                        geometry.accumulateInterior(out, from, row: oy) { best, v, _ in v > best || v.isNaN ? v : best }
                    } else {
                        for ox in geometry.interior { out[ox] = 0 }
                        geometry.accumulateInterior(out, from, row: oy) { sum, v, _ in sum + v }
                        let rows = geometry.kernelRows(oy)
                        let count = Float(max(1, (countPadding ? rows.padded : rows.inside.count) * kw))
                        for ox in geometry.interior { out[ox] /= count }
                    }
                }
            }
        }
        return [output]
    }
}

/// Where a 2-D window (of a convolution or a pooling) meets one image plane:
/// the interior output columns, whose taps all lie inside the image
/// horizontally, and for each output row the kernel rows that lie inside
/// vertically. Interior loops need no per-tap bounds checks.
struct WindowGeometry {
    let kernel: (h: Int, w: Int), stride: (h: Int, w: Int), dilation: (h: Int, w: Int)
    /// top, left, bottom, right
    let pads: [Int]
    let height: Int, width: Int, outputWidth: Int
    let interior: Range<Int>

    init(_ window: Window, pads: [Int], height: Int, width: Int, outputWidth: Int) {
        kernel = (window.kernel[0], window.kernel[1])
        stride = (window.strides[0], window.strides[1])
        dilation = (window.dilations[0], window.dilations[1])
        self.pads = pads
        self.height = height
        self.width = width
        self.outputWidth = outputWidth
        let begin = min(outputWidth, (pads[1] + stride.w - 1) / stride.w)
        let lastStart = width - 1 + pads[1] - (kernel.w - 1) * dilation.w
        interior = begin..<(lastStart < 0 ? begin : max(begin, min(outputWidth, lastStart / stride.w + 1)))
    }

    /// The output columns left and right of the interior.
    var borderColumns: FlattenSequence<[Range<Int>]> { [0..<interior.lowerBound, interior.upperBound..<outputWidth].joined() }

    /// The kernel rows of output row `oy` inside the image, and how many lie
    /// inside the padded extent (top padding included), as count_include_pad counts.
    func kernelRows(_ oy: Int) -> (inside: Range<Int>, padded: Int) {
        let top = oy * stride.h - pads[0]
        var begin = 0, end = 0, padded = 0
        while begin < kernel.h && top + begin * dilation.h < 0 { begin += 1 }
        end = begin
        while end < kernel.h && top + end * dilation.h < height { end += 1 }
        while padded < kernel.h && top + padded * dilation.h < height + pads[2] { padded += 1 }
        return (begin..<end, padded)
    }

    /// Calls `body(value, tap)` for each tap of output (oy, ox) inside the
    /// image, tap = ky · kernel width + kx; returns how many taps lie inside
    /// the padded extent (taps in the end padding beyond it do not count).
    @inline(__always)
    func forEachTap(of oy: Int, _ ox: Int, in plane: UnsafePointer<Float>, _ body: (Float, Int) -> Void) -> Int {
        var padded = 0
        for ky in 0..<kernel.h {
            let iy = oy * stride.h - pads[0] + ky * dilation.h
            for kx in 0..<kernel.w {
                let ix = ox * stride.w - pads[1] + kx * dilation.w
                guard iy < height + pads[2], ix < width + pads[3] else { continue }
                padded += 1
                guard iy >= 0, iy < height, ix >= 0, ix < width else { continue }
                body(plane[iy * width + ix], ky * kernel.w + kx)
            }
        }
        return padded
    }

    /// out[ox] = combine(out[ox], value, tap) over the interior columns of
    /// output row `oy`, for each of its taps inside the image in turn: the
    /// loop runs along the row, and the common strides are constants, so
    /// that the compiler vectorises it.
    @inline(__always)
    func accumulateInterior(_ out: UnsafeMutablePointer<Float>, _ plane: UnsafePointer<Float>, row oy: Int,
                            _ combine: (Float, Float, Int) -> Float) {
        let top = oy * stride.h - pads[0]
        for ky in kernelRows(oy).inside {
            for kx in 0..<kernel.w {
                let line = plane + (top + ky * dilation.h) * width - pads[1] + kx * dilation.w
                let tap = ky * kernel.w + kx
                @inline(__always) func taps(stride: Int) {
                    for ox in interior { out[ox] = combine(out[ox], line[ox &* stride], tap) }
                }
                switch stride.w {
                case 1: taps(stride: 1)
                case 2: taps(stride: 2)
                default: taps(stride: stride.w)
                }
            }
        }
    }
}

/// GlobalAveragePool and GlobalMaxPool over all spatial axes.
struct GlobalPoolKernel: Kernel {
    let average: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        guard x.shape.count >= 3 else { throw ModelError(.invalidGraph, "global pooling needs rank ≥ 3") }
        let planes = x.shape[0] * x.shape[1], inner = x.count / max(planes, 1)
        let output = try EngineTensor(dtype: .float, shape: Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2))
        let (source, target) = (x.floats.baseAddress!, output.floats.baseAddress!)
        for plane in 0..<planes {
            let from = source + plane * inner
            if average {
                var sum: Float = 0
                for i in 0..<inner { sum += from[i] }
                target[plane] = sum / Float(max(inner, 1))
            } else {
                var best = -Float.infinity
                for i in 0..<inner where from[i] > best || from[i].isNaN { best = from[i] }
                target[plane] = best
            }
        }
        return [output]
    }
}

/// NumPy broadcasting of two shapes.
func broadcastShape(_ a: [Int], _ b: [Int]) throws(ModelError) -> [Int] {
    let rank = max(a.count, b.count)
    let x = Array(repeating: 1, count: rank - a.count) + a, y = Array(repeating: 1, count: rank - b.count) + b
    var result: [Int] = []
    for (p, q) in zip(x, y) {
        guard p == q || p == 1 || q == 1 else { throw ModelError(.invalidGraph, "cannot broadcast shapes \(a) and \(b)") }
        result.append(p == 1 ? q : p)
    }
    return result
}

/// Fills `target` (float32) with `source` broadcast to its shape.
func broadcastInto(_ target: EngineTensor, from source: EngineTensor) throws(ModelError) {
    guard try broadcastShape(source.shape, target.shape) == target.shape else {
        throw ModelError(.invalidGraph, "shape \(source.shape) does not broadcast to \(target.shape)")
    }
    let index = BroadcastIndex(from: source.shape, to: target.shape)
    let (from, to) = (source.floats, target.floats)
    for i in 0..<target.count { to[i] = from[index.source(of: i)] }
}

// MARK: - The schemas' kernels

extension Conv: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ConvKernel(self, setup) }
}

extension Gemm: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try GemmKernel(self, setup) }
}

extension MatMul: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { MatMulKernel() }
}

extension BatchNormalization: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try BatchNormKernel(self, setup) }
}

extension WindowPool: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        guard setup.node.opType != "LpPool" else { throw setup.noKernel }
        return try PoolKernel(self, setup)
    }
}

extension GlobalPool: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        switch setup.node.opType {
        case "GlobalAveragePool": return GlobalPoolKernel(average: true)
        case "GlobalMaxPool": return GlobalPoolKernel(average: false)
        default: throw setup.noKernel
        }
    }
}
