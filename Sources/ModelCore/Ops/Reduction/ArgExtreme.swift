/// `ArgMax` and `ArgMin`: the int64 index of the extreme along `axis`, which is kept as size 1 unless `keepdims` is 0.
///
/// Cost: one comparison per input element.
public struct ArgExtreme: OpSchema {
    /// The searched axis as written.
    public let axis: Int
    /// Whether the searched axis stays as size 1.
    public let keepDims: Bool
    /// Whether ties go to the last index (`select_last_index`).
    public let selectLast: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 0)
        keepDims = try reader.int("keepdims", default: 1) != 0
        selectLast = try reader.int("select_last_index", default: 0) != 0
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: .int64, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        var dims = shape.dims
        if keepDims { dims[along] = .known(1) } else { dims.remove(at: along) }
        return [ValueFact(dtype: .int64, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }
}
