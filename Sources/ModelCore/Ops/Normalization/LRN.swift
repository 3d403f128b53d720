/// `LRN`: local response normalisation across `size` neighbouring channels.
///
/// Counting rule per element: a square and an add for each of the `size`
/// neighbours, then scale, add bias, power and divide: 2·size + 4.
public struct LRN: OpSchema {
    public let size: Int
    /// The scale, exponent and offset of the normaliser: (bias + alpha/size·Σx²)^beta.
    public let alpha: Float, beta: Float, bias: Float

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        guard let size = try reader.int("size"), size > 0 else { throw reader.error("LRN needs a positive 'size'") }
        self.size = size
        alpha = try reader.float("alpha", default: 1e-4)
        beta = try reader.float("beta", default: 0.75)
        bias = try reader.float("bias", default: 1)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        return [ValueFact(dtype: x.dtype, shape: x.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount, size < Int.max / 4 else { return nil }
        return .elementwise(count, perElement: 2 * size + 4)
    }
}
