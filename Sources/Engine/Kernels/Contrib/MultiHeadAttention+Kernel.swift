import ModelCore

/// com.microsoft MultiHeadAttention, float32: query, key and value as
/// (B, S, H·D) with the projection's bias, Q/K/V packed (B, S, H, 3, D), K/V
/// packed (B, L, H, 2, D), or key and value already split into heads
/// (B, H, L, D); past_key and past_value extended into the present outputs;
/// then the scaled dot-product. A shared cache buffer, cache indirection and
/// the scores output are refused.
struct MultiHeadAttentionKernel: Kernel {
    let schema: MultiHeadAttention
    /// Whether the node asks for present_key and present_value.
    let wantsPresent: Bool

    /// `tensor` + `bias[start..<start + width]`, float32, when the node has a bias.
    private func biased(_ tensor: EngineTensor, _ bias: EngineTensor?, start: Int, width: Int, _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        guard let bias else { return tensor }
        let part = try copiedFloats(bias, from: start, count: width, shape: [width])
        return try broadcastBinary(tensor, part, .float, context) { (a: Float, b: Float) in a + b }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let heads = schema.numHeads
        let query = try floatInput(inputs, 0, "MultiHeadAttention query")
        let bias = optionalInput(inputs, 3)
        if let bias, bias.dtype != .float || bias.shape.count != 1 {
            throw ModelError(.invalidGraph, "MultiHeadAttention bias must be a float32 vector, got \(bias.dtype) \(bias.shape)")
        }
        guard optionalInput(inputs, 8) == nil, optionalInput(inputs, 9) == nil else {
            throw ModelError(.unsupported(op: "com.microsoft.MultiHeadAttention", dtype: nil),
                             "the engine runs MultiHeadAttention without past_sequence_length and cache_indirection")
        }
        let batch = query.shape.first ?? 0, length = query.shape.count > 1 ? query.shape[1] : 0
        var q: HeadRows, k: HeadRows, v: HeadRows
        var headSize: Int, valueHeadSize: Int, keyLength: Int
        var splitKeys = false
        // Tensors the rows point into, kept alive until the products are done.
        var held: [EngineTensor] = []
        switch query.shape.count {
        case 5:
            guard query.shape[2] == heads, query.shape[3] == 3, bias == nil else {
                throw ModelError(.invalidGraph, "MultiHeadAttention packed Q/K/V must be (B, S, \(heads), 3, D) without bias, got \(query.shape)")
            }
            headSize = query.shape[4]
            (valueHeadSize, keyLength) = (headSize, length)
            let rowWidth = heads * 3 * headSize
            q = HeadRows(base: query.floats.baseAddress!, batchStride: length * rowWidth, headStride: 3 * headSize, rowStride: rowWidth)
            k = HeadRows(base: q.base + headSize, batchStride: q.batchStride, headStride: q.headStride, rowStride: rowWidth)
            v = HeadRows(base: q.base + 2 * headSize, batchStride: q.batchStride, headStride: q.headStride, rowStride: rowWidth)
        case 3:
            let hidden = query.shape[2]
            guard hidden % heads == 0 else { throw ModelError(.invalidGraph, "MultiHeadAttention query width \(hidden) is not a multiple of \(heads) heads") }
            headSize = hidden / heads
            let projected = try biased(query, bias, start: 0, width: hidden, context)
            held.append(projected)
            q = HeadRows.packed(projected, rows: length, rowWidth: hidden, width: headSize)
            let key = try floatInput(inputs, 1, "MultiHeadAttention key")
            guard key.shape.first == batch else { throw ModelError(.invalidGraph, "MultiHeadAttention key \(key.shape) does not match query \(query.shape)") }
            switch key.shape.count {
            case 5:
                guard key.shape[2] == heads, key.shape[3] == 2, key.shape[4] == headSize, bias == nil else {
                    throw ModelError(.invalidGraph, "MultiHeadAttention packed K/V must be (B, L, \(heads), 2, \(headSize)) without bias, got \(key.shape)")
                }
                (valueHeadSize, keyLength) = (headSize, key.shape[1])
                let rowWidth = heads * 2 * headSize
                k = HeadRows(base: key.floats.baseAddress!, batchStride: keyLength * rowWidth, headStride: 2 * headSize, rowStride: rowWidth)
                v = HeadRows(base: k.base + headSize, batchStride: k.batchStride, headStride: k.headStride, rowStride: rowWidth)
            case 3, 4:
                let value = try floatInput(inputs, 2, "MultiHeadAttention value")
                splitKeys = key.shape.count == 4
                let dims = splitKeys ? (heads: key.shape[1], length: key.shape[2], width: key.shape[3])
                    : (heads: heads, length: key.shape[1], width: key.shape[2] / heads)
                keyLength = dims.length
                guard dims.heads == heads, dims.width == headSize, value.shape.count == key.shape.count, value.shape[0] == batch,
                      value.shape[splitKeys ? 2 : 1] == keyLength, !splitKeys || value.shape[1] == heads,
                      splitKeys || value.shape[2] % heads == 0 else {
                    throw ModelError(.invalidGraph, "MultiHeadAttention key \(key.shape) and value \(value.shape) do not fit query \(query.shape) and \(heads) heads")
                }
                if splitKeys {
                    valueHeadSize = value.shape[3]
                    k = HeadRows.headMajor(key, heads: heads, rows: keyLength, width: headSize)
                    v = HeadRows.headMajor(value, heads: heads, rows: keyLength, width: valueHeadSize)
                    held += [key, value]
                } else {
                    valueHeadSize = value.shape[2] / heads
                    let keyHidden = key.shape[2], valueHidden = value.shape[2]
                    if let bias, bias.count != hidden + keyHidden + valueHidden {
                        throw ModelError(.invalidGraph, "MultiHeadAttention bias holds \(bias.count) values, not \(hidden + keyHidden + valueHidden)")
                    }
                    let keys = try biased(key, bias, start: hidden, width: keyHidden, context)
                    let values = try biased(value, bias, start: hidden + keyHidden, width: valueHidden, context)
                    held += [keys, values]
                    k = HeadRows.packed(keys, rows: keyLength, rowWidth: keyHidden, width: headSize)
                    v = HeadRows.packed(values, rows: keyLength, rowWidth: valueHidden, width: valueHeadSize)
                }
            default:
                throw ModelError(.invalidGraph, "MultiHeadAttention key must have rank 3, 4 or 5, got \(key.shape)")
            }
        default:
            throw ModelError(.invalidGraph, "MultiHeadAttention query must have rank 3 or 5, got \(query.shape)")
        }

        var pastLength = 0
        var presentKey: EngineTensor?, presentValue: EngineTensor?
        let pastKey = splitKeys ? nil : optionalInput(inputs, 6), pastValue = splitKeys ? nil : optionalInput(inputs, 7)
        if !splitKeys && (pastKey != nil || wantsPresent) {
            for (past, width, name) in [(pastKey, headSize, "past_key"), (pastValue, valueHeadSize, "past_value")] {
                guard let past else { continue }
                guard past.dtype == .float, past.shape.count == 4, past.shape[0] == batch, past.shape[1] == heads, past.shape[3] == width,
                      past.shape[2] == pastKey?.shape[2], pastValue != nil else {
                    throw ModelError(.invalidGraph, "MultiHeadAttention \(name) must be float32 (\(batch), \(heads), P, \(width)) beside its pair, got \(past.dtype) \(past.shape)")
                }
            }
            pastLength = pastKey?.shape[2] ?? 0
            let keys = try appendedCache(past: pastKey, new: k, batch: batch, heads: heads, length: keyLength, width: headSize)
            let values = try appendedCache(past: pastValue, new: v, batch: batch, heads: heads, length: keyLength, width: valueHeadSize)
            k = HeadRows.headMajor(keys, heads: heads, rows: pastLength + keyLength, width: headSize)
            v = HeadRows.headMajor(values, heads: heads, rows: pastLength + keyLength, width: valueHeadSize)
            (presentKey, presentValue) = (keys, values)
        }
        let total = pastLength + keyLength
        var core = ScaledDotProduct(batch: batch, heads: heads, queries: length, keys: total, headSize: headSize, valueHeadSize: valueHeadSize,
                                    scale: schema.scale != 0 ? schema.scale : 1 / Float(headSize).squareRoot(),
                                    causal: schema.unidirectional, pastLength: pastLength)
        if let mask = optionalInput(inputs, 4) {
            let additive = try additiveMask(mask, batch: batch, queries: length, keys: total, filter: schema.maskFilterValue, "MultiHeadAttention")
            core.terms.append(try ScoreTerm(additive, batch: batch, heads: heads, queries: length, keys: total, "MultiHeadAttention key_padding_mask"))
        }
        if let attentionBias = optionalInput(inputs, 5) {
            core.terms.append(try ScoreTerm(attentionBias, batch: batch, heads: heads, queries: length, keys: total, "MultiHeadAttention attention_bias"))
        }
        let output = try EngineTensor(dtype: .float, shape: [batch, length, heads * valueHeadSize])
        try withExtendedLifetime((held, presentKey, presentValue, query)) { () throws(ModelError) in
            try core.run(q: q, k: k, v: v, output: HeadRows.packed(output, rows: length, rowWidth: heads * valueHeadSize, width: valueHeadSize), context)
        }
        return [output, presentKey, presentValue, nil]
    }
}

extension MultiHeadAttention: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        let outputs = setup.node.outputs
        if outputs.count > 3 && !outputs[3].isEmpty {
            throw ModelError(.unsupported(op: "com.microsoft.MultiHeadAttention", dtype: nil), "the engine does not write MultiHeadAttention's scores output")
        }
        return MultiHeadAttentionKernel(schema: self, wantsPresent: outputs.count > 1 && outputs.dropFirst().contains { !$0.isEmpty })
    }
}
