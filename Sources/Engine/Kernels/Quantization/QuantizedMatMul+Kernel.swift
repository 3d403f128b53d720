import ModelCore

// MARK: - Quantised operands, shared with QuantizedConv

/// The integer operands of MatMulInteger, QLinearMatMul, ConvInteger and
/// QLinearConv, made ready for the float32 MatMul and Conv kernels: each
/// operand less its zero point, as float32. The float32 GEMM then sums
/// integer products exactly while a sum stays below 2^24 in magnitude, and
/// rounds to float32 beyond; onnxruntime accumulates in int32.
enum QuantizedOperands {
    /// The elements of the int8 or uint8 tensor `q` less their zero point.
    /// `zeroPoint` holds one value, or one per group: element `i` belongs to
    /// group `(i / inner) % groups` (a row, a column or an output channel).
    static func centred(_ q: EngineTensor, zeroPoint: EngineTensor?, inner: Int, _ what: String) throws(ModelError) -> EngineTensor {
        let values = try integers(q, what)
        let zeros = try zeroPoint.map { z throws(ModelError) -> [Float] in
            guard z.dtype == q.dtype else { throw ModelError(.invalidGraph, "the zero point of \(what) is \(z.dtype) but \(what) is \(q.dtype)") }
            return try integers(z, "the zero point of \(what)")
        } ?? [0]
        guard !zeros.isEmpty else { throw ModelError(.invalidGraph, "the zero point of \(what) is empty") }
        let output = try EngineTensor(dtype: .float, shape: q.shape)
        let target = output.floats, groups = zeros.count, step = max(inner, 1)
        if groups == 1 {
            for i in 0..<values.count { target[i] = values[i] - zeros[0] }
        } else {
            for i in 0..<values.count { target[i] = values[i] - zeros[(i / step) % groups] }
        }
        return output
    }

    /// The elements of an int8 or uint8 tensor as float32 (exact).
    static func integers(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> [Float] {
        switch tensor.dtype {
        case .int8: return tensor.elements(Int8.self).map { Float($0) }
        case .uint8: return tensor.elements(UInt8.self).map { Float($0) }
        default: throw ModelError(.unsupported(op: nil, dtype: tensor.dtype), "\(what) is \(tensor.dtype); the engine runs quantised products on int8 and uint8")
        }
    }

    /// The values of a float scale tensor as float32, checked to hold one or `groups` values.
    static func scales(_ tensor: EngineTensor, groups: Int, _ what: String) throws(ModelError) -> [Float] {
        guard tensor.dtype.kind == .float else { throw ModelError(.invalidGraph, "\(what) must be floating-point, got \(tensor.dtype)") }
        guard tensor.count == 1 || tensor.count == groups else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "\(what) holds \(tensor.count) values; the engine takes one, or one per \(groups) rows, columns or channels")
        }
        return try realValues(tensor).map { Float($0) }
    }

    /// A zero point's group count checked as `scales` checks a scale's.
    static func checkGroups(_ zeroPoint: EngineTensor?, _ allowed: [Int], _ what: String) throws(ModelError) {
        guard let zeroPoint, zeroPoint.count != 1 else { return }
        guard allowed.contains(zeroPoint.count) else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "the zero point of \(what) holds \(zeroPoint.count) values; the engine takes one, or one per row, column or channel")
        }
    }

    /// The integer MatMul of `a` and `b` less their zero points (A's per
    /// tensor or per row, B's per tensor or per column), as float32 sums.
    static func product(_ a: EngineTensor, zeroPoint aZero: EngineTensor?, _ b: EngineTensor, zeroPoint bZero: EngineTensor?,
                        _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw ModelError(.invalidGraph, "MatMul inputs must have rank 1 or more") }
        let k = a.shape[a.shape.count - 1], rows = a.shape.count > 1 ? a.shape[a.shape.count - 2] : 1
        let columns = b.shape.count > 1 ? b.shape[b.shape.count - 1] : 1
        try checkGroups(aZero, [rows, a.count / max(k, 1)], "A")
        try checkGroups(bZero, [columns], "B")
        let left = try centred(a, zeroPoint: aZero, inner: k, "A")
        let right = try centred(b, zeroPoint: bZero, inner: 1, "B")
        return try batchedProduct(left, right, context)
    }

    /// The float32 sums as int32 (ConvInteger, MatMulInteger).
    static func int32(_ sums: EngineTensor) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: .int32, shape: sums.shape)
        let (source, target) = (sums.floats, output.elements(Int32.self))
        for i in 0..<sums.count {
            let v = source[i].rounded(.toNearestOrEven)
            // 2^31 is the first float32 past Int32.max (2^31 − 1 is not a float32).
            target[i] = v.isNaN ? 0 : v >= 2_147_483_648 ? .max : v <= -2_147_483_648 ? .min : Int32(v)
        }
        return output
    }

    /// QLinear's requantisation: round(sum · multiplier(i)) + zero point,
    /// saturated to the int8 or uint8 output, with ties to even as ONNX asks.
    static func requantize(_ sums: EngineTensor, multiplier: (Int) -> Float, zeroPoint: EngineTensor) throws(ModelError) -> EngineTensor {
        guard zeroPoint.count == 1 else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "the output zero point holds \(zeroPoint.count) values; the engine takes one")
        }
        let zero = try integers(zeroPoint, "the output zero point")[0]
        let (low, high): (Float, Float) = zeroPoint.dtype == .int8 ? (-128, 127) : (0, 255)
        let output = try EngineTensor(dtype: zeroPoint.dtype, shape: sums.shape)
        let source = sums.floats
        func level(_ i: Int) -> Float {
            let q = (source[i] * multiplier(i)).rounded(.toNearestOrEven) + zero
            return q.isNaN ? zero : Swift.min(high, Swift.max(low, q))
        }
        if zeroPoint.dtype == .int8 {
            let target = output.elements(Int8.self)
            for i in 0..<sums.count { target[i] = Int8(level(i)) }
        } else {
            let target = output.elements(UInt8.self)
            for i in 0..<sums.count { target[i] = UInt8(level(i)) }
        }
        return output
    }
}

