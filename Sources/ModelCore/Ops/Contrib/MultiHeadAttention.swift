/// onnxruntime's `MultiHeadAttention` (`com.microsoft`): attention on
/// projected queries, keys and values, with the projection's bias.
///
/// Forms of the inputs: query (B, S, H·D), or Q, K and V packed as
/// (B, S, H, 3, D); key (B, L, H·D) or K and V packed as (B, L, H, 2, D);
/// value (B, L, H·Dv); or key and value already split into heads,
/// (B, H, L, D) and (B, H, L, Dv), as cross-attention with a cache passes
/// them. past_key and past_value (B, H, P, D) add P keys, except with a
/// shared buffer (the `past_sequence_length` input), where they hold the
/// maximum length and P is that input's value. Outputs: output (B, S, H·Dv),
/// present_key and present_value (B, H, P + L, D), and the scores
/// (B, H, S, P + L).
///
/// Cost: the attention core as `AttentionCore` counts it, masked when
/// `unidirectional` or a key padding mask or an attention bias is given, plus
/// 1 FLOP per element of Q and of the new K and V for the bias. A shared
/// buffer whose past length is not a known constant leaves the node uncounted.
public struct MultiHeadAttention: OpSchema {
    public let numHeads: Int
    /// Whether each token attends only to the tokens before it.
    public let unidirectional: Bool
    /// The scores' scale (`scale`); 0 means 1/√(head size).
    public let scale: Float
    /// What a masked-out score gets added (`mask_filter_value`, default −10000).
    public let maskFilterValue: Float
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let shared = try SharedAttentionAttributes(reader)
        (numHeads, scale, maskFilterValue, unidirectional) = (shared.numHeads, shared.scale, shared.maskFilterValue, shared.unidirectional)
        try reader.expectInputs(1...10)
    }

    /// The sizes the node works with.
    struct Geometry {
        var batch = Dim.unknown, queries = Dim.unknown, keys = Dim.unknown, past = Dim.known(0)
        var headSize = Dim.unknown, valueHeadSize = Dim.unknown
        /// Whether K and V arrive already split into heads, so the bias and the cache do not apply to them.
        var splitKeys = false
        /// The cache's shape when past and present share one buffer.
        var sharedCache: Shape?
    }

    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> Geometry {
        let same = SequenceModels.same, heads = Dim.known(numHeads)
        var g = Geometry()
        let query = inputs[input: 0]?.shape, key = inputs[input: 1]?.shape, value = inputs[input: 2]?.shape
        if let query {
            let q = query.dims
            switch query.rank {
            case 5:
                guard q[3] == .known(3) || q[3] == .unknown else { throw reader.error("packed QKV must be (B, S, H, 3, D), got \(query)") }
                _ = try same(heads, q[2], "num_heads", reader)
                (g.batch, g.queries, g.keys, g.headSize, g.valueHeadSize) = (q[0], q[1], q[1], q[4], q[4])
            case 3:
                (g.batch, g.queries) = (q[0], q[1])
                g.headSize = try SequenceModels.share(q[2], heads, "query hidden size", reader)
                guard inputs[input: 1] != nil else { throw reader.error("a 3-D query needs key and value") }
            default:
                throw reader.error("query must have rank 3 or 5, got \(query.rank)")
            }
        }
        if let key, query?.rank != 5 {
            switch key.rank {
            case 5:
                _ = try same(heads, key.dims[2], "num_heads", reader)
                g.batch = try same(g.batch, key.dims[0], "batch size", reader)
                g.keys = key.dims[1]
                g.headSize = try same(g.headSize, key.dims[4], "head size", reader)
                g.valueHeadSize = key.dims[4]
            case 3:
                g.batch = try same(g.batch, key.dims[0], "batch size", reader)
                g.keys = key.dims[1]
                g.headSize = try same(g.headSize, try SequenceModels.share(key.dims[2], heads, "key hidden size", reader), "head size", reader)
                if let value {
                    guard value.rank == 3 else { throw reader.error("with a 3-D key, value must have rank 3, got \(value.rank)") }
                    g.keys = try same(g.keys, value.dims[1], "key/value length", reader)
                    g.valueHeadSize = try SequenceModels.share(value.dims[2], heads, "value hidden size", reader)
                }
            case 4:
                g.splitKeys = true
                g.batch = try same(g.batch, key.dims[0], "batch size", reader)
                _ = try same(heads, key.dims[1], "num_heads", reader)
                g.keys = key.dims[2]
                g.headSize = try same(g.headSize, key.dims[3], "head size", reader)
                if let value {
                    guard value.rank == 4 else { throw reader.error("with a 4-D key, value must have rank 4, got \(value.rank)") }
                    g.keys = try same(g.keys, value.dims[2], "key/value length", reader)
                    g.valueHeadSize = value.dims[3]
                }
            default:
                throw reader.error("key must have rank 3, 4 or 5, got \(key.rank)")
            }
        }
        if !g.splitKeys, let past = inputs[input: 6]?.shape {
            guard past.rank == 4 else { throw reader.error("past_key must have rank 4, got \(past.rank)") }
            g.batch = try same(g.batch, past.dims[0], "batch size", reader)
            _ = try same(heads, past.dims[1], "num_heads", reader)
            g.headSize = try same(g.headSize, past.dims[3], "head size", reader)
            if inputs[input: 8] != nil {
                g.sharedCache = past
                g.past = try Miscellaneous.size(inputs[input: 8], "past_sequence_length", reader)
            } else {
                g.past = past.dims[2]
            }
        }
        return g
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let g = try geometry(inputs), heads = Dim.known(numHeads)
        let dtype = inputs[input: 0]?.dtype, total = g.past + g.keys
        let cache = { (size: Dim) in g.sharedCache.map { Shape(Array($0.dims.dropLast()) + [size]) } ?? Shape([g.batch, heads, total, size]) }
        return [ValueFact(dtype: dtype, shape: Shape([g.batch, g.queries, heads * g.valueHeadSize])),
                ValueFact(dtype: dtype, shape: cache(g.headSize)), ValueFact(dtype: dtype, shape: cache(g.valueHeadSize)),
                ValueFact(dtype: dtype, shape: Shape([g.batch, heads, g.queries, total]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let g = try? geometry(inputs) else { return nil }
        let heads = Dim.known(numHeads)
        let core = AttentionCore(batch: g.batch, heads: heads, queries: g.queries, keys: g.past + g.keys,
                                 headSize: g.headSize, valueHeadSize: g.valueHeadSize,
                                 masked: unidirectional || inputs[input: 4] != nil || inputs[input: 5] != nil)
        var bias: Int? = 0
        if inputs[input: 3] != nil {
            let q = g.batch * g.queries * heads * g.headSize
            let kv = g.splitKeys ? .known(0) : g.batch * g.keys * heads * (g.headSize + g.valueHeadSize)
            bias = SequenceModels.total([q.value, kv.value])
        }
        guard let bias else { return nil }
        return core.cost(plusFLOPs: bias)
    }

    /// Only the projection's bias is learned; queries, keys, values, masks and caches are activations.
    public func holdsParameters(input index: Int) -> Bool { index == 3 }
}
