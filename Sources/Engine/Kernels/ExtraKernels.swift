internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// Kernels beyond the common inference path: linear (de)quantisation, the
// classification losses of training graphs, ConvTranspose and Einsum.

// MARK: - Shared helpers

/// The elements of any numeric tensor as float64.
func realValues(_ tensor: EngineTensor) throws(ModelError) -> [Double] {
    let read = try castReader(tensor)
    var values = [Double](repeating: 0, count: tensor.count)
    for i in 0..<tensor.count { values[i] = realValue(read(i)) }
    return values
}

/// The elements of an integer tensor as Int (indices, class labels).
func integerValues(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> [Int] {
    guard tensor.dtype.kind == .signedInteger || tensor.dtype.kind == .unsignedInteger else {
        throw ModelError(.invalidGraph, "\(what) must be an integer tensor, got \(tensor.dtype)")
    }
    let read = try castReader(tensor)
    var values = [Int](repeating: 0, count: tensor.count)
    for i in 0..<tensor.count {
        switch read(i) {
        case .signed(let v): values[i] = Int(v)
        case .unsigned(let v): values[i] = v > UInt64(Int.max) ? Int.max : Int(v)
        case .real(let v): values[i] = v.isFinite ? Int(v) : 0
        }
    }
    return values
}

/// A new tensor of `dtype` holding `values`, converted as Cast converts float64.
func tensorFromReals(_ values: [Double], dtype: DType, shape: [Int], saturate: Bool = true) throws(ModelError) -> EngineTensor {
    let output = try EngineTensor(dtype: dtype, shape: shape)
    guard output.count == values.count else { throw ModelError(.internal, "internal: \(values.count) values for shape \(shape)") }
    if dtype == .float {
        let p = output.floats
        for i in 0..<values.count { p[i] = Float(values[i]) }
        return output
    }
    if dtype == .double {
        let p = output.elements(Double.self)
        for i in 0..<values.count { p[i] = values[i] }
        return output
    }
    try castWriter(output, saturate: saturate, roundMode: .up)({ .real(values[$0]) }, values.count)
    return output
}

// MARK: - QuantizeLinear / DequantizeLinear

/// QuantizeLinear, y = saturate(round(x / scale) + zero point), and
/// DequantizeLinear, y = (x − zero point) · scale, with per-tensor, per-axis
/// or blocked scales, for the integer types of 2 to 32 bits and the float8
/// and float4 formats.
struct QuantizeKernel: Kernel {
    let schema: Quantize
    let blockSize: Int
    let saturate: Bool

    init(_ schema: Quantize, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        let reader = AttributeReader(setup.node)
        blockSize = try reader.int("block_size", default: 0)
        saturate = try reader.int("saturate", default: 1) != 0
        guard blockSize >= 0 else { throw ModelError(.invalidGraph, "block_size must not be negative") }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input x")
        let scale = try requiredInput(inputs, 1, schema.dequantize ? "x_scale" : "y_scale")
        let zeroPoint = optionalInput(inputs, 2)
        guard [.float, .signedInteger, .unsignedInteger].contains(x.dtype.kind) else {
            throw ModelError(.invalidGraph, "input x must be numeric, got \(x.dtype)")
        }
        guard scale.dtype.kind == .float else { throw ModelError(.invalidGraph, "scale must be a floating-point tensor, got \(scale.dtype)") }
        if let zeroPoint, zeroPoint.shape != scale.shape, !(zeroPoint.count == 1 && scale.count == 1) {
            throw ModelError(.invalidGraph, "zero point shape \(zeroPoint.shape) differs from scale shape \(scale.shape)")
        }
        let index = try scaleIndex(x.shape, scale.shape)
        let scales = try realValues(scale)
        let zeros = try zeroPoint.map { z throws(ModelError) in try realValues(z) } ?? [Double](repeating: 0, count: scales.count)
        guard zeros.count == scales.count else { throw ModelError(.invalidGraph, "zero point has \(zeros.count) values for \(scales.count) scales") }
        let read = try castReader(x)
        let count = x.count
        if schema.dequantize {
            if let zeroPoint, zeroPoint.dtype != x.dtype {
                throw ModelError(.invalidGraph, "x_zero_point is \(zeroPoint.dtype) but x is \(x.dtype)")
            }
            let dtype = schema.outputType ?? scale.dtype
            guard dtype.kind == .float else { throw ModelError(.invalidGraph, "DequantizeLinear cannot produce \(dtype)") }
            var values = [Double](repeating: 0, count: count)
            let singleScale = scale.dtype == .float
            for i in 0..<count {
                let s = index(i)
                let product = (realValue(read(i)) - zeros[s]) * scales[s]
                values[i] = singleScale ? Double(Float(product)) : product
            }
            return [try tensorFromReals(values, dtype: dtype, shape: x.shape)]
        }
        guard x.dtype.kind == .float else { throw ModelError(.invalidGraph, "QuantizeLinear input must be floating-point, got \(x.dtype)") }
        let dtype = schema.outputType ?? zeroPoint?.dtype ?? .uint8
        if let zeroPoint, zeroPoint.dtype != dtype {
            throw ModelError(.invalidGraph, "y_zero_point is \(zeroPoint.dtype) but the output is \(dtype)")
        }
        let output = try EngineTensor(dtype: dtype, shape: x.shape)
        // The division runs in the scale's precision.
        let singlePrecision = scale.dtype != .double
        switch dtype.kind {
        case .signedInteger, .unsignedInteger:
            guard let bits = dtype.bitsPerElement, bits <= 32 else { throw ModelError(.invalidGraph, "QuantizeLinear cannot produce \(dtype)") }
            let signed = dtype.kind == .signedInteger
            let low = signed ? -Double(1 << (bits - 1)) : 0
            let high = signed ? Double((1 << (bits - 1)) - 1) : Double((1 << bits) - 1)
            var quantized = [Int64](repeating: 0, count: count)
            for i in 0..<count {
                let s = index(i)
                let v = realValue(read(i))
                var q = singlePrecision ? Double(Float(v) / Float(scales[s])) : v / scales[s]
                q = q.rounded(.toNearestOrEven) + zeros[s]
                if q.isNaN { q = 0 }
                quantized[i] = Int64(Swift.min(high, Swift.max(low, q)))
            }
            try castWriter(output, saturate: true, roundMode: .up)({ .signed(quantized[$0]) }, count)
        case .float:
            var values = [Double](repeating: 0, count: count)
            for i in 0..<count {
                let s = index(i)
                let v = realValue(read(i))
                values[i] = (singlePrecision ? Double(Float(v) / Float(scales[s])) : v / scales[s]) + zeros[s]
            }
            try castWriter(output, saturate: saturate, roundMode: .up)({ .real(values[$0]) }, count)
        default:
            throw ModelError(.invalidGraph, "QuantizeLinear cannot produce \(dtype)")
        }
        return [output]
    }

    /// Maps an element of x to the index of its scale.
    func scaleIndex(_ shape: [Int], _ scaleShape: [Int]) throws(ModelError) -> (Int) -> Int {
        let scaleCount = scaleShape.reduce(1, *)
        if scaleShape.isEmpty || (scaleShape.count == 1 && scaleCount == 1 && blockSize == 0) {
            guard scaleCount == 1 else { throw ModelError(.invalidGraph, "scale has no values") }
            return { _ in 0 }
        }
        let rank = shape.count
        guard rank > 0 else { throw ModelError(.invalidGraph, "a scalar input needs a scalar scale") }
        let axis = schema.axis < 0 ? schema.axis + rank : schema.axis
        guard axis >= 0, axis < rank else { throw ModelError(.invalidGraph, "axis \(schema.axis) is out of range for rank \(rank)") }
        let d = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        if blockSize == 0 {
            guard scaleShape.count == 1, scaleShape[0] == d else {
                throw ModelError(.invalidGraph, "per-axis scale must have shape [\(d)], got \(scaleShape)")
            }
            return { i in (i / max(inner, 1)) % max(d, 1) }
        }
        let blocks = (d + blockSize - 1) / blockSize
        var expected = shape
        expected[axis] = blocks
        guard scaleShape == expected else { throw ModelError(.invalidGraph, "blocked scale must have shape \(expected), got \(scaleShape)") }
        let b = blockSize
        return { i in
            let r = i % max(inner, 1), a = (i / max(inner, 1)) % max(d, 1), o = i / max(inner * d, 1)
            return (o * blocks + a / b) * inner + r
        }
    }
}

/// DynamicQuantizeLinear: uint8 quantisation with the scale and zero point
/// taken from the data's range (widened to include 0).
struct DynamicQuantizeKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input x")
        let values = x.floats
        var low: Float = 0, high: Float = 0
        for v in values where !v.isNaN { low = Swift.min(low, v); high = Swift.max(high, v) }
        let scale = (high - low) / 255
        let zero: Float = scale > 0 ? Swift.min(255, Swift.max(0, (0 - low / scale).rounded(.toNearestOrEven))) : 0
        let y = try EngineTensor(dtype: .uint8, shape: x.shape)
        let q = y.elements(UInt8.self)
        for i in 0..<x.count {
            var v = scale > 0 ? (values[i] / scale).rounded(.toNearestOrEven) + zero : zero
            if v.isNaN { v = 0 }
            q[i] = UInt8(Swift.min(255, Swift.max(0, v)))
        }
        let scaleTensor = try EngineTensor(floats: [scale], shape: [])
        let zeroTensor = try EngineTensor(dtype: .uint8, shape: [])
        zeroTensor.elements(UInt8.self)[0] = UInt8(zero)
        return [y, scaleTensor, zeroTensor]
    }
}

