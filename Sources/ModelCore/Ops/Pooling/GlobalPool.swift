/// GlobalMaxPool, GlobalAveragePool, GlobalLpPool: one window over all spatial axes.
///
/// Counting rule: as the windowed forms, with the window being the whole
/// spatial extent: about one operation per input element (two for LpPool),
/// plus one per output for the division or root.
public struct GlobalPool: OpSchema {
    public let op: String
    /// GlobalLpPool's exponent `p`.
    public let p: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        p = try reader.int("p", default: 2)
        guard p > 0 else { throw reader.error("p must be positive, got \(p)") }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        guard let shape = x.shape, shape.rank >= 2 else { return [ValueFact(dtype: x.dtype, shape: x.shape)] }
        return [ValueFact(dtype: x.dtype, shape: Shape(Array(shape.dims.prefix(2)) + Array(repeating: .known(1), count: shape.rank - 2)))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let input = inputs[input: 0]?.elementCount, let output = outputs.first?.elementCount,
              input < 1 << 60, output < 1 << 60 else { return nil }
        switch op {
        case "GlobalMaxPool": return .elementwise(input, perElement: 1)
        case "GlobalAveragePool": return OpCost(flops: input + output)
        default: return OpCost(flops: 2 * input + output)
        }
    }
}
