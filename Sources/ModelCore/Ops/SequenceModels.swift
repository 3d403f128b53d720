/// Recurrent layers, attention and the operators that carry a sequence model's state.
///
/// Counting rule (docs/COUNTING.md): matrix products count as MACs; the
/// elementwise work around them counts one FLOP per arithmetic operation or
/// transcendental function, with the activation costs `Elementwise` uses for
/// the standalone operators (Sigmoid 4, Tanh 1, Swish 5, Softmax 5 per element).
public enum SequenceModels {
    static let registrations: [String: any OpSchema.Type] = [
        "RNN": Recurrent.self, "GRU": Recurrent.self, "LSTM": Recurrent.self,
        "Attention": Attention.self, "ai.onnx.preview.FlexAttention": Attention.self,
        "LinearAttention": LinearAttention.self, "RotaryEmbedding": RotaryEmbedding.self,
        "CausalConvWithState": CausalConvWithState.self,
    ]

    /// One dimension that two inputs both give: a number beats a symbol or an
    /// unknown, and two different numbers are an error.
    static func same(_ a: Dim, _ b: Dim, _ what: String, _ reader: AttributeReader) throws(ModelError) -> Dim {
        switch (a, b) {
        case (.known(let x), .known(let y)):
            guard x == y else { throw reader.error("\(what) is \(x) in one input and \(y) in another") }
            return a
        case (.unknown, _), (.symbol, .known): return b
        default: return a
        }
    }

    /// `whole` split into `parts` equal pieces; throws when known numbers do not divide.
    static func share(_ whole: Dim, _ parts: Dim, _ what: String, _ reader: AttributeReader) throws(ModelError) -> Dim {
        if let w = whole.value, let p = parts.value, p > 0, w % p != 0 {
            throw reader.error("\(what) \(w) is not a multiple of \(p)")
        }
        return whole.dividedExactly(by: parts)
    }

    /// The sum of non-negative counts, or `nil` when one is missing or the sum overflows.
    static func total(_ terms: [Int?]) -> Int? {
        var sum = 0
        for term in terms {
            guard let term, term >= 0 else { return nil }
            let (s, overflow) = sum.addingReportingOverflow(term)
            if overflow { return nil }
            sum = s
        }
        return sum
    }
}

/// `RNN`, `GRU` and `LSTM`: one recurrent layer over a whole sequence, forward, reverse or bidirectional.
///
/// Per time step, batch row and direction, the gates' input and recurrent
/// products are G · H · (I + H) MACs (G = 1, 3, 4 gates; H hidden, I input
/// size). Each hidden unit then costs, per gate, 1 FLOP to add the two
/// products, 2 for the biases when B is given, 2 for clipping when `clip` is
/// set, and its activation (Sigmoid 4, Tanh 1, … as the standalone operators);
/// GRU adds 5 (reset product, update blend), LSTM 4 (cell update, output
/// product) plus the output activation and 6 for peepholes when P is given.
/// `sequence_lens` is not looked at: the count is for the full padded length.
public struct Recurrent: OpSchema {
    /// The recurrent cell an operator computes.
    public enum Cell: Sendable {
        case rnn, gru, lstm

        /// Gates whose products the cell computes.
        var gates: Int {
            switch self {
            case .rnn: return 1
            case .gru: return 3
            case .lstm: return 4
            }
        }

        /// Activation functions per direction, in the order the `activations` attribute lists them.
        var defaultActivations: [String] {
            switch self {
            case .rnn: return ["Tanh"]
            case .gru: return ["Sigmoid", "Tanh"]
            case .lstm: return ["Sigmoid", "Tanh", "Tanh"]
            }
        }

        /// Y and Y_h, plus Y_c for LSTM.
        var maxOutputs: Int { self == .lstm ? 3 : 2 }
        /// X, W, R, B, sequence_lens, initial_h, plus initial_c and P for LSTM.
        var maxInputs: Int { self == .lstm ? 8 : 6 }
    }

    /// FLOPs per element of the activation functions the recurrent operators accept (lower-cased names).
    static let activationFLOPs: [String: Int] = [
        "relu": 1, "tanh": 1, "sigmoid": 4, "affine": 2, "leakyrelu": 2, "thresholdedrelu": 1,
        "scaledtanh": 3, "hardsigmoid": 4, "elu": 4, "softsign": 3, "softplus": 3,
    ]

