import ModelCore

/// The sizes of one LinearAttention call, checked against each other once.
///
/// Query, key, value, decay and beta are packed (batch, tokens, heads · size);
/// the state is (batch, kv heads, d_k, d_v), one d_k × d_v matrix per key/value head.
struct LinearAttentionShape {
    let batch: Int, tokens: Int
    let qHeads: Int, kvHeads: Int
    let keySize: Int, valueSize: Int
    /// Decay elements per token: kv heads · d_k (one per key dimension) or kv heads (one per head); 0 without decay.
    let decayWidth: Int
    /// Beta elements per token: kv heads or 1; 0 without beta.
    let betaWidth: Int

    /// Query heads that read each key/value head's state.
    var group: Int { qHeads / kvHeads }
    var stateShape: [Int] { [batch, kvHeads, keySize, valueSize] }

    init(query: EngineTensor, key: EngineTensor, value: EngineTensor, past: EngineTensor?, decay: EngineTensor?,
         beta: EngineTensor?, qHeads: Int, kvHeads: Int) throws(ModelError) {
        for (name, t) in [("query", query), ("key", key), ("value", value)] where t.shape.count != 3 {
            throw ModelError(.invalidGraph, "LinearAttention: \(name) must have rank 3 (batch, tokens, heads · size), got \(t.shape)")
        }
        (batch, tokens) = (query.shape[0], query.shape[1])
        guard key.shape[0] == batch, value.shape[0] == batch, key.shape[1] == tokens, value.shape[1] == tokens else {
            throw ModelError(.invalidGraph, "LinearAttention: query \(query.shape), key \(key.shape) and value \(value.shape) differ in batch or tokens")
        }
        (self.qHeads, self.kvHeads) = (qHeads, kvHeads)
        guard query.shape[2] % qHeads == 0, value.shape[2] % kvHeads == 0 else {
            throw ModelError(.invalidGraph, "LinearAttention: query \(query.shape) and value \(value.shape) do not split into \(qHeads) and \(kvHeads) heads")
        }
        (keySize, valueSize) = (query.shape[2] / qHeads, value.shape[2] / kvHeads)
        // An empty query admits any head count, so the output's width must be checked.
        guard !qHeads.multipliedReportingOverflow(by: valueSize).overflow else {
            throw ModelError(.invalidGraph, "LinearAttention: \(qHeads) query heads of value size \(valueSize) are too many")
        }
        // kvHeads divides qHeads, so kvHeads · d_k is at most the query's hidden size.
        guard key.shape[2] == kvHeads * keySize else {
            throw ModelError(.invalidGraph, "LinearAttention: key \(key.shape) must hold \(kvHeads) heads of the query's head size \(keySize)")
        }
        if let past, past.shape != [batch, kvHeads, keySize, valueSize] {
            throw ModelError(.invalidGraph, "LinearAttention: past_state \(past.shape) must be \([batch, kvHeads, keySize, valueSize])")
        }
        decayWidth = try Self.width(decay, "decay", batch, tokens, allowed: [kvHeads * keySize, kvHeads])
        betaWidth = try Self.width(beta, "beta", batch, tokens, allowed: [kvHeads, 1])
    }

    /// The last dimension of a (batch, tokens, width) gate, one of `allowed`; 0 when the gate is absent.
    static func width(_ gate: EngineTensor?, _ name: String, _ batch: Int, _ tokens: Int, allowed: [Int]) throws(ModelError) -> Int {
        guard let gate else { return 0 }
        guard gate.shape.count == 3, gate.shape[0] == batch, gate.shape[1] == tokens, allowed.contains(gate.shape[2]) else {
            throw ModelError(.invalidGraph, "LinearAttention: \(name) \(gate.shape) must be \([batch, tokens]) with a last dimension of "
                             + allowed.map(String.init).joined(separator: " or "))
        }
        return gate.shape[2]
    }
}

/// LinearAttention (opset 27): attention as a recurrence over one d_k × d_v
/// state S per key/value head, token by token:
///
/// - gated rules first decay the state, S ← exp(g) · S (g per key row or per head);
/// - the delta rules write β · (v − Sᵀk) instead of v;
/// - every rule then adds k ⊗ (what it writes) and outputs scale · qᵀS for each
///   query head reading this state (query head h reads state h / (Hq / Hkv)).
///
/// float16 and bfloat16 tensors are widened to float32 and the results
/// narrowed back: the output to the query's type, the present state to the
/// past state's (or, without one, the query's). One work item per batch row and key/value head.
struct LinearAttentionKernel: Kernel {
    let qHeads: Int, kvHeads: Int
    let rule: String
    /// Whether the rule decays the state (gated, gated_delta) and whether it writes a correction (delta, gated_delta).
    let gated: Bool, delta: Bool
    /// The attribute; 0 means 1/√d_k.
    let scale: Float

    init(_ schema: LinearAttention) {
        (qHeads, kvHeads, rule) = (schema.qHeads, schema.kvHeads, schema.updateRule)
        gated = rule.hasPrefix("gated")
        delta = rule.hasSuffix("delta")
        scale = schema.scale
    }

