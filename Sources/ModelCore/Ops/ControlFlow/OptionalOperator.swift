/// `Optional`, `OptionalHasElement` and `OptionalGetElement`: wrapping a value that may be absent.
///
/// An optional value is not tracked. `OptionalHasElement` is known false for
/// an omitted input and true for a tensor; `OptionalGetElement` passes a
/// tensor through. Zero FLOPs.
public struct OptionalOperator: OpSchema {
    /// The operator this node is.
    public let op: String

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        if op == "Optional", let type = node.attribute("type") {
            guard case .type = type.value else { throw reader.error("attribute 'type' should be a type") }
        }
        try reader.expectInputs(op == "OptionalGetElement" ? 1...1 : 0...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let input = inputs[input: 0]
        // Containers never get an element type or shape, so a fact with either is a tensor.
        let isTensor = input.map { $0.dtype != nil || $0.shape != nil } ?? false
        switch op {
        case "OptionalHasElement":
            var fact = ValueFact(dtype: .bool, shape: Shape([Dim]()))
            if input == nil || isTensor { fact.value = KnownValue(scalar: .known(isTensor ? 1 : 0)) }
            return [fact]
        case "OptionalGetElement":
            return [isTensor ? input ?? .unknown : .unknown]
        default:
            return [.unknown]
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
