/// `ai.onnx.ml.Binarizer`: 1 where an element exceeds `threshold`, else 0.
///
/// Cost: one comparison per element.
public struct Binarizer: OpSchema {
    /// The value an element must exceed to become 1.
    public let threshold: Float

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        threshold = try reader.float("threshold", default: 0)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: inputs[input: 0]?.dtype, shape: inputs[input: 0]?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }
}
