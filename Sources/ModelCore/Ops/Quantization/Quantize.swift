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

    /// A stored tensor that DequantizeLinear expands is a quantised weight
    /// (int8, int4, or an int32 bias in QDQ models): its elements are the
    /// float original's parameters.
    public func learnedValues(stored: [Tensor?]) -> [LearnedValues?] {
        dequantize ? LearnedValues.quantizedOperands(stored, [0: [1, 2]]) : LearnedValues.defaultValues(self, stored)
    }
}

extension LearnedValues {
    /// The learned values of quantised operators' inputs: `operands` maps the
    /// position of each operand that may be a stored weight to the positions
    /// of its scale and zero point. A stored operand counts every element,
    /// whatever its type; its stored scale and zero point add their bytes.
    static func quantizedOperands(_ stored: [Tensor?], _ operands: [Int: [Int]]) -> [LearnedValues?] {
        var values = [LearnedValues?](repeating: nil, count: stored.count)
        for (operand, constants) in operands where operand < stored.count {
            guard let weight = stored[operand] else { continue }
            values[operand] = LearnedValues(quantized: weight)
            for index in constants where index < stored.count {
                values[index] = stored[index].map(LearnedValues.init(quantizationConstant:))
            }
        }
        return values
    }

    /// What `OpSchema`'s default would say, for a schema that overrides it only in some forms.
    static func defaultValues(_ schema: some OpSchema, _ stored: [Tensor?]) -> [LearnedValues?] {
        stored.enumerated().map { index, tensor in
            schema.holdsParameters(input: index) ? tensor.flatMap(LearnedValues.init(floatingPoint:)) : nil
        }
    }
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
