/// `QuantizeLinear` and `DequantizeLinear`: y = saturate(x / scale + zero point) and y = (x − zero point) · scale.
///
/// 2 FLOPs per element. The quantised type is `output_dtype`, else the zero
/// point's type, else uint8; the dequantised type is `output_dtype`, else the scale's.
public struct Quantize: OpSchema {
    /// `DequantizeLinear` rather than `QuantizeLinear`.
    public let dequantize: Bool
    /// The per-axis or blocked quantisation axis (default 1).
    public let axis: Int
    /// `output_dtype`, when set.
    public let outputType: DType?
    /// Elements per scale along `axis` for blocked quantization; 0 for per-axis or per-tensor.
    public let blockSize: Int
    /// Whether float8 targets clamp to their range (`saturate`).
    public let saturate: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        dequantize = node.opType == "DequantizeLinear"
        axis = try reader.int("axis", default: 1)
        blockSize = try reader.int("block_size", default: 0)
        guard blockSize >= 0 else { throw reader.error("block_size must not be negative, got \(blockSize)") }
        saturate = try reader.int("saturate", default: 1) != 0
        outputType = try Miscellaneous.dtype("output_dtype", default: nil, reader)
        try reader.expectInputs(2...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0], scale = inputs[input: 1]
        // The axis matters only for per-axis and blocked scales.
        if let rank = x?.shape?.rank, let scaleRank = scale?.shape?.rank, scaleRank > 0, rank > 0 {
            _ = try reader.axis(axis, rank: rank)
        }
        let zeroPoint = inputs[input: 2]
        let dtype = outputType ?? (dequantize ? scale?.dtype : zeroPoint == nil ? .uint8 : zeroPoint?.dtype)
        return [ValueFact(dtype: dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: 2)
    }

    /// Scales and zero points are quantisation constants, not learned weights.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `DynamicQuantizeLinear`: uint8 quantisation with a scale and zero point computed from the data's range.
///
/// 4 FLOPs per element: the minimum and maximum, then the division and the
/// zero-point addition.
public struct DynamicQuantize: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let scalar = Shape([Dim]())
        return [ValueFact(dtype: .uint8, shape: inputs[input: 0]?.shape),
                ValueFact(dtype: .float, shape: scalar), ValueFact(dtype: .uint8, shape: scalar)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 4)
    }
}
