/// One input, one same-shaped output (plus Dropout's optional mask).
public struct Unary: OpSchema {
    public let op: String
    let flopsPerElement: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        flopsPerElement = Elementwise.unaryFLOPs[op] ?? 1
        // Clip takes min and max as inputs from opset 11; Dropout its ratio and training mode from 12.
        try AttributeReader(node).expectInputs(op == "Clip" || op == "Dropout" ? 1...3 : 1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = inputs[input: 0] ?? .unknown
        switch op {
        case "Identity":
            return [fact]
        case "Dropout":
            // At inference the data passes through unchanged; the mask is all true.
            return [fact, ValueFact(dtype: .bool, shape: fact.shape)]
        case "IsNaN", "IsInf":
            return [ValueFact(dtype: .bool, shape: fact.shape)]
        case "Neg", "Abs":
            if let value = fact.value, case .integers(let v) = value.elements {
                fact.value = KnownValue(dims: value.dims, elements: .integers(v.map { d in
                    guard let x = d.value else { return op == "Neg" ? d * .known(-1) : .unknown }
                    return .known(op == "Neg" ? -x : abs(x))
                }))
                return [fact]
            }
        default:
            break
        }
        fact.value = nil
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: flopsPerElement)
    }

    /// Clip's bounds (ReLU6's 0 and 6) are settings, not learned parameters.
    public func holdsParameters(input index: Int) -> Bool { op != "Clip" }
}
