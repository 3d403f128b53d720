import ModelCore

/// com.microsoft GroupQueryAttention, float32 (float16 and bfloat16 through
/// float32), as onnxruntime runs it on CPU: query, key and value as
/// (B, S, H·D) and (B, S, Hkv·D), or packed in the query; Q and K rotated
/// first with `do_rotary`; the new keys and values written after each
/// sequence's past into present (B, Hkv, max(T, P), D), zeros elsewhere;
/// then causal attention, with a local window and a softcap when set, over
/// each sequence's `seqlens_k + 1` keys, every Hkv head serving H/Hkv query heads.
///
/// A sequence's past length is 0 on the first prompt (S equal to
/// total_sequence_length) and `seqlens_k + 1 − S` after it. An attention
/// bias, head sinks, a smooth softmax, quantized caches, a sliding window
/// cache and the scores output are refused.
struct GroupQueryAttentionKernel: Kernel {
    let schema: GroupQueryAttention
    static let op = "com.microsoft.GroupQueryAttention"

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let (heads, kvHeads) = (schema.numHeads, schema.kvHeads)
        let query = try floatInput(inputs, 0, "GroupQueryAttention query")
        guard query.shape.count == 3 else { throw ModelError(.invalidGraph, "GroupQueryAttention query must have rank 3, got \(query.shape)") }
        let (batch, length) = (query.shape[0], query.shape[1])
        let packed = optionalInput(inputs, 1) == nil
        let columns = packed ? heads + 2 * kvHeads : heads
        guard query.shape[2] % columns == 0, query.shape[2] > 0 else {
            throw ModelError(.invalidGraph, "GroupQueryAttention query width \(query.shape[2]) does not split into \(columns) heads")
        }
        let headSize = query.shape[2] / columns

        // Q, K and V as separate (B, S, heads·D) float32 tensors; Q and K are copies when they are rotated.
        var q = query, k: EngineTensor, v: EngineTensor
        if packed {
            q = try columnSlice(query, from: 0, width: heads * headSize)
            k = try columnSlice(query, from: heads * headSize, width: kvHeads * headSize)
            v = try columnSlice(query, from: (heads + kvHeads) * headSize, width: kvHeads * headSize)
        } else {
            k = try floatInput(inputs, 1, "GroupQueryAttention key")
            v = try floatInput(inputs, 2, "GroupQueryAttention value")
            for (tensor, name) in [(k, "key"), (v, "value")] where tensor.shape != [batch, length, kvHeads * headSize] {
                throw ModelError(.invalidGraph, "GroupQueryAttention \(name) must be (\(batch), \(length), \(kvHeads * headSize)), got \(tensor.shape)")
            }
        }

        let lengths = try ShapeKernels.integers(try requiredInput(inputs, 5, "GroupQueryAttention seqlens_k"), "GroupQueryAttention seqlens_k")
        let totals = try ShapeKernels.integers(try requiredInput(inputs, 6, "GroupQueryAttention total_sequence_length"),
                                               "GroupQueryAttention total_sequence_length")
        guard lengths.count == batch, totals.count == 1, totals[0] >= length else {
            throw ModelError(.invalidGraph, "GroupQueryAttention seqlens_k must hold \(batch) lengths and total_sequence_length one "
                             + "of at least \(length), got \(lengths.count) and \(totals)")
        }
        let firstPrompt = length == totals[0]
        let pastKey = optionalInput(inputs, 3), pastValue = optionalInput(inputs, 4)
        let pastCapacity = pastKey?.shape.count == 4 ? pastKey!.shape[2] : 0
        for (past, name) in [(pastKey, "past_key"), (pastValue, "past_value")] {
            guard let past else { continue }
            guard past.dtype == .float, past.shape == [batch, kvHeads, pastCapacity, headSize], pastKey != nil, pastValue != nil else {
                throw ModelError(.invalidGraph, "GroupQueryAttention \(name) must be float32 (\(batch), \(kvHeads), P, \(headSize)) beside its pair, got \(past.dtype) \(past.shape)")
            }
        }
        // Each sequence's keys (seqlens_k + 1) and the part of them that is past.
        let capacity = max(totals[0], pastCapacity)
        var spans: [(keys: Int, past: Int)] = []
        for b in 0..<batch {
            let keys = lengths[b] + 1, past = firstPrompt ? 0 : lengths[b] + 1 - length
            guard keys >= 1, keys <= capacity, past >= 0, past <= pastCapacity, past + length <= capacity else {
                throw ModelError(.invalidGraph, "GroupQueryAttention seqlens_k[\(b)] = \(lengths[b]) does not fit \(length) new tokens, "
                                 + "a past of \(pastCapacity) and a total of \(totals[0])")
            }
            spans.append((keys, past))
        }

