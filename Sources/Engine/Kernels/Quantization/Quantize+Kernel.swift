internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

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
        blockSize = schema.blockSize
        saturate = schema.saturate
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
            if dtype == .float, scale.dtype == .float, x.dtype == .int8 || x.dtype == .uint8 {
                // The common int8 and uint8 model: straight into float32, as below.
                let target = try EngineTensor(dtype: .float, shape: x.shape)
                let y = target.floats
                if x.dtype == .int8 {
                    let q = x.elements(Int8.self)
                    for i in 0..<count { let s = index(i); y[i] = Float((Double(q[i]) - zeros[s]) * scales[s]) }
                } else {
                    let q = x.elements(UInt8.self)
                    for i in 0..<count { let s = index(i); y[i] = Float((Double(q[i]) - zeros[s]) * scales[s]) }
                }
                return [target]
            }
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
            if x.dtype == .float, singlePrecision, dtype == .int8 || dtype == .uint8 {
                // The common float32 to int8 or uint8 model: straight into the output, as below.
                let v = x.floats
                func level(_ i: Int) -> Double {
                    let s = index(i)
                    let q = Double(v[i] / Float(scales[s])).rounded(.toNearestOrEven) + zeros[s]
                    return q.isNaN ? 0 : Swift.min(high, Swift.max(low, q))
                }
                if dtype == .int8 {
                    let y = output.elements(Int8.self)
                    for i in 0..<count { y[i] = Int8(level(i)) }
                } else {
                    let y = output.elements(UInt8.self)
                    for i in 0..<count { y[i] = UInt8(level(i)) }
                }
                return [output]
            }
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

// MARK: - The schemas' kernels

extension Quantize: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try QuantizeKernel(self, setup) }
}

extension DynamicQuantize: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { DynamicQuantizeKernel() }
}