    /// The cell this node computes (from its op type).
    public let cell: Cell
    /// `hidden_size`; `nil` takes it from W, R or the initial state.
    public let hiddenSize: Int?
    /// 2 for a bidirectional layer, else 1.
    public let directions: Int
    /// `layout = 1`: batch before sequence in X, Y and the states.
    public let batchFirst: Bool
    /// FLOPs of one hidden unit's elementwise work per step, for each direction, without bias, clip and peephole terms.
    let unitFLOPs: [Int]
    let clipped: Bool
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        switch node.opType {
        case "GRU": cell = .gru
        case "LSTM": cell = .lstm
        default: cell = .rnn
        }
        hiddenSize = try reader.int("hidden_size")
        if let hiddenSize, hiddenSize <= 0 { throw reader.error("hidden_size must be positive, got \(hiddenSize)") }
        let direction = try reader.string("direction", default: "forward")
        switch direction {
        case "forward", "reverse": directions = 1
        case "bidirectional": directions = 2
        default: throw reader.error("unknown direction '\(direction)'")
        }
        let layout = try reader.int("layout", default: 0)
        guard layout == 0 || layout == 1 else { throw reader.error("layout must be 0 or 1, got \(layout)") }
        batchFirst = layout == 1
        _ = try reader.float("clip", default: 0)
        clipped = node.attribute("clip") != nil

        let perDirection = cell.defaultActivations.count
        let names = try reader.strings("activations")
            ?? Array([[String]](repeating: cell.defaultActivations, count: directions).joined())
        guard names.count == perDirection * directions else {
            throw reader.error("activations lists \(names.count) functions, "
                + "\(node.opType) with \(directions) direction(s) takes \(perDirection * directions)")
        }
        var flops: [Int] = []
        for name in names {
            guard let f = Self.activationFLOPs[name.lowercased()] else { throw reader.error("unknown activation '\(name)'") }
            flops.append(f)
        }
        let kind = cell
        unitFLOPs = (0..<directions).map { d in
            let a = Array(flops[(d * perDirection)..<((d + 1) * perDirection)])
            switch kind {
            case .rnn: return 1 + a[0]
            case .gru: return 3 + 2 * a[0] + a[1] + 5
            case .lstm: return 4 + 3 * a[0] + a[1] + a[2] + 4
            }
        }
        outputCount = node.outputs.count
        guard outputCount <= cell.maxOutputs else {
            throw reader.error("\(node.opType) has at most \(cell.maxOutputs) outputs, this node has \(outputCount)")
        }
        try reader.expectInputs(3...cell.maxInputs)
    }

    /// Sequence length, batch size, input size and hidden size, as far as the inputs tell.
    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> (seq: Dim, batch: Dim, input: Dim, hidden: Dim) {
        var seq = Dim.unknown, batch = Dim.unknown, input = Dim.unknown
        var hidden: Dim = hiddenSize.map(Dim.known) ?? .unknown
        let gates = Dim.known(cell.gates), dirs = Dim.known(directions)
        if let x = inputs[input: 0]?.shape {
            guard x.rank == 3 else { throw reader.error("X must have rank 3, got \(x.rank)") }
            seq = batchFirst ? x.dims[1] : x.dims[0]
            batch = batchFirst ? x.dims[0] : x.dims[1]
            input = x.dims[2]
        }
        if let w = inputs[input: 1]?.shape {
            guard w.rank == 3 else { throw reader.error("W must have rank 3, got \(w.rank)") }
            _ = try SequenceModels.same(w.dims[0], dirs, "num_directions", reader)
            hidden = try SequenceModels.same(hidden, SequenceModels.share(w.dims[1], gates, "W's gate rows", reader), "hidden size", reader)
            input = try SequenceModels.same(input, w.dims[2], "input size", reader)
        }
        if let r = inputs[input: 2]?.shape {
            guard r.rank == 3 else { throw reader.error("R must have rank 3, got \(r.rank)") }
            _ = try SequenceModels.same(r.dims[0], dirs, "num_directions", reader)
            hidden = try SequenceModels.same(hidden, SequenceModels.share(r.dims[1], gates, "R's gate rows", reader), "hidden size", reader)
            hidden = try SequenceModels.same(hidden, r.dims[2], "hidden size", reader)
        }
        // initial_h and initial_c have the states' layout.
        for index in [5, 6] where index == 5 || cell == .lstm {
            guard let s = inputs[input: index]?.shape else { continue }
            guard s.rank == 3 else { throw reader.error("initial state must have rank 3, got \(s.rank)") }
            _ = try SequenceModels.same(batchFirst ? s.dims[1] : s.dims[0], dirs, "num_directions", reader)
            batch = try SequenceModels.same(batch, batchFirst ? s.dims[0] : s.dims[1], "batch size", reader)
            hidden = try SequenceModels.same(hidden, s.dims[2], "hidden size", reader)
        }
        return (seq, batch, input, hidden)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        let (seq, batch, _, hidden) = try geometry(inputs)
        let dirs = Dim.known(directions)
        let y = batchFirst ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]
        let state = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden]
        return (0..<outputCount).map { ValueFact(dtype: dtype, shape: Shape($0 == 0 ? y : state)) }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (seq, batch, input, hidden) = try? geometry(inputs),
              let n = Shape([seq, batch, input, hidden]).values else { return nil }
        let (s, b, i, h) = (n[0], n[1], n[2], n[3])
        let gates = cell.gates
        let perUnitExtra = (inputs[input: 3] != nil ? 2 * gates : 0) + (clipped ? 2 * gates : 0)
            + (cell == .lstm && inputs[input: 7] != nil ? 6 : 0)
        guard let steps = Count.product(s, b), let width = SequenceModels.total([i, h]),
              let macs = Count.product(steps, directions, gates, h, width),
              let units = Count.product(steps, h),
              let elementwise = SequenceModels.total(unitFLOPs.map { Count.product(units, $0 + perUnitExtra) }) else { return nil }
        return .multiplyAccumulate(macs, plus: elementwise)
    }

    /// W, R, B and P are learned; X, sequence lengths and initial states are not.
    public func holdsParameters(input index: Int) -> Bool {
        [1, 2, 3, 7].contains(index)
    }
}

