/// `Trilu`: keeps the upper or lower triangle of the last two axes, zeroing the rest; same shape.
///
/// Cost: zero — masking, no arithmetic.
public struct Trilu: OpSchema {
    /// Whether the upper triangle is kept.
    public let upper: Bool

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        upper = try reader.int("upper", default: 1) != 0
        try reader.expectInputs(1...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
