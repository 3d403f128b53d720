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
    /// `scale`; `nil` means 1/√(head size).
    public let scale: Float?
    /// `is_causal`: a query attends the keys up to its own position (counted after the cache).
    public let isCausal: Bool
    /// `softcap`; 0 or less leaves the scores uncapped.
    public let softcap: Float
    /// `qk_matmul_output_mode`: which stage of the scores the fourth output shows.
    public let qkOutputMode: Int
    /// `left_window_size` and `right_window_size` (opset 25); −1 leaves a side open.
    public let leftWindow: Int, rightWindow: Int
    /// FlexAttention: 4-D inputs only, modifier subgraphs instead of masks.
    public let flexible: Bool
    let hasModifiers: Bool
    /// Causal masking or a sliding window adds a bias to every score.
    let masked: Bool
    let softcapped: Bool
    /// How many outputs the node asks for (Y, present key and value, the scores).
    public let outputCount: Int
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
        scale = node.attribute("scale") == nil ? nil : try reader.float("scale", default: 0)
        let mode = try reader.int("qk_matmul_output_mode", default: 0)
        guard (0...3).contains(mode) else { throw reader.error("qk_matmul_output_mode must be 0 to 3, got \(mode)") }
        qkOutputMode = mode
        if let precision = try reader.int("softmax_precision"), ![1, 10, 11, 16].contains(precision) {
            throw reader.error("softmax_precision \(precision) is not a floating-point type")
        }
        isCausal = try reader.int("is_causal", default: 0) != 0
        leftWindow = try reader.int("left_window_size", default: -1)
        rightWindow = try reader.int("right_window_size", default: -1)
        guard leftWindow >= -1, rightWindow >= -1 else {
            throw reader.error("window sizes must be -1 or non-negative, got \(leftWindow) and \(rightWindow)")
        }
        masked = isCausal || leftWindow >= 0 || rightWindow >= 0
        softcap = try reader.float("softcap", default: 0)
        softcapped = softcap != 0
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
