internal import CKernels
import ModelCore

/// Kernels of the convolutional-network path: Conv, Gemm, MatMul, pooling,
/// BatchNormalization and the fused-friendly activations, all float32.
enum NeuralKernels {
    static let registrations: [String: KernelFactory] = [
        "Conv": { setup throws(ModelError) in try ConvKernel(setup) },
        "Gemm": { setup throws(ModelError) in try GemmKernel(setup) },
        "MatMul": { _ throws(ModelError) in MatMulKernel() },
        "BatchNormalization": { setup throws(ModelError) in try BatchNormKernel(setup) },
        "MaxPool": { setup throws(ModelError) in try PoolKernel(setup) },
        "AveragePool": { setup throws(ModelError) in try PoolKernel(setup) },
        "GlobalAveragePool": { _ throws(ModelError) in GlobalPoolKernel(average: true) },
        "GlobalMaxPool": { _ throws(ModelError) in GlobalPoolKernel(average: false) },
    ]
}

/// Checks that an input is present and float32.
func floatInput(_ inputs: [EngineTensor?], _ index: Int, _ what: String) throws(ModelError) -> EngineTensor {
    guard index < inputs.count, let tensor = inputs[index] else { throw ModelError("\(what) is missing") }
    guard tensor.dtype == .float else { throw ModelError("\(what) is \(tensor.dtype); this kernel runs float32") }
    return tensor
}

/// Convolution as banded im2col + GEMM: bands of output rows are lowered
/// into a column matrix small enough to stay in cache, and the bands (see
/// `ConvPartition`) are the unit of work for the threads.
struct ConvKernel: Kernel {
    let schema: Conv
    /// Weights and bias with a following BatchNormalization folded in, when fused.
    let folded: (weight: EngineTensor, bias: EngineTensor)?
    /// Whether input 3 is a residual added to the output before the activation.
    let addsResidual: Bool
    let activation: ck_activation

    init(_ setup: KernelSetup) throws(ModelError) {
        schema = try setup.schema(as: Conv.self)
        folded = nil
        addsResidual = false
        activation = CK_ACTIVATION_NONE
    }