        if schema.rotary {
            let rotation = try RotaryRotation(cos: try floatInput(inputs, 7, "GroupQueryAttention cos_cache"),
                                              sin: try floatInput(inputs, 8, "GroupQueryAttention sin_cache"),
                                              features: 0, interleaved: schema.rotaryInterleaved, "GroupQueryAttention")
            let ids = try optionalInput(inputs, 9).map { t throws(ModelError) in try ShapeKernels.integers(t, "GroupQueryAttention position_ids") }
            if let ids, ids.count != batch * length {
                throw ModelError(.invalidGraph, "GroupQueryAttention position_ids must hold \(batch * length) positions, got \(ids.count)")
            }
            let position = { (b: Int, t: Int) in ids?[b * length + t] ?? spans[b].past + t }
            if !packed { q = try copy(q) }
            if !packed { k = try copy(k) }
            try rotation.apply(q.floats.baseAddress!, .packed(batch: batch, length: length, heads: heads, headSize: headSize), position: position)
            try rotation.apply(k.floats.baseAddress!, .packed(batch: batch, length: length, heads: kvHeads, headSize: headSize), position: position)
        }

        let presentKey = try present(past: pastKey, new: k, spans: spans, capacity: capacity, headSize: headSize)
        let presentValue = try present(past: pastValue, new: v, spans: spans, capacity: capacity, headSize: headSize)
        let output = try EngineTensor(dtype: .float, shape: [batch, length, heads * headSize])
        let queries = HeadRows.packed(q, rows: length, rowWidth: heads * headSize, width: headSize)
        let results = HeadRows.packed(output, rows: length, rowWidth: heads * headSize, width: headSize)
        let keys = HeadRows.headMajor(presentKey, heads: kvHeads, rows: capacity, width: headSize)
        let values = HeadRows.headMajor(presentValue, heads: kvHeads, rows: capacity, width: headSize)
        // Sequences differ in their number of keys, so each runs on its own.
        for (b, span) in spans.enumerated() {
            let core = ScaledDotProduct(batch: 1, heads: heads, queries: length, keys: span.keys, group: heads / kvHeads,
                                        headSize: headSize, valueHeadSize: headSize,
                                        scale: schema.scale != 0 ? schema.scale : 1 / Float(headSize).squareRoot(),
                                        causal: true, pastLength: span.past, window: schema.localWindow, softcap: schema.softcap)
            try withExtendedLifetime((q, presentKey, presentValue, output)) { () throws(ModelError) in
                try core.run(q: queries.batch(b), k: keys.batch(b), v: values.batch(b), output: results.batch(b), context)
            }
        }
        return [output, presentKey, presentValue, nil]
    }

    /// Columns `from..<from + width` of a (B, S, W) float32 tensor, as (B, S, width).
    private func columnSlice(_ tensor: EngineTensor, from: Int, width: Int) throws(ModelError) -> EngineTensor {
        let (rows, stride) = (tensor.shape[0] * tensor.shape[1], tensor.shape[2])
        let output = try EngineTensor(dtype: .float, shape: [tensor.shape[0], tensor.shape[1], width])
        let (source, target) = (tensor.floats.baseAddress!, output.floats.baseAddress!)
        for r in 0..<rows { (target + r * width).update(from: source + r * stride + from, count: width) }
        return output
    }

    private func copy(_ tensor: EngineTensor) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: .float, shape: tensor.shape)
        output.floats.baseAddress!.update(from: tensor.floats.baseAddress!, count: tensor.count)
        return output
    }

    /// The cache after this step, (B, Hkv, capacity, D): each sequence's past
    /// rows, then its new ones (B, S, Hkv·D), zeros after them.
    private func present(past: EngineTensor?, new: EngineTensor, spans: [(keys: Int, past: Int)], capacity: Int,
                         headSize: Int) throws(ModelError) -> EngineTensor {
        let kvHeads = schema.kvHeads, length = new.shape[1]
        let output = try EngineTensor(dtype: .float, shape: [spans.count, kvHeads, capacity, headSize])
        output.floats.initialize(repeating: 0)
        let to = HeadRows.headMajor(output, heads: kvHeads, rows: capacity, width: headSize)
        let from = HeadRows.packed(new, rows: length, rowWidth: kvHeads * headSize, width: headSize)
        let pastCapacity = past?.shape[2] ?? 0
        for (b, span) in spans.enumerated() {
            for h in 0..<kvHeads {
                if let past, span.past > 0 {
                    let rows = past.floats.baseAddress! + (b * kvHeads + h) * pastCapacity * headSize
                    to.row(b, h, 0).update(from: rows, count: span.past * headSize)
                }
                for s in 0..<length { to.row(b, h, span.past + s).update(from: from.row(b, h, s), count: headSize) }
            }
        }
        return output
    }
}

extension HeadRows {
    /// The rows of batch `b` alone, as batch 0.
    func batch(_ b: Int) -> HeadRows {
        HeadRows(base: base + b * batchStride, batchStride: batchStride, headStride: headStride, rowStride: rowStride)
    }
}

extension GroupQueryAttention: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        let unsupported: String? = if windowCache { "a sliding window cache" }
            else if smoothSoftmax { "a smooth softmax" }
            else if setup.node.inputs.count > 10 && setup.node.inputs[10...].contains(where: { !$0.isEmpty }) {
                "an attention bias, head sinks, cache scales or Q/K norms"
            }
            else if setup.node.outputs.count > 3 && !setup.node.outputs[3].isEmpty { "the scores output" }
            else { nil }
        if let unsupported {
            throw ModelError(.unsupported(op: GroupQueryAttentionKernel.op, dtype: nil), "the engine runs GroupQueryAttention without \(unsupported)")
        }
        return try HalfPrecision(GroupQueryAttentionKernel(schema: self), setup)
    }
}