// MARK: - MatMulInteger and QLinearMatMul

/// MatMulInteger (int32 output) and QLinearMatMul (requantised to the output
/// zero point's type): A per tensor or per row, B per tensor or per column.
struct QuantizedMatMulKernel: Kernel {
    let requantized: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let (aIndex, bIndex) = requantized ? (0, 3) : (0, 1)
        let a = try requiredInput(inputs, aIndex, "input A"), b = try requiredInput(inputs, bIndex, "input B")
        let sums = try QuantizedOperands.product(a, zeroPoint: optionalInput(inputs, 2), b, zeroPoint: optionalInput(inputs, requantized ? 5 : 3), context)
        guard requantized else { return [try QuantizedOperands.int32(sums)] }
        let rows = a.shape.count > 1 ? a.shape[a.shape.count - 2] : 1, columns = b.shape.count > 1 ? b.shape[b.shape.count - 1] : 1
        let aScale = try QuantizedOperands.scales(try requiredInput(inputs, 1, "a_scale"), groups: rows, "a_scale")
        let bScale = try QuantizedOperands.scales(try requiredInput(inputs, 4, "b_scale"), groups: columns, "b_scale")
        let yScale = try QuantizedOperands.scales(try requiredInput(inputs, 6, "y_scale"), groups: 1, "y_scale")[0]
        let yZero = try requiredInput(inputs, 7, "y_zero_point")
        let n = sums.shape.last ?? 1, m = b.shape.count > 1 && a.shape.count > 1 ? rows : 1
        return [try QuantizedOperands.requantize(sums, multiplier: { i in
            aScale[aScale.count == 1 ? 0 : (i / max(n, 1)) % max(m, 1)] * bScale[bScale.count == 1 ? 0 : i % max(n, 1)] / yScale
        }, zeroPoint: yZero)]
    }
}

extension QuantizedMatMul: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { QuantizedMatMulKernel(requantized: requantized) }
}