    /// A Conv that also applies `fusion`'s BatchNormalization, Add and Relu.
    init(_ setup: KernelSetup, fusion: ConvFusion) throws(ModelError) {
        schema = try setup.schema(as: Conv.self)
        addsResidual = fusion.residual != nil
        activation = fusion.relu ? CK_ACTIVATION_RELU : CK_ACTIVATION_NONE
        guard let bn = fusion.batchNorm else {
            folded = nil
            return
        }
        guard let weight = setup.constants[1], weight.dtype == .float, weight.shape.count >= 2 else {
            throw ModelError("internal: a fused Conv needs stored float32 weights")
        }
        let channels = weight.shape[0], perChannel = weight.count / max(channels, 1)
        let parameters = try [bn.scale, bn.bias, bn.mean, bn.variance].map { t throws(ModelError) -> [Double] in
            let values = try t.doubleValues()
            guard values.count == channels else { throw ModelError("BatchNormalization has \(values.count) values for \(channels) channels") }
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
            throw ModelError("the engine runs 2-D convolutions (rank-4 input and weight), got ranks \(x.shape.count) and \(w.shape.count)")
        }
        guard let window = try schema.window(weight: Shape(w.shape)) else { throw ModelError("Conv kernel shape unknown") }
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let m = w.shape[0], group = schema.group
        guard c == w.shape[1] * group, m % group == 0 else {
            throw ModelError("input has \(c) channels but the weight expects \(w.shape[1]) × \(group) groups")
        }
        let spatial = window.outputSpatial([.known(h), .known(wd)])
        guard let oh = spatial[0].value, let ow = spatial[1].value, oh > 0, ow > 0 else {
            throw ModelError("convolution output would be empty")
        }
        let pads = Self.pads(window, input: [h, wd], output: [oh, ow])
        let output = try EngineTensor(dtype: .float, shape: [n, m, oh, ow])
        let cg = c / group, mg = m / group, kk = window.kernel[0] * window.kernel[1]
        let k = cg * kk
        var biasPointer: UnsafePointer<Float>?
        if let bias {
            guard bias.dtype == .float, bias.count == m else { throw ModelError("bias must be \(m) float32 values") }
            biasPointer = UnsafePointer(bias.floats.baseAddress!)
        }
        // A residual of the output's shape is added in the GEMM's epilogue;
        // one that broadcasts is added afterwards, and the activation with it.
        var residual: EngineTensor?
        if addsResidual { residual = try floatInput(inputs, 3, "the Add's other operand") }
        let inEpilogue = residual.map { $0.shape == output.shape } ?? true
        let residualBase = inEpilogue ? residual.map { UnsafePointer($0.floats.baseAddress!) } : nil
        let epilogueActivation = inEpilogue ? activation : CK_ACTIVATION_NONE
        let pointwise = kk == 1 && window.strides == [1, 1] && pads == [0, 0, 0, 0]
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
                let channelBias = biasPointer.map { $0 + g * mg + channels.lowerBound }
                ck_sgemm_fused(0, 0, channels.count, pixels, k, 1, wBase + (g * mg + channels.lowerBound) * k, k,
                               b, pointwise ? h * wd : pixels, 0, target, oh * ow,
                               channelBias, residualBase.map { $0 + (target - yBase) }, oh * ow, epilogueActivation, 0, 0)
            }
        }
        guard let residual, !inEpilogue else { return [output] }
        let sum = try FloatLoops.arithmetic(.add, output, residual, context)
        return [activation == CK_ACTIVATION_RELU ? try FloatLoops.relu(sum, context) : sum]
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

    init(_ setup: KernelSetup) throws(ModelError) {
        schema = try setup.schema(as: Gemm.self)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        guard a.shape.count == 2, b.shape.count == 2 else { throw ModelError("Gemm needs 2-D inputs") }
        let m = schema.transA ? a.shape[1] : a.shape[0], k = schema.transA ? a.shape[0] : a.shape[1]
        let n = schema.transB ? b.shape[0] : b.shape[1]
        guard k == (schema.transB ? b.shape[1] : b.shape[0]) else { throw ModelError("Gemm inner dimensions differ") }
        let output = try EngineTensor(dtype: .float, shape: [m, n])
        var beta: Float = 0
        if inputs.count > 2, let c = inputs[2] {
            guard c.dtype == .float else { throw ModelError("C must be float32") }
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
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw ModelError("MatMul inputs must have rank 1 or more") }
        let left = a.shape.count == 1 ? [1] + a.shape : a.shape
        let right = b.shape.count == 1 ? b.shape + [1] : b.shape
        let m = left[left.count - 2], k = left[left.count - 1], n = right[right.count - 1]
        guard k == right[right.count - 2] else { throw ModelError("MatMul inner dimensions \(k) and \(right[right.count - 2]) differ") }
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

    init(_ setup: KernelSetup) throws(ModelError) {
        epsilon = try setup.schema(as: BatchNormalization.self).epsilon
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        guard x.shape.count >= 2 else { throw ModelError("BatchNormalization needs rank ≥ 2") }
        let c = x.shape[1]
        var parameters: [UnsafeMutableBufferPointer<Float>] = []
        for (i, name) in ["scale", "bias", "mean", "var"].enumerated() {
            let p = try floatInput(inputs, i + 1, name)
            guard p.count == c else { throw ModelError("\(name) has \(p.count) values for \(c) channels") }
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

    init(_ setup: KernelSetup) throws(ModelError) {
        schema = try setup.schema(as: WindowPool.self)
        countPadding = (try? AttributeReader(setup.node).int("count_include_pad", default: 0)) ?? 0 != 0
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        let window = schema.window
        guard x.shape.count == 4, window.kernel.count == 2 else { throw ModelError("the engine pools 2-D images (rank-4 input)") }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let spatial = window.outputSpatial([.known(h), .known(w)])
        guard let oh = spatial[0].value, let ow = spatial[1].value else { throw ModelError("pooling output size unknown") }
        let pads = ConvKernel.pads(window, input: [h, w], output: [oh, ow])
        let output = try EngineTensor(dtype: .float, shape: [n, c, oh, ow])
        let (source, target) = (x.floats.baseAddress!, output.floats.baseAddress!)
        let isMax = schema.op == "MaxPool"
        let (kh, kw, sh, sw, dh, dw) = (window.kernel[0], window.kernel[1], window.strides[0], window.strides[1],
                                        window.dilations[0], window.dilations[1])
        let countPadding = self.countPadding
        /// One output from its taps, each checked against the image and the padded extent.
        func pooled(_ from: UnsafeMutablePointer<Float>, _ oy: Int, _ ox: Int) -> Float {
            var best = -Float.infinity, sum: Float = 0, used = 0, padded = 0
            for ky in 0..<kh {
                let iy = oy * sh - pads[0] + ky * dh
                for kx in 0..<kw {
                    let ix = ox * sw - pads[1] + kx * dw
                    // Taps in the end padding beyond the padded extent do not count.
                    guard iy < h + pads[2], ix < w + pads[3] else { continue }
                    padded += 1
                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                    let v = from[iy * w + ix]
                    if v > best || v.isNaN { best = v }
                    sum += v
                    used += 1
                }
            }
            return isMax ? best : sum / Float(max(1, countPadding ? padded : used))
        }
        // Interior columns: every tap of the window's row lies inside the image.
        let interiorBegin = min(ow, (pads[1] + sw - 1) / sw)
        let lastStart = w - 1 + pads[1] - (kw - 1) * dw
        let interiorEnd = lastStart < 0 ? interiorBegin : max(interiorBegin, min(ow, lastStart / sw + 1))
        context.parallelRanges(n * c, grain: 4) { planes in
            for plane in planes {
                let from = source + plane * h * w, to = target + plane * oh * ow
                for oy in 0..<oh {
                    let out = to + oy * ow
                    for ox in 0..<interiorBegin { out[ox] = pooled(from, oy, ox) }
                    for ox in interiorEnd..<ow { out[ox] = pooled(from, oy, ox) }
                    // The interior, tap by tap along the row, so that the
                    // loop over columns has no bounds checks and vectorises.
                    // The window's rows inside the image, and inside the padded extent.
                    let top = oy * sh - pads[0]
                    var rowsBegin = 0, rowsEnd = 0, paddedRows = 0
                    while rowsBegin < kh && top + rowsBegin * dh < 0 { rowsBegin += 1 }
                    rowsEnd = rowsBegin
                    while rowsEnd < kh && top + rowsEnd * dh < h { rowsEnd += 1 }
                    while paddedRows < kh && top + paddedRows * dh < h + pads[2] { paddedRows += 1 }
                    @inline(__always) func accumulate(from initial: Float, _ combine: (Float, Float) -> Float) {
                        for ox in interiorBegin..<interiorEnd { out[ox] = initial }
                        for ky in rowsBegin..<rowsEnd {
                            for kx in 0..<kw {
                                let line = from + (top + ky * dh) * w - pads[1] + kx * dw
                                // A constant stride lets the compiler vectorise the common cases.
                                @inline(__always) func taps(stride: Int) {
                                    for ox in interiorBegin..<interiorEnd { out[ox] = combine(out[ox], line[ox &* stride]) }
                                }
                                switch sw {
                                case 1: taps(stride: 1)
                                case 2: taps(stride: 2)
                                default: taps(stride: sw)
                                }
                            }
                        }
                    }
                    if isMax {
                        accumulate(from: -.infinity) { best, v in v > best || v.isNaN ? v : best }
                    } else {
                        accumulate(from: 0, +)
                        let count = Float(max(1, (countPadding ? paddedRows : rowsEnd - rowsBegin) * kw))
                        for ox in interiorBegin..<interiorEnd { out[ox] /= count }
                    }
                }
            }
        }
        return [output]
    }
}

/// GlobalAveragePool and GlobalMaxPool over all spatial axes.
struct GlobalPoolKernel: Kernel {
    let average: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        guard x.shape.count >= 3 else { throw ModelError("global pooling needs rank ≥ 3") }
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
        guard p == q || p == 1 || q == 1 else { throw ModelError("cannot broadcast shapes \(a) and \(b)") }
        result.append(p == 1 ? q : p)
    }
    return result
}

/// Fills `target` (float32) with `source` broadcast to its shape.
func broadcastInto(_ target: EngineTensor, from source: EngineTensor) throws(ModelError) {
    guard try broadcastShape(source.shape, target.shape) == target.shape else {
        throw ModelError("shape \(source.shape) does not broadcast to \(target.shape)")
    }
    let index = BroadcastIndex(from: source.shape, to: target.shape)
    let (from, to) = (source.floats, target.floats)
    for i in 0..<target.count { to[i] = from[index.source(of: i)] }
}
