/// `EyeLike`: a 2-D tensor of the input's shape with ones on the `k`-th
/// diagonal, of element type `dtype` (the input's by default).
///
/// Cost: zero — a fill, no arithmetic.
public struct EyeLike: OpSchema {
    /// The element type the attribute asks for; `nil` keeps the input's.
    public let dtype: DType?
    /// The diagonal: 0 the main one, positive above it.
    public let k: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if let code = try reader.int("dtype") {
            guard let raw = Int32(exactly: code), DType(rawValue: raw).isKnown else { throw reader.error("unknown dtype \(code)") }
            dtype = DType(rawValue: raw)
        } else {
            dtype = nil
        }
        k = try reader.int("k", default: 0)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let rank = x?.shape?.rank, rank != 2 { throw reader.error("EyeLike needs a 2-D input, got rank \(rank)") }
        return [ValueFact(dtype: dtype ?? x?.dtype, shape: x?.shape ?? ShapeMath.unknownShape(rank: 2))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the input's shape and type are read.
    public func holdsParameters(input index: Int) -> Bool { false }
}
