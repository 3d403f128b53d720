internal import CKernels
import Foundation
import ModelCore

/// Kernels beyond the common inference path: linear (de)quantisation, the
/// classification losses of training graphs, ConvTranspose and Einsum.
enum ExtraKernels {
    static let registrations: [String: KernelFactory] = [
        "QuantizeLinear": { setup throws(ModelError) in try QuantizeKernel(setup) },
        "DequantizeLinear": { setup throws(ModelError) in try QuantizeKernel(setup) },
        "NegativeLogLikelihoodLoss": { setup throws(ModelError) in try LossKernel(setup) },
        "SoftmaxCrossEntropyLoss": { setup throws(ModelError) in try LossKernel(setup) },
    ]
}

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
        throw ModelError("\(what) must be an integer tensor, got \(tensor.dtype)")
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
    guard output.count == values.count else { throw ModelError("internal: \(values.count) values for shape \(shape)") }
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

    init(_ setup: KernelSetup) throws(ModelError) {
        schema = try setup.schema(as: Quantize.self)
        let reader = AttributeReader(setup.node)
        blockSize = try reader.int("block_size", default: 0)
        saturate = try reader.int("saturate", default: 1) != 0
        guard blockSize >= 0 else { throw ModelError("block_size must not be negative") }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input x")
        let scale = try requiredInput(inputs, 1, schema.dequantize ? "x_scale" : "y_scale")
        let zeroPoint = optionalInput(inputs, 2)
        guard scale.dtype.kind == .float else { throw ModelError("scale must be a floating-point tensor, got \(scale.dtype)") }
        if let zeroPoint, zeroPoint.shape != scale.shape, !(zeroPoint.count == 1 && scale.count == 1) {
            throw ModelError("zero point shape \(zeroPoint.shape) differs from scale shape \(scale.shape)")
        }
        let index = try scaleIndex(x.shape, scale.shape)
        let scales = try realValues(scale)
        let zeros = try zeroPoint.map { z throws(ModelError) in try realValues(z) } ?? [Double](repeating: 0, count: scales.count)
        guard zeros.count == scales.count else { throw ModelError("zero point has \(zeros.count) values for \(scales.count) scales") }
        let read = try castReader(x)
        let count = x.count
        if schema.dequantize {
            if let zeroPoint, zeroPoint.dtype != x.dtype {
                throw ModelError("x_zero_point is \(zeroPoint.dtype) but x is \(x.dtype)")
            }
            let dtype = schema.outputType ?? scale.dtype
            guard dtype.kind == .float else { throw ModelError("DequantizeLinear cannot produce \(dtype)") }
            var values = [Double](repeating: 0, count: count)
            let singleScale = scale.dtype == .float
            for i in 0..<count {
                let s = index(i)
                let product = (realValue(read(i)) - zeros[s]) * scales[s]
                values[i] = singleScale ? Double(Float(product)) : product
            }
            return [try tensorFromReals(values, dtype: dtype, shape: x.shape)]
        }
        guard x.dtype.kind == .float else { throw ModelError("QuantizeLinear input must be floating-point, got \(x.dtype)") }
        let dtype = schema.outputType ?? zeroPoint?.dtype ?? .uint8
        if let zeroPoint, zeroPoint.dtype != dtype {
            throw ModelError("y_zero_point is \(zeroPoint.dtype) but the output is \(dtype)")
        }
        let output = try EngineTensor(dtype: dtype, shape: x.shape)
        // The division runs in the scale's precision.
        let singlePrecision = scale.dtype != .double
        switch dtype.kind {
        case .signedInteger, .unsignedInteger:
            guard let bits = dtype.bitsPerElement, bits <= 32 else { throw ModelError("QuantizeLinear cannot produce \(dtype)") }
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
            throw ModelError("QuantizeLinear cannot produce \(dtype)")
        }
        return [output]
    }

    /// Maps an element of x to the index of its scale.
    func scaleIndex(_ shape: [Int], _ scaleShape: [Int]) throws(ModelError) -> (Int) -> Int {
        let scaleCount = scaleShape.reduce(1, *)
        if scaleShape.count <= 1 && scaleCount == 1 && blockSize == 0 { return { _ in 0 } }
        let rank = shape.count
        guard rank > 0 else { throw ModelError("a scalar input needs a scalar scale") }
        let axis = schema.axis < 0 ? schema.axis + rank : schema.axis
        guard axis >= 0, axis < rank else { throw ModelError("axis \(schema.axis) is out of range for rank \(rank)") }
        let d = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        if blockSize == 0 {
            guard scaleShape.count == 1, scaleShape[0] == d else {
                throw ModelError("per-axis scale must have shape [\(d)], got \(scaleShape)")
            }
            return { i in (i / max(inner, 1)) % max(d, 1) }
        }
        let blocks = (d + blockSize - 1) / blockSize
        var expected = shape
        expected[axis] = blocks
        guard scaleShape == expected else { throw ModelError("blocked scale must have shape \(expected), got \(scaleShape)") }
        let b = blockSize
        return { i in
            let r = i % max(inner, 1), a = (i / max(inner, 1)) % max(d, 1), o = i / max(inner * d, 1)
            return (o * blocks + a / b) * inner + r
        }
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

    init(_ setup: KernelSetup) throws(ModelError) {
        let schema = try setup.schema(as: ClassificationLoss.self)
        softmax = schema.op == "SoftmaxCrossEntropyLoss"
        reduction = schema.reduction
        ignoreIndex = try AttributeReader(setup.node).int("ignore_index")
        outputCount = max(1, setup.node.outputs.count)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let scores = try requiredInput(inputs, 0, "scores")
        let labels = try requiredInput(inputs, 1, "labels")
        let weight = optionalInput(inputs, 2)
        guard scores.dtype.kind == .float else { throw ModelError("scores must be floating-point, got \(scores.dtype)") }
        guard scores.shape.count >= 2 else { throw ModelError("scores must have rank 2 or more, got \(scores.shape)") }
        let n = scores.shape[0], c = scores.shape[1]
        let spatial = Array(scores.shape.dropFirst(2))
        let d = spatial.reduce(1, *)
        guard labels.shape == [n] + spatial else {
            throw ModelError("labels have shape \(labels.shape); scores \(scores.shape) need \([n] + spatial)")
        }
        let targets = try integerValues(labels, "labels")
        var weights: [Double]?
        if let weight {
            guard weight.shape == [c] else { throw ModelError("weights must have shape [\(c)], got \(weight.shape)") }
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
                    for k in 0..<c { sum += Foundation.exp(x[base + k * d] - top) }
                    let shift = top + Foundation.log(sum)
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
                guard t >= 0, t < c else { throw ModelError("class label \(t) is outside 0..<\(c)") }
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
