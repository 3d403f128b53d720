/// `Softmax`, `LogSoftmax`, `Hardmax` along one axis.
///
/// Softmax per element: max, subtract, exp, sum, divide = 5 FLOPs;
/// LogSoftmax: max, subtract, exp, sum, and subtract the log = 5;
/// Hardmax: one comparison.
public struct RowOperator: OpSchema {
    public let op: String
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        // The default axis moved from 1 to -1 in opset 13.
        axis = try reader.int("axis", default: opset >= 13 ? -1 : 1)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        if let rank = x.shape?.rank, rank > 0 { _ = try reader.axis(axis, rank: rank) }
        return [ValueFact(dtype: x.dtype, shape: x.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: op == "Hardmax" ? 1 : 5)
    }
}