// MARK: - NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss

/// NegativeLogLikelihoodLoss over log-probabilities, and
/// SoftmaxCrossEntropyLoss (a log-softmax over axis 1 first), for scores
/// [N, C, d1, …] and class labels [N, d1, …].
struct LossKernel: Kernel {
    let softmax: Bool
    let reduction: String
    let ignoreIndex: Int?
    let outputCount: Int

    init(_ schema: ClassificationLoss, _ setup: KernelSetup) throws(ModelError) {
        softmax = schema.op == "SoftmaxCrossEntropyLoss"
        reduction = schema.reduction
        ignoreIndex = try AttributeReader(setup.node).int("ignore_index")
        outputCount = max(1, setup.node.outputs.count)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let scores = try requiredInput(inputs, 0, "scores")
        let labels = try requiredInput(inputs, 1, "labels")
        let weight = optionalInput(inputs, 2)
        guard scores.dtype.kind == .float else { throw ModelError(.invalidGraph, "scores must be floating-point, got \(scores.dtype)") }
        guard scores.shape.count >= 2 else { throw ModelError(.invalidGraph, "scores must have rank 2 or more, got \(scores.shape)") }
        let n = scores.shape[0], c = scores.shape[1]
        let spatial = Array(scores.shape.dropFirst(2))
        let d = spatial.reduce(1, *)
        guard labels.shape == [n] + spatial else {
            throw ModelError(.invalidGraph, "labels have shape \(labels.shape); scores \(scores.shape) need \([n] + spatial)")
        }
        let targets = try integerValues(labels, "labels")
        var weights: [Double]?
        if let weight {
            guard weight.shape == [c] else { throw ModelError(.invalidGraph, "weights must have shape [\(c)], got \(weight.shape)") }
            weights = try realValues(weight)
        }
        var x = try realValues(scores)
        if softmax {
            for image in 0..<n {
                for p in 0..<d {
                    let base = image * c * d + p
                    var top = -Double.infinity
                    for k in 0..<c { top = Swift.max(top, x[base + k * d]) }
                    var sum = 0.0
                    for k in 0..<c { sum += Glibc.exp(x[base + k * d] - top) }
                    let shift = top + Glibc.log(sum)
                    for k in 0..<c { x[base + k * d] -= shift }
                }
            }
        }
        var losses = [Double](repeating: 0, count: n * d)
        var total = 0.0, weightTotal = 0.0
        for image in 0..<n {
            for p in 0..<d {
                let t = targets[image * d + p]
                if let ignoreIndex, t == ignoreIndex { continue }
                guard t >= 0, t < c else { throw ModelError(.invalidGraph, "class label \(t) is outside 0..<\(c)") }
                let w = weights?[t] ?? 1
                let loss = -x[(image * c + t) * d + p] * w
                losses[image * d + p] = loss
                total += loss
                weightTotal += w
            }
        }
        let loss: EngineTensor
        switch reduction {
        case "none": loss = try tensorFromReals(losses, dtype: scores.dtype, shape: labels.shape)
        case "sum": loss = try tensorFromReals([total], dtype: scores.dtype, shape: [])
        default: loss = try tensorFromReals([total / weightTotal], dtype: scores.dtype, shape: [])
        }
        if softmax && outputCount > 1 {
            return [loss, try tensorFromReals(x, dtype: scores.dtype, shape: scores.shape)]
        }
        return [loss]
    }
}

