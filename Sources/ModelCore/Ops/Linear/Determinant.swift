/// `Det`: the determinants of a batch of square matrices, [*, M, M] → [*].
///
/// By LU decomposition: ⌊M³ / 3⌋ MACs per matrix.
public struct Determinant: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let s = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard s.rank >= 2 else { throw reader.error("Det needs rank 2 or more, got \(s.rank)") }
        _ = try SequenceModels.same(s.dims[s.rank - 2], s.dims[s.rank - 1], "matrix side", reader)
        return [ValueFact(dtype: x?.dtype, shape: Shape(Array(s.dims.dropLast(2))))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let dims = inputs[input: 0]?.shape?.values, let m = dims.last, let batch = outputs.first?.elementCount,
              let cube = Count.product(m, m, m), let macs = Count.product(batch, cube / 3) else { return nil }
        return .multiplyAccumulate(macs)
    }
}
