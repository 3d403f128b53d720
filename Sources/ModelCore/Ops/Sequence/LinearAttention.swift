/// `LinearAttention` (opset 27): attention as a recurrence over a (d_k × d_v) state per key/value head.
///
/// Per token and batch row: Hq · d_k · d_v MACs for the output qᵀS,
/// Hkv · d_k · d_v for the outer-product update k ⊗ v, and with the delta
/// rules Hkv · d_k · d_v more for Sᵀk. FLOPs add Hkv · d_k · d_v for the decay
/// of the gated rules, 2 · Hkv · d_v for the delta rules' difference and β
/// scaling, and Hq · d_v for the output scale.
public struct LinearAttention: OpSchema {
    /// `q_num_heads`: query heads.
    public let qHeads: Int
    /// `kv_num_heads`: key/value heads, each with its own state.
    public let kvHeads: Int
    /// `update_rule`: linear, gated, delta or gated_delta.
    public let updateRule: String
    /// `scale`: the factor of the output; 0 means 1/√d_k.
    public let scale: Float
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let q = try reader.int("q_num_heads"), let kv = try reader.int("kv_num_heads") else {
            throw reader.error("q_num_heads and kv_num_heads are required")
        }
        guard q > 0, kv > 0, q % kv == 0 else {
            throw reader.error("q_num_heads \(q) must be a positive multiple of kv_num_heads \(kv)")
        }
        qHeads = q
        kvHeads = kv
        updateRule = try reader.string("update_rule", default: "gated_delta")
        guard ["linear", "gated", "delta", "gated_delta"].contains(updateRule) else {
            throw reader.error("unknown update_rule '\(updateRule)'")
        }
        scale = try reader.float("scale", default: 0)
        try reader.expectInputs(3...6)
    }

    /// Batch, tokens, key head size d_k and value head size d_v.
    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> (batch: Dim, tokens: Dim, keySize: Dim, valueSize: Dim) {
        let same = SequenceModels.same, share = SequenceModels.share
        var batch = Dim.unknown, tokens = Dim.unknown, keySize = Dim.unknown, valueSize = Dim.unknown
        for (index, name) in ["query", "key", "value"].enumerated() {
            guard let s = inputs[input: index]?.shape else { continue }
            guard s.rank == 3 else { throw reader.error("\(name) must have rank 3, got \(s.rank)") }
            batch = try same(batch, s.dims[0], "batch size", reader)
            tokens = try same(tokens, s.dims[1], "token count", reader)
            let size = try share(s.dims[2], .known(index == 0 ? qHeads : kvHeads), "\(name)'s hidden size", reader)
            if index == 2 { valueSize = size } else { keySize = try same(keySize, size, "key head size", reader) }
        }
        if let state = inputs[input: 3]?.shape {
            guard state.rank == 4 else { throw reader.error("past_state must have rank 4, got \(state.rank)") }
            batch = try same(batch, state.dims[0], "batch size", reader)
            _ = try same(state.dims[1], .known(kvHeads), "kv_num_heads", reader)
            keySize = try same(keySize, state.dims[2], "key head size", reader)
            valueSize = try same(valueSize, state.dims[3], "value head size", reader)
        }
        return (batch, tokens, keySize, valueSize)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let (batch, tokens, keySize, valueSize) = try geometry(inputs)
        let dtype = inputs[input: 0]?.dtype
        return [
            ValueFact(dtype: dtype, shape: Shape([batch, tokens, .known(qHeads) * valueSize])),
            ValueFact(dtype: inputs[input: 3]?.dtype ?? dtype, shape: Shape([batch, .known(kvHeads), keySize, valueSize])),
        ]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (batch, tokens, keySize, valueSize) = try? geometry(inputs),
              let n = Shape([batch, tokens, keySize, valueSize]).values,
              let steps = Count.product(n[0], n[1]) else { return nil }
        let (dk, dv) = (n[2], n[3])
        let delta = updateRule.hasSuffix("delta"), gated = updateRule.hasPrefix("gated")
        guard let state = Count.product(kvHeads, dk, dv),
              let perStepMACs = SequenceModels.total([Count.product(qHeads, dk, dv), state, delta ? state : 0]),
              let perStepFLOPs = SequenceModels.total([gated ? state : 0, delta ? Count.product(2, kvHeads, dv) : 0,
                                                       Count.product(qHeads, dv)]),
              let macs = Count.product(steps, perStepMACs),
              let flops = Count.product(steps, perStepFLOPs) else { return nil }
        return .multiplyAccumulate(macs, plus: flops)
    }

    /// Queries, keys, values, gates and the state are activations.
    public func holdsParameters(input index: Int) -> Bool { false }
}