// MARK: - ConvTranspose

/// ConvTranspose over any number of spatial axes, float32: per image and
/// group, columns = Wᵀ·X by GEMM, then the columns are scattered into the
/// output (col2im) and the bias added.
struct ConvTransposeKernel: Kernel {
    let group: Int
    let kernelShape: [Int]?
    let strides: [Int]?
    let dilations: [Int]?
    let pads: [Int]?
    let outputPadding: [Int]?
    let outputShape: [Int]?
    let autoPad: String

    init(_ setup: KernelSetup) throws(ModelError) {
        let reader = AttributeReader(setup.node)
        group = try reader.int("group", default: 1)
        kernelShape = try reader.ints("kernel_shape")
        strides = try reader.ints("strides")
        dilations = try reader.ints("dilations")
        pads = try reader.ints("pads")
        outputPadding = try reader.ints("output_padding")
        outputShape = try reader.ints("output_shape")
        autoPad = try reader.string("auto_pad", default: "NOTSET")
        guard group > 0 else { throw ModelError(.invalidGraph, "group must be positive") }
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
            throw ModelError(.invalidGraph, "unknown auto_pad '\(autoPad)'")
        }
    }

    /// Checks a per-axis attribute: `count` values in `range`, or `fallback` when absent.
    private func list(_ values: [Int]?, _ name: String, count: Int, fallback: Int, _ valid: (Int) -> Bool) throws(ModelError) -> [Int] {
        guard let values else { return Array(repeating: fallback, count: count) }
        guard values.count == count, values.allSatisfy({ valid($0) && abs($0) < 1 << 30 }) else {
            throw ModelError(.invalidGraph, "\(name) \(values) does not fit \(count) values")
        }
        return values
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X"), w = try floatInput(inputs, 1, "weight W")
        let rank = x.shape.count - 2
        guard rank >= 1, w.shape.count == x.shape.count else {
            throw ModelError(.invalidGraph, "ConvTranspose needs input and weight of equal rank ≥ 3, got \(x.shape) and \(w.shape)")
        }
        let n = x.shape[0], c = x.shape[1]
        guard w.shape[0] == c, c % group == 0 else {
            throw ModelError(.invalidGraph, "weight \(w.shape) does not fit \(c) input channels in \(group) groups")
        }
        let mg = w.shape[1], m = mg * group, cg = c / group
        let kernel = Array(w.shape.dropFirst(2))
        if let kernelShape, kernelShape != kernel {
            throw ModelError(.invalidGraph, "kernel_shape \(kernelShape) differs from the weight's \(kernel)")
        }
        let inSize = Array(x.shape.dropFirst(2))
        guard inSize.allSatisfy({ $0 < 1 << 30 }), kernel.allSatisfy({ $0 < 1 << 30 }) else {
            throw ModelError(.invalidGraph, "ConvTranspose sizes are too large")
        }
        let stride = try list(strides, "strides", count: rank, fallback: 1) { $0 > 0 }
        let dilation = try list(dilations, "dilations", count: rank, fallback: 1) { $0 > 0 }
        let extraPad = try list(outputPadding, "output_padding", count: rank, fallback: 0) { $0 >= 0 }
        var explicitPads = try list(pads, "pads", count: 2 * rank, fallback: 0) { $0 >= 0 }
        // Half of a total padding, rounded down (a requested output larger than the full one pads at the end).
        func half(_ total: Int) -> Int { total >= 0 ? total / 2 : -((-total + 1) / 2) }
        var outSize = [Int](repeating: 0, count: rank)
        var begin = [Int](repeating: 0, count: rank)
        for i in 0..<rank {
            let full = stride[i] * (inSize[i] - 1) + extraPad[i] + (kernel[i] - 1) * dilation[i] + 1
            if let outputShape, outputShape.count >= rank {
                let size = outputShape[outputShape.count - rank + i]
                let total = full - size
                outSize[i] = size
                begin[i] = autoPad == "SAME_UPPER" ? half(total) : total - half(total)
            } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                let size = inSize[i] * stride[i]
                let total = full - size
                outSize[i] = size
                begin[i] = autoPad == "SAME_UPPER" ? half(total) : total - half(total)
            } else {
                if autoPad == "VALID" { explicitPads[i] = 0; explicitPads[i + rank] = 0 }
                begin[i] = explicitPads[i]
                outSize[i] = full - explicitPads[i] - explicitPads[i + rank]
            }
            guard outSize[i] > 0, outSize[i] < 1 << 30 else { throw ModelError(.invalidGraph, "ConvTranspose output would be empty or too large") }
        }
        let output = try EngineTensor(dtype: .float, shape: [n, m] + outSize)
        let plane = outSize.reduce(1, *), pixels = inSize.reduce(1, *), kk = kernel.reduce(1, *)
        let y = output.floats
        if let bias = optionalInput(inputs, 2) {
            guard bias.dtype == .float, bias.count == m else { throw ModelError(.invalidGraph, "bias must be \(m) float32 values") }
            let b = bias.floats
            for image in 0..<n { for ch in 0..<m { (y.baseAddress! + (image * m + ch) * plane).update(repeating: b[ch], count: plane) } }
        } else {
            y.update(repeating: 0)
        }
        guard pixels > 0, kk > 0, cg > 0, mg > 0 else { return [output] }
        let rows = mg * kk
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels)
        defer { columns.deallocate() }
        // Output coordinate along each axis for each kernel tap and input position, or -1 outside.
        var target: [[Int]] = []
        for a in 0..<rank {
            var table = [Int](repeating: -1, count: kernel[a] * inSize[a])
            for k in 0..<kernel[a] {
                for i in 0..<inSize[a] {
                    let o = i * stride[a] - begin[a] + k * dilation[a]
                    if o >= 0 && o < outSize[a] { table[k * inSize[a] + i] = o }
                }
            }
            target.append(table)
        }
        let xBase = x.floats.baseAddress!, wBase = w.floats.baseAddress!, yBase = y.baseAddress!
        let colBase = UnsafeSendable(columns)
        let targets = target, inner = inSize[rank - 1], outer = pixels / inner
        for image in 0..<n {
            for g in 0..<group {
                let source = xBase + (image * c + g * cg) * pixels
                let weights = wBase + g * cg * rows
                context.parallelRanges(pixels, grain: 64) { range in
                    ck_sgemm(1, 0, rows, range.count, cg, 1, weights, rows, source + range.lowerBound, pixels,
                             0, colBase.value + range.lowerBound, pixels)
                }
                context.parallelRanges(mg) { channels in
                    var kc = [Int](repeating: 0, count: rank), ic = [Int](repeating: 0, count: rank)
                    for channel in channels {
                        let out = yBase + (image * m + g * mg + channel) * plane
                        for tap in 0..<kk {
                            var rest = tap
                            for a in Swift.stride(from: rank - 1, through: 0, by: -1) { kc[a] = rest % kernel[a]; rest /= kernel[a] }
                            let col = colBase.value + (channel * kk + tap) * pixels
                            let last = targets[rank - 1], lastOffset = kc[rank - 1] * inner
                            for o in 0..<outer {
                                // Coordinates of the outer axes of input position o.
                                var rest = o, offset = 0, valid = true
                                for a in Swift.stride(from: rank - 2, through: 0, by: -1) { ic[a] = rest % inSize[a]; rest /= inSize[a] }
                                for a in 0..<(rank - 1) {
                                    let t = targets[a][kc[a] * inSize[a] + ic[a]]
                                    if t < 0 { valid = false; break }
                                    offset = offset * outSize[a] + t
                                }
                                if !valid { continue }
                                offset *= outSize[rank - 1]
                                let row = col + o * inner
                                for i in 0..<inner {
                                    let t = last[lastOffset + i]
                                    if t >= 0 { out[offset + t] += row[i] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [output]
    }
}

// MARK: - Einsum

/// Einsum by direct summation over every index, in float64 (integers exactly
/// up to 2^53), for any numeric type; repeated indices take diagonals and an
/// ellipsis broadcasts.
struct EinsumKernel: Kernel {
    /// Index letters of each operand; `nil` marks the ellipsis.
    let terms: [[Character?]]
    let output: [Character?]?

    init(_ setup: KernelSetup) throws(ModelError) {
        let equation = try AttributeReader(setup.node).string("equation", default: "").filter { !$0.isWhitespace }
        let sides = equation.components(separatedBy: "->")
        guard !equation.isEmpty, sides.count <= 2 else { throw ModelError(.invalidGraph, "invalid einsum equation '\(equation)'") }
        var parsed: [[Character?]] = []
        for term in sides[0].components(separatedBy: ",") { parsed.append(try Self.parse(term)) }
        terms = parsed
        output = sides.count == 2 ? try Self.parse(sides[1]) : nil
    }

    static func parse(_ term: String) throws(ModelError) -> [Character?] {
        let text = term.replacing("...", with: ".")
        guard text.allSatisfy({ ($0.isASCII && $0.isLetter) || $0 == "." }), text.filter({ $0 == "." }).count <= 1 else {
            throw ModelError(.invalidGraph, "invalid einsum term '\(term)'")
        }
        return text.map { $0 == "." ? nil : $0 }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        guard inputs.count == terms.count else { throw ModelError(.invalidGraph, "the equation names \(terms.count) operands, the node has \(inputs.count)") }
        var operands: [EngineTensor] = []
        for i in 0..<inputs.count { operands.append(try requiredInput(inputs, i, "operand \(i)")) }
        let dtype = operands[0].dtype
        guard [.float, .signedInteger, .unsignedInteger].contains(dtype.kind) else {
            throw ModelError(.invalidGraph, "Einsum runs numeric tensors, got \(dtype)")
        }
        guard operands.allSatisfy({ $0.dtype == dtype }) else { throw ModelError(.invalidGraph, "Einsum operands must share one type") }
        // Labels: letters by their scalar value, ellipsis dims as −1 − (position from the right).
        var ellipsisRank = 0
        for (term, tensor) in zip(terms, operands) {
            let named = term.filter { $0 != nil }.count
            guard term.contains(where: { $0 == nil }) ? tensor.shape.count >= named : tensor.shape.count == named else {
                throw ModelError(.invalidGraph, "operand of shape \(tensor.shape) does not match its einsum term")
            }
            ellipsisRank = max(ellipsisRank, tensor.shape.count - named)
        }
        var sizes: [Int: Int] = [:]
        var labelsOf: [[Int]] = []
        var counts: [Int: Int] = [:]
        for (term, tensor) in zip(terms, operands) {
            var labels: [Int] = []
            let span = tensor.shape.count - term.filter { $0 != nil }.count
            for entry in term {
                if let letter = entry {
                    labels.append(Int(letter.unicodeScalars.first!.value))
                } else {
                    for j in 0..<span { labels.append(-1 - (span - 1 - j)) }
                }
            }
            for (label, size) in zip(labels, tensor.shape) {
                if let known = sizes[label], known != size {
                    guard known == 1 || size == 1 else { throw ModelError(.invalidGraph, "einsum index has sizes \(known) and \(size)") }
                    sizes[label] = max(known, size)
                } else if sizes[label] == nil {
                    sizes[label] = size
                }
                if label >= 0 { counts[label, default: 0] += 1 }
            }
            labelsOf.append(labels)
        }
        var outLabels: [Int] = (0..<ellipsisRank).map { -1 - (ellipsisRank - 1 - $0) }
        if let output {
            outLabels = []
            for entry in output {
                if let letter = entry {
                    let label = Int(letter.unicodeScalars.first!.value)
                    guard sizes[label] != nil, !outLabels.contains(label) else { throw ModelError(.invalidGraph, "invalid einsum output index '\(letter)'") }
                    outLabels.append(label)
                } else {
                    outLabels += (0..<ellipsisRank).map { -1 - (ellipsisRank - 1 - $0) }
                }
            }
        } else {
            outLabels += counts.filter { $0.value == 1 }.keys.sorted()
        }
        let summed = sizes.keys.filter { !outLabels.contains($0) }.sorted()
        let all = outLabels + summed
        let extents = all.map { sizes[$0]! }
        let outShape = outLabels.map { sizes[$0]! }
        // Bounded products: the direct kernel visits every output element once per summed combination.
        func product(_ values: [Int]) -> Int? {
            var result = 1
            for v in values {
                let (next, overflow) = result.multipliedReportingOverflow(by: v)
                guard !overflow, next < 1 << 40 else { return nil }
                result = next
            }
            return result
        }
        guard let outCount = product(outShape), let sumCount = product(summed.map { sizes[$0]! }),
              let _ = product([outCount, sumCount]) else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "Einsum is too large for the direct kernel")
        }
        // Stride of each label in each operand (repeated labels add: a diagonal; size-1 dims broadcast).
        var strides: [[Int]] = []
        var values: [[Double]] = []
        for (labels, tensor) in zip(labelsOf, operands) {
            var perLabel = [Int](repeating: 0, count: all.count)
            var step = 1
            for axis in stride(from: labels.count - 1, through: 0, by: -1) {
                if tensor.shape[axis] != 1, let position = all.firstIndex(of: labels[axis]) { perLabel[position] += step }
                step *= tensor.shape[axis]
            }
            strides.append(perLabel)
            values.append(try realValues(tensor))
        }
        var result = [Double](repeating: 0, count: outCount)
        var index = [Int](repeating: 0, count: all.count)
        var offsets = [Int](repeating: 0, count: operands.count)
        let total = outCount * sumCount
        if total > 0 {
            for flat in 0..<total {
                var product = 1.0
                for k in 0..<operands.count { product *= values[k][offsets[k]] }
                result[flat / sumCount] += product
                // Advance the odometer.
                var axis = all.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    for k in 0..<operands.count { offsets[k] += strides[k][axis] }
                    if index[axis] < extents[axis] { break }
                    for k in 0..<operands.count { offsets[k] -= strides[k][axis] * extents[axis] }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return [try tensorFromReals(result, dtype: dtype, shape: outShape)]
    }
}

// MARK: - The schemas' kernels

extension Quantize: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try QuantizeKernel(self, setup) }
}

extension DynamicQuantize: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { DynamicQuantizeKernel() }
}

extension ClassificationLoss: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try LossKernel(self, setup) }
}

extension ConvTranspose: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ConvTransposeKernel(setup) }
}

extension Einsum: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try EinsumKernel(setup) }
}