    static let types: [DType] = [.float, .float16, .bfloat16]

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let query = try requiredInput(inputs, 0, "LinearAttention query"), key = try requiredInput(inputs, 1, "LinearAttention key")
        let value = try requiredInput(inputs, 2, "LinearAttention value")
        let past = optionalInput(inputs, 3), decay = optionalInput(inputs, 4), beta = optionalInput(inputs, 5)
        guard Self.types.contains(query.dtype) else {
            throw ModelError(.unsupported(op: nil, dtype: query.dtype), "LinearAttention runs float, float16 and bfloat16, not \(query.dtype)")
        }
        try requireSameType([query, key, value] + [decay, beta].compactMap { $0 }, "LinearAttention")
        if let past, !Self.types.contains(past.dtype) {
            throw ModelError(.unsupported(op: nil, dtype: past.dtype), "LinearAttention: past_state is \(past.dtype); it must be float, float16 or bfloat16")
        }
        guard (decay != nil) == gated, (beta != nil) == delta else {
            throw ModelError(.invalidGraph, "LinearAttention: update_rule '\(rule)' " + (gated ? "needs" : "takes no") + " decay and "
                             + (delta ? "needs" : "takes no") + " beta")
        }
        let shape = try LinearAttentionShape(query: query, key: key, value: value, past: past, decay: decay, beta: beta,
                                             qHeads: qHeads, kvHeads: kvHeads)
        let wide = { (x: EngineTensor) throws(ModelError) -> EngineTensor in try castTensor(x, to: .float, context: context) }
        let state = try EngineTensor(dtype: .float, shape: shape.stateShape)
        let bytes = state.count * MemoryLayout<Float>.size
        if let past {
            let source = try wide(past)
            withExtendedLifetime(source) { state.buffer.base.copyMemory(from: source.buffer.base, byteCount: bytes) }
        } else {
            state.buffer.base.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        }
        let output = try EngineTensor(dtype: .float, shape: [shape.batch, shape.tokens, qHeads * shape.valueSize])
        let factor = scale != 0 ? scale : 1 / Float(shape.keySize).squareRoot()
        let recurrence = Recurrence(shape: shape, q: try wide(query), k: try wide(key), v: try wide(value),
                                    decay: try decay.map(wide), beta: try beta.map(wide), scale: factor)
        // Without outputs there is no token or no value column, and the state stays as it was.
        if output.count > 0 {
            context.parallel(shape.batch * kvHeads) { unit in
                recurrence.run(batch: unit / shape.kvHeads, head: unit % shape.kvHeads, state: state, output: output)
            }
        }
        return [try castTensor(output, to: query.dtype, context: context),
                try castTensor(state, to: past?.dtype ?? query.dtype, context: context)]
    }

    /// The token-by-token update of one state, all tensors float32.
    struct Recurrence {
        let shape: LinearAttentionShape
        let q: EngineTensor, k: EngineTensor, v: EngineTensor
        let decay: EngineTensor?, beta: EngineTensor?
        let scale: Float

        /// Runs every token through the state of key/value head `head` of batch row `batch`, writing its query heads' outputs.
        func run(batch b: Int, head h: Int, state: EngineTensor, output: EngineTensor) {
            let (dk, dv, tokens) = (shape.keySize, shape.valueSize, shape.tokens)
            let (qHeads, kvHeads) = (shape.qHeads, shape.kvHeads)
            let (qs, ks, vs, out) = (q.floats, k.floats, v.floats, output.floats)
            // This head's state, d_k rows of d_v.
            let start = (b * kvHeads + h) * dk * dv
            let s = UnsafeMutableBufferPointer(rebasing: state.floats[start..<(start + dk * dv)])
            let perKeyDecay = shape.decayWidth == kvHeads * dk
            var written = [Float](repeating: 0, count: dv)
            for t in 0..<tokens {
                let row = b * tokens + t
                let key = row * kvHeads * dk + h * dk, value = row * kvHeads * dv + h * dv
                if let decay {
                    let gates = decay.floats, base = row * shape.decayWidth
                    for d in 0..<dk {
                        let g = Float.exp(gates[base + (perKeyDecay ? h * dk + d : h)])
                        for m in 0..<dv { s[d * dv + m] *= g }
                    }
                }
                for m in 0..<dv { written[m] = vs[value + m] }
                if let beta {
                    let rate = beta.floats[row * shape.betaWidth + (shape.betaWidth == 1 ? 0 : h)]
                    for m in 0..<dv {
                        var retrieved: Float = 0
                        for d in 0..<dk { retrieved += s[d * dv + m] * ks[key + d] }
                        written[m] = rate * (written[m] - retrieved)
                    }
                }
                for d in 0..<dk {
                    let kd = ks[key + d]
                    for m in 0..<dv { s[d * dv + m] += kd * written[m] }
                }
                for j in 0..<shape.group {
                    let qHead = h * shape.group + j
                    let query = row * qHeads * dk + qHead * dk, target = row * qHeads * dv + qHead * dv
                    for m in 0..<dv {
                        var sum: Float = 0
                        for d in 0..<dk { sum += qs[query + d] * s[d * dv + m] }
                        out[target + m] = scale * sum
                    }
                }
            }
        }
    }
}

extension LinearAttention: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { LinearAttentionKernel(self) }
}