/// `Attention` (opset 23+) and `ai.onnx.preview.FlexAttention`: scaled dot-product attention.
///
/// Attention takes 3-D (`q_num_heads`, `kv_num_heads` split the hidden size)
/// or 4-D Q, K, V and an optional key/value cache; FlexAttention takes 4-D
/// only and may carry modifier subgraphs. MACs = B · Hq · Sq · T · (D + Dv)
/// for the QKᵀ and softmax(QKᵀ)·V products (T = past + new key length). Each
/// of the B · Hq · Sq · T scores adds 1 FLOP for the scale, 5 for the softmax,
/// 1 for a mask, causal or window bias and 3 for a softcap; masked scores are
/// counted too. A FlexAttention with `score_mod` or `prob_mod` is left
/// uncounted: the work of subgraphs is not analysed.
public struct Attention: OpSchema {
    /// `q_num_heads`, required for a 3-D Q.
    public let qHeads: Int?
    /// `kv_num_heads`, required for 3-D K and V.
    public let kvHeads: Int?
    /// FlexAttention: 4-D inputs only, modifier subgraphs instead of masks.
    let flexible: Bool
    let hasModifiers: Bool
    /// Causal masking or a sliding window adds a bias to every score.
    let masked: Bool
    let softcapped: Bool
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        flexible = node.opType == "FlexAttention"
        qHeads = try reader.int("q_num_heads")
        kvHeads = try reader.int("kv_num_heads")
        for case let heads? in [qHeads, kvHeads] where heads <= 0 {
            throw reader.error("head counts must be positive, got \(heads)")
        }
        if let q = qHeads, let kv = kvHeads, q % kv != 0 {
            throw reader.error("q_num_heads \(q) is not a multiple of kv_num_heads \(kv)")
        }
        let mode = try reader.int("qk_matmul_output_mode", default: 0)
        guard (0...3).contains(mode) else { throw reader.error("qk_matmul_output_mode must be 0 to 3, got \(mode)") }
        if let precision = try reader.int("softmax_precision"), ![1, 10, 11, 16].contains(precision) {
            throw reader.error("softmax_precision \(precision) is not a floating-point type")
        }
        let causal = try reader.int("is_causal", default: 0) != 0
        let left = try reader.int("left_window_size", default: -1), right = try reader.int("right_window_size", default: -1)
        masked = causal || left >= 0 || right >= 0
        softcapped = try reader.float("softcap", default: 0) != 0
        let scoreModifier = try reader.graph("score_mod"), probabilityModifier = try reader.graph("prob_mod")
        hasModifiers = scoreModifier != nil || probabilityModifier != nil
        outputCount = node.outputs.count
        let maxOutputs = flexible ? 1 : 4
        guard outputCount <= maxOutputs else {
            throw reader.error("\(node.opType) has at most \(maxOutputs) outputs, this node has \(outputCount)")
        }
        // nonpad_kv_seqlen, the seventh input, arrived in opset 24.
        try reader.expectInputs(flexible ? 3...3 : 3...(opset >= 24 ? 7 : 6))
    }

    /// The sizes attention works with; `qRank` is 3 or 4, or `nil` when Q's rank is unknown.
    struct Geometry {
        var batch = Dim.unknown, qHeads = Dim.unknown, kvHeads = Dim.unknown
        var qLength = Dim.unknown, totalLength = Dim.unknown
        var headSize = Dim.unknown, valueHeadSize = Dim.unknown
        var qRank: Int?
    }

    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> Geometry {
        let same = SequenceModels.same, share = SequenceModels.share
        var g = Geometry()
        g.qHeads = qHeads.map(Dim.known) ?? .unknown
        g.kvHeads = kvHeads.map(Dim.known) ?? .unknown
        var kvLength = Dim.unknown
        for (index, name) in ["Q", "K", "V"].enumerated() {
            guard let s = inputs[input: index]?.shape else { continue }
            guard s.rank == 4 || (s.rank == 3 && !flexible) else {
                throw reader.error("\(name) must have rank \(flexible ? "4" : "3 or 4"), got \(s.rank)")
            }
            g.batch = try same(g.batch, s.dims[0], "batch size", reader)
            let heads = index == 0 ? g.qHeads : g.kvHeads
            if s.rank == 3 && heads == .unknown {
                throw reader.error("3-D \(name) needs \(index == 0 ? "q_num_heads" : "kv_num_heads")")
            }
            let length = s.rank == 4 ? s.dims[2] : s.dims[1]
            let size = try s.rank == 4 ? s.dims[3] : share(s.dims[2], heads, "\(name)'s hidden size", reader)
            if s.rank == 4 {
                if index == 0 { g.qHeads = try same(g.qHeads, s.dims[1], "q_num_heads", reader) }
                else { g.kvHeads = try same(g.kvHeads, s.dims[1], "kv_num_heads", reader) }
            }
            switch index {
            case 0:
                g.qRank = s.rank
                g.qLength = length
                g.headSize = try same(g.headSize, size, "head size", reader)
            case 1:
                kvLength = try same(kvLength, length, "key/value length", reader)
                g.headSize = try same(g.headSize, size, "head size", reader)
            default:
                kvLength = try same(kvLength, length, "key/value length", reader)
                g.valueHeadSize = size
            }
        }
        g.totalLength = kvLength
        // The cache is always 4-D: (batch, kv heads, past length, head size).
        if !flexible, let past = inputs[input: 4]?.shape {
            guard past.rank == 4 else { throw reader.error("past_key must have rank 4, got \(past.rank)") }
            g.batch = try same(g.batch, past.dims[0], "batch size", reader)
            g.kvHeads = try same(g.kvHeads, past.dims[1], "kv_num_heads", reader)
            g.headSize = try same(g.headSize, past.dims[3], "head size", reader)
            g.totalLength = past.dims[2] + kvLength
        }
        if !flexible, let past = inputs[input: 5]?.shape {
            guard past.rank == 4 else { throw reader.error("past_value must have rank 4, got \(past.rank)") }
            g.valueHeadSize = try same(g.valueHeadSize, past.dims[3], "value head size", reader)
        }
        if let q = g.qHeads.value, let kv = g.kvHeads.value, kv > 0, q % kv != 0 {
            throw reader.error("\(q) query heads cannot share \(kv) key/value heads")
        }
        return g
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let g = try geometry(inputs)
        let qType = inputs[input: 0]?.dtype, vType = inputs[input: 2]?.dtype ?? qType
        let y: Shape? = switch g.qRank {
        case 4: Shape([g.batch, g.qHeads, g.qLength, g.valueHeadSize])
        case 3: Shape([g.batch, g.qLength, g.qHeads * g.valueHeadSize])
        default: nil
        }
        let facts = [
            ValueFact(dtype: qType, shape: y),
            ValueFact(dtype: inputs[input: 1]?.dtype ?? qType, shape: Shape([g.batch, g.kvHeads, g.totalLength, g.headSize])),
            ValueFact(dtype: vType, shape: Shape([g.batch, g.kvHeads, g.totalLength, g.valueHeadSize])),
            ValueFact(dtype: qType, shape: Shape([g.batch, g.qHeads, g.qLength, g.totalLength])),
        ]
        return Array(facts.prefix(outputCount))
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard !hasModifiers, let g = try? geometry(inputs),
              let n = Shape([g.batch, g.qHeads, g.qLength, g.totalLength, g.headSize, g.valueHeadSize]).values,
              let scores = Count.product(n[0], n[1], n[2], n[3]), let sizes = SequenceModels.total([n[4], n[5]]),
              let macs = Count.product(scores, sizes) else { return nil }
        let bias = masked || inputs[input: 3] != nil
        let perScore = 1 + 5 + (bias ? 1 : 0) + (softcapped ? 3 : 0)
        guard let elementwise = Count.product(scores, perScore) else { return nil }
        return .multiplyAccumulate(macs, plus: elementwise)
    }

    /// Queries, keys, values, masks and caches are activations, never learned weights.
    public func holdsParameters(input index: Int) -> Bool { false }
}

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

