/// `OneHot`: a new axis of length `depth` (input 1) at `axis`, holding
/// `values[1]` where the index points and `values[0]` elsewhere.
///
/// Cost: zero — a fill, no arithmetic.
public struct OneHot: OpSchema {
    /// Where the new axis goes in the output, as written (default −1, last).
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -1)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 2]?.dtype
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: dtype, shape: nil)] }
        let depth = ShapeMath.scalar(inputs[input: 1]) ?? .unknown
        if let d = depth.value, d < 0 { throw reader.error("depth \(d) is negative") }
        let inserted = try ShapeMath.axis(axis, rank: shape.rank + 1, reader: reader)
        var dims = shape.dims
        dims.insert(depth, at: inserted)
        return [ValueFact(dtype: dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Indices, depth and the on/off values are not learned.
    public func holdsParameters(input index: Int) -> Bool { false }
}
