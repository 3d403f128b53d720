import ModelCore

/// com.microsoft Attention, float32: the packed Q/K/V projection through the
/// batched product, its bias, the cache `past` (2, B, H, P, D) extended into
/// `present`, then the scaled dot-product. Rotary embedding and a shared
/// past/present buffer are refused.
struct ProjectedAttentionKernel: Kernel {
    let schema: ProjectedAttention
    /// Whether the node asks for `present`.
    let wantsPresent: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "Attention input"), weights = try floatInput(inputs, 1, "Attention weights")
        guard x.shape.count == 3, weights.shape.count == 2, weights.shape[0] == x.shape[2] else {
            throw ModelError(.invalidGraph, "Attention needs input (B, S, E) and weights (E, width), got \(x.shape) and \(weights.shape)")
        }
        let (batch, length, width) = (x.shape[0], x.shape[1], weights.shape[1])
        let heads = schema.numHeads
        let sizes = schema.hiddenSizes ?? [width / 3, width / 3, width / 3]
        guard sizes.reduce(0, +) == width, sizes.allSatisfy({ $0 > 0 && $0 % heads == 0 }), sizes[0] == sizes[1] else {
            throw ModelError(.invalidGraph, "Attention weights' width \(width) does not split into Q, K and V of \(heads) heads")
        }
        let (headSize, valueHeadSize) = (sizes[0] / heads, sizes[2] / heads)
        var qkv = try batchedProduct(x, weights, context)
        if let bias = optionalInput(inputs, 2) {
            guard bias.dtype == .float, bias.shape == [width] else { throw ModelError(.invalidGraph, "Attention bias must be float32 (\(width)), got \(bias.dtype) \(bias.shape)") }
            qkv = try broadcastBinary(qkv, bias, .float, context) { (a: Float, b: Float) in a + b }
        }
        let q = HeadRows.packed(qkv, rows: length, rowWidth: width, width: headSize)
        var k = HeadRows.packed(qkv, offset: sizes[0], rows: length, rowWidth: width, width: headSize)
        var v = HeadRows.packed(qkv, offset: 2 * sizes[0], rows: length, rowWidth: width, width: valueHeadSize)

        var pastLength = 0, present: EngineTensor?
        let past = optionalInput(inputs, 4)
        if past != nil || wantsPresent {
            guard headSize == valueHeadSize else { throw ModelError(.invalidGraph, "Attention with a cache needs Q, K and V of one size") }
            var halves: [EngineTensor?] = [nil, nil]
            if let past {
                guard past.dtype == .float, past.shape.count == 5, past.shape[0] == 2, past.shape[1] == batch, past.shape[2] == heads,
                      past.shape[4] == headSize else {
                    throw ModelError(.invalidGraph, "Attention past must be float32 (2, \(batch), \(heads), P, \(headSize)), got \(past.dtype) \(past.shape)")
                }
                pastLength = past.shape[3]
                let half = batch * heads * pastLength * headSize
                halves = [EngineTensor(dtype: .float, shape: Array(past.shape.dropFirst()), buffer: past.buffer),
                          try copiedFloats(past, from: half, count: half, shape: Array(past.shape.dropFirst()))]
            }
            let keys = try appendedCache(past: halves[0], new: k, batch: batch, heads: heads, length: length, width: headSize)
            let values = try appendedCache(past: halves[1], new: v, batch: batch, heads: heads, length: length, width: headSize)
            let total = pastLength + length
            let joined = try EngineTensor(dtype: .float, shape: [2] + keys.shape)
            joined.floats.baseAddress!.update(from: keys.floats.baseAddress!, count: keys.count)
            (joined.floats.baseAddress! + keys.count).update(from: values.floats.baseAddress!, count: values.count)
            k = HeadRows.headMajor(joined, heads: heads, rows: total, width: headSize)
            v = HeadRows.headMajor(joined, offset: keys.count, heads: heads, rows: total, width: headSize)
            present = joined
        }
        let total = pastLength + length
        var core = ScaledDotProduct(batch: batch, heads: heads, queries: length, keys: total, headSize: headSize, valueHeadSize: valueHeadSize,
                                    scale: schema.scale != 0 ? schema.scale : 1 / Float(headSize).squareRoot(),
                                    causal: schema.unidirectional, pastLength: pastLength)
        if let mask = optionalInput(inputs, 3) {
            let additive = try additiveMask(mask, batch: batch, queries: length, keys: total, filter: schema.maskFilterValue, "Attention")
            core.terms.append(try ScoreTerm(additive, batch: batch, heads: heads, queries: length, keys: total, "Attention mask"))
        }
        if let bias = optionalInput(inputs, 5) {
            core.terms.append(try ScoreTerm(bias, batch: batch, heads: heads, queries: length, keys: total, "Attention attention_bias"))
        }
        let output = try EngineTensor(dtype: .float, shape: [batch, length, heads * valueHeadSize])
        // The rows point into qkv and present, which must outlive the products.
        try withExtendedLifetime((qkv, present)) { () throws(ModelError) in
            try core.run(q: q, k: k, v: v, output: HeadRows.packed(output, rows: length, rowWidth: heads * valueHeadSize, width: valueHeadSize), context)
        }
        return [output, wantsPresent ? present : nil]
    }
}

/// `count` float32 elements of `tensor` from element `start`, as a new tensor of `shape`.
func copiedFloats(_ tensor: EngineTensor, from start: Int, count: Int, shape: [Int]) throws(ModelError) -> EngineTensor {
    let output = try EngineTensor(dtype: .float, shape: shape)
    guard start >= 0, count == output.count, start + count <= tensor.count else {
        throw ModelError(.internal, "internal: copying \(count) elements from \(start) of \(tensor.count)")
    }
    output.floats.baseAddress!.update(from: tensor.floats.baseAddress! + start, count: count)
    return output
}

extension ProjectedAttention: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        guard rotaryDim == nil, !sharedBuffer else {
            throw ModelError(.unsupported(op: "com.microsoft.Attention", dtype: nil),
                             "the engine runs com.microsoft.Attention without do_rotary and past_present_share_buffer")
        }
        let outputs = setup.node.outputs
        return ProjectedAttentionKernel(schema: self, wantsPresent: outputs.count > 1 && !outputs[1].isEmpty)
    }
}