/// `RotaryEmbedding` (opset 23): rotates pairs of each head's leading `rotary_embedding_dim` features by position-dependent angles.
///
/// Each rotated pair costs 4 multiplications and 2 additions: 3 FLOPs per
/// rotated element; features past `rotary_embedding_dim` are copied.
public struct RotaryEmbedding: OpSchema {
    /// `num_heads`, required for a 3-D input.
    public let numHeads: Int?
    /// 0 rotates the whole head.
    public let rotaryDim: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        numHeads = try reader.int("num_heads")
        if let numHeads, numHeads <= 0 { throw reader.error("num_heads must be positive, got \(numHeads)") }
        rotaryDim = try reader.int("rotary_embedding_dim", default: 0)
        guard rotaryDim >= 0, rotaryDim % 2 == 0 else { throw reader.error("rotary_embedding_dim must be even and non-negative, got \(rotaryDim)") }
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

/// `CausalConvWithState` (opset 27): depthwise causal 1-D convolution that carries its last k − 1 inputs as state.
///
/// MACs = B · C · L · k; the bias adds 1 FLOP per output element and the
/// SiLU/Swish activation 5.
public struct CausalConvWithState: OpSchema {
    /// `activation`: silu, swish or none.
    public let activation: String
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        activation = try reader.string("activation", default: "none")
        guard ["silu", "swish", "none"].contains(activation) else { throw reader.error("unknown activation '\(activation)'") }
        try reader.expectInputs(2...4)
    }

