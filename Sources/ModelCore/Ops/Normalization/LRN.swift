/// `LRN`: local response normalisation across `size` neighbouring channels.
///
/// Counting rule per element: a square and an add for each of the `size`
/// neighbours, then scale, add bias, power and divide: 2·size + 4.
public struct LRN: OpSchema {
    public let size: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        guard let size = try reader.int("size"), size > 0 else { throw reader.error("LRN needs a positive 'size'") }
        self.size = size
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
