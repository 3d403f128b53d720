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
    /// Added to the variance before its root (`epsilon`, default 1e-5).
    public let epsilon: Float
    /// GroupNormalization: how many channel groups share statistics (`num_groups`).
    public let groups: Int?
    /// LpNormalization: the norm's order, 1 or 2 (`p`).
    public let p: Int
    /// MeanVarianceNormalization: the axes the statistics run over (default 0, 2, 3).
    public let axes: [Int]
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -1)
        epsilon = try reader.float("epsilon", default: 1e-5)
        p = try reader.int("p", default: 2)
        axes = try reader.ints("axes") ?? [0, 2, 3]
        if op == "GroupNormalization" {
            guard let groups = try reader.int("num_groups"), groups > 0 else { throw reader.error("GroupNormalization needs a positive num_groups") }
            self.groups = groups
        } else {
            groups = nil
        }
        if op == "LpNormalization" && p != 1 && p != 2 { throw reader.error("LpNormalization p must be 1 or 2, not \(p)") }
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
