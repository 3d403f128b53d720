/// Normalisation layers.
public enum Normalization {
    static let registrations: [String: any OpSchema.Type] = [
        "BatchNormalization": BatchNormalization.self,
        "InstanceNormalization": StatisticsNormalization.self,
        "LayerNormalization": StatisticsNormalization.self,
        "GroupNormalization": StatisticsNormalization.self,
        "RMSNormalization": StatisticsNormalization.self,
        "MeanVarianceNormalization": StatisticsNormalization.self,
        "LpNormalization": StatisticsNormalization.self,
        "LRN": LRN.self,
    ]
}

/// `BatchNormalization` in inference form: y = scale · (x − mean) / √(var + ε) + bias.
///
/// Counting rule: 2 FLOPs per element — the per-channel factors fold into
/// one multiply and one add (what a runtime does; the per-channel set-up is
/// negligible). Parameters: scale and bias; the running mean and variance
/// are statistics, not learned parameters (as torchvision counts).
public struct BatchNormalization: OpSchema {
    let trainingMode: Bool
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

/// Normalisations that compute statistics over the input itself:
/// Layer, Instance, Group, RMS, MeanVariance and Lp normalisation.
///
/// Counting rule per element: LayerNormalization, InstanceNormalization,
/// GroupNormalization and MeanVarianceNormalization 8 (mean 1, variance 3 —
/// subtract, square, add —, normalise 2, scale and shift 2);
/// RMSNormalization 5 (square, add, normalise 1, scale 1, plus the root
/// amortised as 1); LpNormalization 3 (power, add, divide).
public struct StatisticsNormalization: OpSchema {
    public let op: String
    /// LayerNormalization: the first normalised axis.
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -1)
        switch op {
        case "InstanceNormalization", "GroupNormalization": try reader.expectInputs(3...3)
        case "LayerNormalization", "RMSNormalization": try reader.expectInputs(1...3)
        default: try reader.expectInputs(1...1)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        var outputs = [ValueFact(dtype: x.dtype, shape: x.shape)]
        if op == "LayerNormalization" {
            // The optional Mean and InvStdDev outputs keep the leading axes and reduce the rest to 1.
            var statistics: Shape?
            if let shape = x.shape {
                let first = try reader.axis(axis, rank: shape.rank)
                statistics = Shape(Array(shape.dims.prefix(first)) + Array(repeating: .known(1), count: shape.rank - first))
            }
            outputs.append(ValueFact(dtype: .float, shape: statistics))
            outputs.append(ValueFact(dtype: .float, shape: statistics))
        }
        return outputs
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        switch op {
        case "RMSNormalization": return .elementwise(count, perElement: 5)
        case "LpNormalization": return .elementwise(count, perElement: 3)
        default: return .elementwise(count, perElement: 8)
        }
    }
}

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
