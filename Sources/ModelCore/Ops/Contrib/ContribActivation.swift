/// onnxruntime's fused activations (`com.microsoft`): `Gelu`, `FastGelu`
/// (the tanh form, with an optional bias), `BiasGelu`, `QuickGelu`
/// (x·sigmoid(αx)) and `BiasAdd` (x + bias + skip), which its transformer
/// optimizer writes in place of the exported subgraphs. The output has the
/// shape of input 0.
///
/// Cost per element, as for the standalone operators: Gelu 5 and FastGelu 5
/// (the tanh form counts as the erf form), plus 1 for each bias added;
/// QuickGelu 6 (scale, sigmoid 4, multiply); BiasAdd 2.
public struct ContribActivation: OpSchema {
    public let op: String
    /// QuickGelu's α (`alpha`, default 1.702).
    public let alpha: Float
    let flopsPerElement: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        alpha = try reader.float("alpha", default: 1.702)
        switch op {
        case "Gelu", "QuickGelu": try reader.expectInputs(1...1)
        case "FastGelu": try reader.expectInputs(1...2)
        case "BiasGelu": try reader.expectInputs(2...2)
        default: try reader.expectInputs(3...3)    // BiasAdd
        }
        let biases = node.inputs.dropFirst().filter { !$0.isEmpty }.count
        flopsPerElement = switch op {
        case "QuickGelu": 6
        case "BiasAdd": 2
        default: 5 + biases
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        return [ValueFact(dtype: x.dtype, shape: x.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: flopsPerElement)
    }

    /// BiasAdd's input 2 is the residual stream, not a weight.
    public func holdsParameters(input index: Int) -> Bool { !(op == "BiasAdd" && index == 2) }
}
