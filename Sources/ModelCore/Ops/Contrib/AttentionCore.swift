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
