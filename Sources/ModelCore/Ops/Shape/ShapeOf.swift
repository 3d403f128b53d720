/// `Shape`: the input's dimensions (from `start` to `end`, opset 15) as an
/// int64 vector whose contents are known, symbols included, whenever the
/// input's rank is.
///
/// Cost: zero — no arithmetic.
public struct ShapeOf: OpSchema {
    /// First dimension to report, as written.
    public let start: Int
    /// One past the last dimension to report, as written; `nil` for the last.
    public let end: Int?

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        start = try reader.int("start", default: 0)
        end = try reader.int("end")
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: .int64, shape: Shape([Dim.unknown]))] }
        let rank = shape.rank
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
        let first = clamp(start), last = clamp(end ?? rank)
        let dims = first < last ? Array(shape.dims[first..<last]) : []
        return [ValueFact(dtype: .int64, value: KnownValue(integers: dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the shape of the input is read, never its values.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `Size`: the input's element count as an int64 scalar (symbolic when a dimension is).
///
/// Cost: zero — no arithmetic on the data.
public struct SizeOf: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: .int64, shape: Shape([Dim]()))] }
        return [ValueFact(dtype: .int64, value: KnownValue(scalar: Dim.product(shape.dims)))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the shape of the input is read, never its values.
    public func holdsParameters(input index: Int) -> Bool { false }
}
