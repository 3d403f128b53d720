/// `RotaryEmbedding` (opset 23): rotates pairs of each head's leading `rotary_embedding_dim` features by position-dependent angles.
///
/// Each rotated pair costs 4 multiplications and 2 additions: 3 FLOPs per
/// rotated element; features past `rotary_embedding_dim` are copied.
public struct RotaryEmbedding: OpSchema {
    /// `num_heads`, required for a 3-D input.
    public let numHeads: Int?
    /// 0 rotates the whole head.
    public let rotaryDim: Int
    /// `interleaved`: pairs are adjacent features (0, 1), (2, 3)… rather than the two halves.
    public let interleaved: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        numHeads = try reader.int("num_heads")
        if let numHeads, numHeads <= 0 { throw reader.error("num_heads must be positive, got \(numHeads)") }
        rotaryDim = try reader.int("rotary_embedding_dim", default: 0)
        guard rotaryDim >= 0, rotaryDim % 2 == 0 else { throw reader.error("rotary_embedding_dim must be even and non-negative, got \(rotaryDim)") }
        interleaved = try reader.int("interleaved", default: 0) != 0
        try reader.expectInputs(3...4)
    }

    /// The head size, once X's shape is known.
    func headSize(_ x: Shape) throws(ModelError) -> Dim {
        switch x.rank {
        case 4:
            return x.dims[3]
        case 3:
            guard let numHeads else { throw reader.error("a 3-D input needs num_heads") }
            return try SequenceModels.share(x.dims[2], .known(numHeads), "hidden size", reader)
        default:
            throw reader.error("input must have rank 3 or 4, got \(x.rank)")
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let shape = x?.shape, let head = try headSize(shape).value, rotaryDim > head {
            throw reader.error("rotary_embedding_dim \(rotaryDim) exceeds the head size \(head)")
        }
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let x = inputs[input: 0]?.shape, let count = x.elementCount,
              let head = (try? headSize(x))?.value, head > 0 else { return nil }
        guard let rotated = rotaryDim == 0 ? count : Count.product(count / head, rotaryDim) else { return nil }
        return .elementwise(rotated, perElement: 3)
    }

    /// The sine and cosine caches are computed tables, not learned weights.
    public func holdsParameters(input index: Int) -> Bool { false }
}
