/// onnxruntime's `GroupQueryAttention` (`com.microsoft`): attention where
/// `num_heads` query heads share `kv_num_heads` key/value heads, with a
/// key/value cache, as onnxruntime-genai writes decoder LLMs.
///
/// Inputs: query (B, S, H·D), or Q, K and V packed as (B, S, (H + 2·Hkv)·D)
/// when key and value are omitted; key and value (B, S, Hkv·D); past_key and
/// past_value (B, Hkv, P, D); then seqlens_k, total_sequence_length, the
/// rotary cos/sin caches (M, R/2), position ids, an attention bias, head
/// sinks, cache scales and per-head Q/K norm weights. Outputs: output
/// (B, S, H·D), present_key and present_value (B, Hkv, P + S, D), and the
/// scores (B, H, S, P + S).
///
/// The key length T = P + S is what the shapes say: a cache that shares its
/// buffer with `present` (P is then the maximum length) is counted at that
/// length. With `sliding_window_cache` the cache is a window whose filling
/// only the data tells, so the node is left uncounted.
///
/// Cost: the attention core as `AttentionCore` counts it, masked when
/// `causal` (the default), with a local window or an attention bias, plus a
/// softcap when `softcap` is set; with `do_rotary`, 3 FLOPs per rotated
/// element of Q and K (R of each head's D features, R from the cos cache).
/// The per-head Q/K normalisation and the head sinks are not counted.
public struct GroupQueryAttention: OpSchema {
    public let numHeads: Int
    public let kvHeads: Int
    /// Whether Q and K are rotated first, with the cos and sin caches.
    public let rotary: Bool
    /// Rotation of pairs (2i, 2i + 1) rather than (i, i + R/2).
    public let rotaryInterleaved: Bool
    /// The factor of the scores; 0 means 1/√D.
    public let scale: Float
    /// Scores become `softcap · tanh(score / softcap)`; 0 means none.
    public let softcap: Float
    /// Each query sees only this many keys, its own the last; negative means all.
    public let localWindow: Int
    /// Softmax with an extra zero logit (or the head sinks) in the denominator.
    public let smoothSoftmax: Bool
    /// Whether the cache is a fixed window rather than appended to.
    public let windowCache: Bool
    let masked: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let heads = try reader.int("num_heads"), heads > 0, let kv = try reader.int("kv_num_heads"), kv > 0 else {
            throw reader.error("num_heads and kv_num_heads must be given and positive")
        }
        guard heads % kv == 0 else { throw reader.error("num_heads \(heads) is not a multiple of kv_num_heads \(kv)") }
        (numHeads, kvHeads) = (heads, kv)
        rotary = try reader.int("do_rotary", default: 0) != 0
        rotaryInterleaved = try reader.int("rotary_interleaved", default: 0) != 0
        scale = try reader.float("scale", default: 0)
        softcap = try reader.float("softcap", default: 0)
        smoothSoftmax = try reader.int("smooth_softmax", default: 0) != 0
        let causal = try reader.int("causal", default: 1) != 0
        localWindow = try reader.int("local_window_size", default: -1)
        masked = causal || localWindow >= 0 || (node.inputs.count > 10 && !node.inputs[10].isEmpty)
        windowCache = try reader.int("sliding_window_cache", default: 0) != 0
        try reader.expectInputs(1...17)
    }

    /// The sizes the node works with.
    struct Geometry {
        var batch = Dim.unknown, length = Dim.unknown, past = Dim.known(0), headSize = Dim.unknown
    }

    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> Geometry {
        let same = SequenceModels.same, share = SequenceModels.share
        var g = Geometry()
        let packed = inputs[input: 1] == nil
        if let q = inputs[input: 0]?.shape {
            guard q.rank == 3 else { throw reader.error("query must have rank 3, got \(q.rank)") }
            (g.batch, g.length) = (q.dims[0], q.dims[1])
            g.headSize = try share(q.dims[2], .known(packed ? numHeads + 2 * kvHeads : numHeads), "query hidden size", reader)
        }
        for (index, name) in [(1, "key"), (2, "value")] {
            guard let s = inputs[input: index]?.shape else { continue }
            guard s.rank == 3 else { throw reader.error("\(name) must have rank 3, got \(s.rank)") }
            g.batch = try same(g.batch, s.dims[0], "batch size", reader)
            g.length = try same(g.length, s.dims[1], "sequence length", reader)
            g.headSize = try same(g.headSize, try share(s.dims[2], .known(kvHeads), "\(name) hidden size", reader), "head size", reader)
        }
        if let past = inputs[input: 3]?.shape {
            guard past.rank == 4 else { throw reader.error("past_key must have rank 4, got \(past.rank)") }
            g.batch = try same(g.batch, past.dims[0], "batch size", reader)
            _ = try same(.known(kvHeads), past.dims[1], "kv_num_heads", reader)
            g.headSize = try same(g.headSize, past.dims[3], "head size", reader)
            g.past = past.dims[2]
        }
        return g
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let g = try geometry(inputs), heads = Dim.known(numHeads)
        let dtype = inputs[input: 0]?.dtype, cacheType = inputs[input: 3]?.dtype ?? dtype
        // A window cache keeps its capacity; otherwise the new keys are appended.
        let cache = windowCache ? inputs[input: 3]?.shape : Shape([g.batch, .known(kvHeads), g.past + g.length, g.headSize])
        return [ValueFact(dtype: dtype, shape: Shape([g.batch, g.length, heads * g.headSize])),
                ValueFact(dtype: cacheType, shape: cache), ValueFact(dtype: cacheType, shape: cache),
                ValueFact(dtype: dtype, shape: windowCache ? nil : Shape([g.batch, heads, g.length, g.past + g.length]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard !windowCache, let g = try? geometry(inputs) else { return nil }
        let core = AttentionCore(batch: g.batch, heads: .known(numHeads), queries: g.length, keys: g.past + g.length,
                                 headSize: g.headSize, valueHeadSize: g.headSize, masked: masked, softcapped: softcap != 0)
        var rotation: Int? = 0
        if rotary {
            // The cos cache holds R/2 angles per position.
            let rotated = inputs[input: 7]?.shape.flatMap { $0.rank == 2 ? $0.dims[1] * .known(2) : nil } ?? .unknown
            rotation = (g.batch * g.length * .known(numHeads + kvHeads) * rotated * .known(3)).value
        }
        guard let rotation else { return nil }
        return core.cost(plusFLOPs: rotation)
    }

    /// Head sinks and the Q/K norm weights are learned; the cos/sin caches are computed tables.
    public func holdsParameters(input index: Int) -> Bool { [11, 14, 15].contains(index) }
}
