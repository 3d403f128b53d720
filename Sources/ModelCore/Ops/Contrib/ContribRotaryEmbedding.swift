/// onnxruntime's `RotaryEmbedding` (`com.microsoft`): rotates pairs of each
/// head's leading R features by position-dependent angles.
///
/// Inputs: input (B, S, H·D) or (B, H, S, D), position_ids, and the cos and
/// sin caches (M, R/2), in that order (the standard operator puts the caches
/// second). R is `rotary_embedding_dim`, else twice the caches' width; a 3-D
/// input needs `num_heads` only when R is not the whole head.
///
/// Cost, as for the standard operator: 3 FLOPs per rotated element (each
/// pair takes 4 multiplications and 2 additions); the other features are
/// copied.
public struct ContribRotaryEmbedding: OpSchema {
    /// `num_heads`; 0 when not given.
    public let numHeads: Int
    /// `rotary_embedding_dim`; 0 when not given.
    public let rotaryDim: Int
    /// Whether the rotated pairs are neighbours (2i, 2i + 1) rather than the two halves (i, i + R/2).
    public let interleaved: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        numHeads = try reader.int("num_heads", default: 0)
        rotaryDim = try reader.int("rotary_embedding_dim", default: 0)
        interleaved = try reader.int("interleaved", default: 0) != 0
        guard numHeads >= 0, rotaryDim >= 0, rotaryDim % 2 == 0 else {
            throw reader.error("num_heads must not be negative and rotary_embedding_dim must be even, got \(numHeads) and \(rotaryDim)")
        }
        if rotaryDim > 0 && numHeads == 0 { throw reader.error("rotary_embedding_dim needs num_heads") }
        try reader.expectInputs(4...4)
    }

    /// The rotated features per head: the attribute, else twice the cos cache's width.
    func rotatedWidth(_ inputs: [ValueFact?]) -> Dim {
        if rotaryDim > 0 { return .known(rotaryDim) }
        guard let cache = inputs[input: 2]?.shape, cache.rank == 2 else { return .unknown }
        return cache.dims[1] * .known(2)
    }

    /// The head size D, once the input's shape is known.
    func headSize(_ x: Shape, _ inputs: [ValueFact?]) throws(ModelError) -> Dim {
        switch x.rank {
        case 4: return x.dims[3]
        case 3: return numHeads > 0 ? try SequenceModels.share(x.dims[2], .known(numHeads), "hidden size", reader) : rotatedWidth(inputs)
        default: throw reader.error("input must have rank 3 or 4, got \(x.rank)")
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let shape = x?.shape, let head = try headSize(shape, inputs).value, let width = rotatedWidth(inputs).value, width > head {
            throw reader.error("the rotated width \(width) exceeds the head size \(head)")
        }
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let x = inputs[input: 0]?.shape, let count = x.elementCount, let head = (try? headSize(x, inputs))?.value, head > 0,
              let width = rotatedWidth(inputs).value, let rotated = Count.product(count / head, width) else { return nil }
        return .elementwise(rotated, perElement: 3)
    }

    /// The cos and sin caches are computed tables, not learned weights.
    public func holdsParameters(input index: Int) -> Bool { false }
}
