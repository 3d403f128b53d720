/// `Sum`, `Mean`, `Max`, `Min` over any number of broadcast inputs.
public struct Variadic: OpSchema {
    public let op: String
    let inputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        inputCount = node.inputs.count
        guard inputCount >= 1 else { throw reader.error("\(op) needs at least one input") }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let shape = try Broadcast.shape(inputs.map { $0?.shape }, node: reader)
        return [ValueFact(dtype: inputs.lazy.compactMap { $0?.dtype }.first, shape: shape)]
    }

    /// (inputs − 1) operations per element; Mean adds one division.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: inputCount - 1 + (op == "Mean" ? 1 : 0))
    }

    public var oneElementInputsAreConstants: Bool { true }
}
