/// `CumSum` and `CumProd`: running sums or products along the axis given as input 1; same shape.
///
/// Cost: one FLOP per element.
public struct Cumulative: OpSchema {
    /// Whether CumProd (else CumSum).
    public let product: Bool
    /// Whether each output leaves out its own element (`exclusive`).
    public let exclusive: Bool
    /// Whether the running total goes from the end (`reverse`).
    public let reverse: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        product = node.opType == "CumProd"
        exclusive = try reader.int("exclusive", default: 0) != 0
        reverse = try reader.int("reverse", default: 0) != 0
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let shape = x?.shape, let axis = ShapeMath.scalar(inputs[input: 1])?.value {
            _ = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        }
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