    /// Batch, channels, length and kernel size.
    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> (batch: Dim, channels: Dim, length: Dim, kernel: Dim) {
        let same = SequenceModels.same
        var batch = Dim.unknown, channels = Dim.unknown, length = Dim.unknown, kernel = Dim.unknown
        if let x = inputs[input: 0]?.shape {
            guard x.rank == 3 else { throw reader.error("input must have rank 3, got \(x.rank)") }
            (batch, channels, length) = (x.dims[0], x.dims[1], x.dims[2])
        }
        if let w = inputs[input: 1]?.shape {
            guard w.rank == 3 else { throw reader.error("weight must have rank 3, got \(w.rank)") }
            channels = try same(channels, w.dims[0], "channel count", reader)
            _ = try same(w.dims[1], .known(1), "weight's second dimension", reader)
            kernel = w.dims[2]
        }
        if let b = inputs[input: 2]?.shape {
            guard b.rank == 1 else { throw reader.error("bias must have rank 1, got \(b.rank)") }
            channels = try same(channels, b.dims[0], "channel count", reader)
        }
        if let s = inputs[input: 3]?.shape {
            guard s.rank == 3 else { throw reader.error("past_state must have rank 3, got \(s.rank)") }
            batch = try same(batch, s.dims[0], "batch size", reader)
            channels = try same(channels, s.dims[1], "channel count", reader)
            kernel = try same(kernel, s.dims[2] + .known(1), "kernel size", reader)
        }
        if let k = kernel.value, k < 1 { throw reader.error("kernel size must be positive, got \(k)") }
        return (batch, channels, length, kernel)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let (batch, channels, length, kernel) = try geometry(inputs)
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        return [
            ValueFact(dtype: dtype, shape: Shape([batch, channels, length])),
            ValueFact(dtype: dtype, shape: Shape([batch, channels, kernel - .known(1)])),
        ]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (batch, channels, length, kernel) = try? geometry(inputs),
              let n = Shape([batch, channels, length, kernel]).values,
              let count = Count.product(n[0], n[1], n[2]),
              let macs = Count.product(count, n[3]) else { return nil }
        let perElement = (inputs[input: 2] != nil ? 1 : 0) + (activation == "none" ? 0 : 5)
        guard let extra = Count.product(count, perElement) else { return nil }
        return .multiplyAccumulate(macs, plus: extra)
    }

    /// The weight and bias are learned; the input and the carried state are not.
    public func holdsParameters(input index: Int) -> Bool { index == 1 || index == 2 }
}
