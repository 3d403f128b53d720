/// onnxruntime's fused normalisations: `SkipLayerNormalization` and
/// `SkipSimplifiedLayerNormalization` (`com.microsoft`) normalise
/// input + skip (+ bias) over the last axis, as LayerNormalization and
/// RMSNormalization do; `SimplifiedLayerNormalization` is RMSNormalization
/// under onnxruntime's older name.
///
/// Outputs: the normalised tensor, then (when asked for) the mean and the
/// inverse standard deviation, one per row (the last axis kept as 1), and,
/// for the skip forms, the sum input + skip (+ bias).
///
/// Cost per element: the normalisation's (LayerNormalization 8, the
/// simplified form 5, as `StatisticsNormalization` counts them) plus one
/// per added skip or bias.
public struct SkipLayerNormalization: OpSchema {
    public let op: String
    /// Added to the variance before its root (`epsilon`).
    public let epsilon: Float
    /// Whether the mean is not subtracted (RMS normalisation).
    public let simplified: Bool
    /// The first normalised axis of SimplifiedLayerNormalization (`axis`, default −1); the skip forms normalise the last axis.
    public let axis: Int
    let additions: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        epsilon = try reader.float("epsilon", default: 1e-5)
        simplified = op != "SkipLayerNormalization"
        axis = try reader.int("axis", default: -1)
        if op == "SimplifiedLayerNormalization" {
            try reader.expectInputs(1...2)
            additions = 0
        } else {
            try reader.expectInputs(3...5)
            // The skip, and the bias when present (input 4, or 3 in the simplified form, which has no beta).
            let bias = simplified ? 3 : 4
            additions = 1 + (node.inputs.count > bias && !node.inputs[bias].isEmpty ? 1 : 0)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        let rows = x.shape.map { Shape(Array($0.dims.dropLast()) + ($0.rank > 0 ? [.known(1)] : [])) }
        let statistics = ValueFact(dtype: .float, shape: rows)
        let normalised = ValueFact(dtype: x.dtype, shape: x.shape)
        if op == "SimplifiedLayerNormalization" { return [normalised, statistics] }
        return [normalised, statistics, statistics, normalised]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: (simplified ? 5 : 8) + additions)
    }

    /// The skip (input 1) is the residual stream; gamma, beta and bias are learned.
    public func holdsParameters(input index: Int) -> Bool { op == "SimplifiedLayerNormalization" || index != 1 }
}
