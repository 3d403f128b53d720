/// `BatchNormalization` in inference form: y = scale · (x − mean) / √(var + ε) + bias.
///
/// Counting rule: 2 FLOPs per element — the per-channel factors fold into
/// one multiply and one add (what a runtime does; the per-channel set-up is
/// negligible). Parameters: scale and bias; the running mean and variance
/// are statistics, not learned parameters (as torchvision counts).
public struct BatchNormalization: OpSchema {
    /// Training mode (opset 14): statistics of the batch, and updated running ones as outputs.
    public let trainingMode: Bool
    public let epsilon: Float

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        epsilon = try reader.float("epsilon", default: 1e-5)
        trainingMode = try reader.int("training_mode", default: 0) != 0
        try reader.expectInputs(5...5)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        let channels: Shape? = x.shape.flatMap { $0.rank >= 2 ? Shape([$0.dims[1]]) : nil }
        // Training mode adds the updated running mean and variance as outputs.
        return [ValueFact(dtype: x.dtype, shape: x.shape),
                ValueFact(dtype: x.dtype, shape: channels),
                ValueFact(dtype: x.dtype, shape: channels)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: 2)
    }

    public func holdsParameters(input index: Int) -> Bool { index == 1 || index == 2 }
}
