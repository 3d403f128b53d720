/// `Cast` and `CastLike`: a type conversion; not counted as arithmetic.
public struct Cast: OpSchema {
    /// The target type; for CastLike it comes from the second input.
    public let target: DType?
    /// Whether out-of-range values saturate when cast to float8 (`saturate`, default 1).
    public let saturate: Bool
    /// How float8 E8M0 rounds: `up`, `down` or `nearest` (`round_mode`).
    public let roundMode: String

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        saturate = try reader.int("saturate", default: 1) != 0
        roundMode = try reader.string("round_mode", default: "up")
        if node.opType == "Cast" {
            try reader.expectInputs(1...1)
            guard let to = try reader.int("to"), let code = Int32(exactly: to) else { throw reader.error("Cast needs a 'to' type") }
            target = DType(rawValue: code)
        } else {
            try reader.expectInputs(2...2)
            target = nil
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        guard let dtype = target ?? inputs[input: 1]?.dtype else { return [ValueFact(dtype: nil, shape: x.shape)] }
        var fact = ValueFact(dtype: dtype, shape: x.shape)
        if let value = x.value {
            switch dtype.kind {
            case .signedInteger?, .unsignedInteger?:
                fact.value = KnownValue(dims: value.dims, elements: .integers(value.integers))
            case .bool?:
                fact.value = KnownValue(dims: value.dims, elements: .integers(value.reals.map { .known($0 != 0 ? 1 : 0) }))
            case .float?:
                fact.value = KnownValue(dims: value.dims, elements: .reals(value.reals))
            default:
                break
            }
        }
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        outputs.first?.elementCount == nil ? nil : .zero
    }
}

/// `BitCast` (opset 26): reinterprets each element's bits as another type of the same width.
///
/// Zero FLOPs.
public struct BitCast: OpSchema {
    /// The `to` type.
    public let dtype: DType
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let to = try Miscellaneous.dtype("to", default: nil, reader), to != .string else {
            throw reader.error("BitCast needs a non-string 'to' type")
        }
        dtype = to
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let from = x?.dtype, from.bitsPerElement != dtype.bitsPerElement {
            throw reader.error("cannot reinterpret \(from) as \(dtype): the widths differ")
        }
        return [ValueFact(dtype: dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
