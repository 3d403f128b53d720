/// `NegativeLogLikelihoodLoss` and `SoftmaxCrossEntropyLoss` over
/// scores [N, C, d1, …] and targets [N, d1, …].
///
/// Counting rule: NegativeLogLikelihoodLoss 2 FLOPs per target element
/// (weight, accumulate; the gather is free); SoftmaxCrossEntropyLoss adds a
/// log-softmax over the scores, 5 per score element.
public struct ClassificationLoss: OpSchema {
    public let op: String
    /// `none`, `sum` or `mean`.
    public let reduction: String
    /// The target value whose entries contribute nothing (`ignore_index`).
    public let ignoreIndex: Int?

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        reduction = try reader.string("reduction", default: "mean")
        ignoreIndex = try reader.int("ignore_index")
        guard ["none", "sum", "mean"].contains(reduction) else { throw reader.error("unknown reduction '\(reduction)'") }
        try reader.expectInputs(2...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let scores = inputs[input: 0] ?? .unknown
        let targets = inputs[input: 1] ?? .unknown
        var perTarget = targets.shape
        if perTarget == nil, let s = scores.shape, s.rank >= 2 {
            perTarget = Shape([s.dims[0]] + Array(s.dims.dropFirst(2)))
        }
        let loss = ValueFact(dtype: scores.dtype, shape: reduction == "none" ? perTarget : Shape([Dim]()))
        // SoftmaxCrossEntropyLoss may also return the log-probabilities.
        return op == "SoftmaxCrossEntropyLoss" ? [loss, ValueFact(dtype: scores.dtype, shape: scores.shape)] : [loss]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let targets = inputs[input: 1]?.elementCount, let scores = inputs[input: 0]?.elementCount,
              targets < 1 << 60, scores < 1 << 60 else { return nil }
        return OpCost(flops: 2 * targets + (op == "SoftmaxCrossEntropyLoss" ? 5 * scores : 0))
    }

    /// The per-class weights are a setting of the loss, not a learned parameter.
    public func holdsParameters(input index: Int) -> Bool { false }
}
