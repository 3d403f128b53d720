/// The scaled dot-product core that onnxruntime's attention operators
/// (`Attention`, `MultiHeadAttention`, `GroupQueryAttention`) share, counted
/// as the standard `Attention` counts it: MACs = B · H · S · T · (D + Dv) for
/// Q·Kᵀ and softmax(Q·Kᵀ)·V, and per score (B · H · S · T of them) 1 FLOP for
/// the scale, 5 for the softmax, 1 when a mask, causal mask or bias is added,
/// 3 for a softcap. Masked scores are counted too.
struct AttentionCore {
    /// B, H (query heads), S (query length), T (key length, past included).
    var batch: Dim, heads: Dim, queries: Dim, keys: Dim
    /// D (query and key head size) and Dv (value head size).
    var headSize: Dim, valueHeadSize: Dim
    var masked: Bool
    var softcapped = false

    /// The core's cost with `macs` and `flops` of the surrounding work added; `nil` when a size is unknown or on overflow.
    func cost(plusMACs macs: Int = 0, plusFLOPs flops: Int = 0) -> OpCost? {
        guard let n = Shape([batch, heads, queries, keys, headSize, valueHeadSize]).values,
              let scores = Count.product(n[0], n[1], n[2], n[3]), let sizes = SequenceModels.total([n[4], n[5]]),
              let products = Count.product(scores, sizes), let allMACs = SequenceModels.total([products, macs]) else { return nil }
        let perScore = 1 + 5 + (masked ? 1 : 0) + (softcapped ? 3 : 0)
        guard let elementwise = Count.product(scores, perScore), let extra = SequenceModels.total([elementwise, flops]) else { return nil }
        return .multiplyAccumulate(allMACs, plus: extra)
    }
}

/// The attributes that onnxruntime's Attention and MultiHeadAttention share,
/// read once for both: `num_heads` (required, positive), `scale` (0 means
/// 1/√(head size)), `mask_filter_value` (default −10000) and `unidirectional`.
struct SharedAttentionAttributes {
    let numHeads: Int
    let scale: Float
    let maskFilterValue: Float
    let unidirectional: Bool

    init(_ reader: AttributeReader) throws(ModelError) {
        guard let heads = try reader.int("num_heads"), heads > 0 else { throw reader.error("num_heads must be given and positive") }
        numHeads = heads
        scale = try reader.float("scale", default: 0)
        maskFilterValue = try reader.float("mask_filter_value", default: -10_000)
        unidirectional = try reader.int("unidirectional", default: 0) != 0
    }
}
