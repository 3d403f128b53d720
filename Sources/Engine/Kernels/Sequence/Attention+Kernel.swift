#if canImport(Glibc)
import Glibc
#endif
internal import CKernels
import ModelCore

/// The sizes of one Attention call, checked against each other once.
///
/// Q is read in place whether it is 3-D (batch, length, heads · size) or 4-D
/// (batch, heads, length, size): a head's rows are `qRowStride` elements
/// apart, which `ck_sgemm` takes as its leading dimension. Y is written the
/// same way. Keys and values are first assembled into the present cache
/// (batch, kv heads, past + new, size), which is both an output and the
/// contiguous operand of the products.
struct AttentionShape {
    let rank: Int
    let batch: Int, qHeads: Int, kvHeads: Int
    let qLength: Int, kvLength: Int, pastLength: Int
    let headSize: Int, valueHeadSize: Int

    var totalLength: Int { pastLength + kvLength }
    /// Elements between consecutive rows of one head of Q (`headSize` wide) or Y (`valueHeadSize` wide).
    func rowStride(_ size: Int, heads: Int) -> Int { rank == 4 ? size : heads * size }
    /// Where head `h` of batch item `b` starts in a tensor laid out like Q (or like Y, K, V).
    func headStart(_ b: Int, _ h: Int, heads: Int, length: Int, size: Int) -> Int {
        rank == 4 ? (b * heads + h) * length * size : b * length * heads * size + h * size
    }

    init(q: EngineTensor, k: EngineTensor, v: EngineTensor, past: (EngineTensor, EngineTensor)?,
         qHeads: Int?, kvHeads: Int?) throws(ModelError) {
        rank = q.shape.count
        guard rank == 3 || rank == 4 else { throw ModelError(.invalidGraph, "Attention: Q must have rank 3 or 4, got \(q.shape)") }
        guard k.shape.count == rank, v.shape.count == rank else {
            throw ModelError(.invalidGraph, "Attention: Q \(q.shape), K \(k.shape) and V \(v.shape) must have one rank")
        }
        batch = q.shape[0]
        qLength = q.shape[rank - 2]
        kvLength = k.shape[rank - 2]
        if rank == 4 {
            (self.qHeads, self.kvHeads) = (q.shape[1], k.shape[1])
            (headSize, valueHeadSize) = (q.shape[3], v.shape[3])
            guard k.shape[3] == headSize, v.shape[1] == self.kvHeads else {
                throw ModelError(.invalidGraph, "Attention: K \(k.shape) and V \(v.shape) do not match Q \(q.shape)")
            }
        } else {
            guard let qHeads, let kvHeads, qHeads > 0, kvHeads > 0 else {
                throw ModelError(.invalidGraph, "Attention: 3-D inputs need positive q_num_heads and kv_num_heads")
            }
            guard q.shape[2] % qHeads == 0, k.shape[2] % kvHeads == 0, v.shape[2] % kvHeads == 0 else {
                throw ModelError(.invalidGraph, "Attention: hidden sizes of Q \(q.shape), K \(k.shape), V \(v.shape) do not split into \(qHeads) and \(kvHeads) heads")
            }
            (self.qHeads, self.kvHeads) = (qHeads, kvHeads)
            (headSize, valueHeadSize) = (q.shape[2] / qHeads, v.shape[2] / kvHeads)
            guard k.shape[2] / kvHeads == headSize else {
                throw ModelError(.invalidGraph, "Attention: K's head size \(k.shape[2] / kvHeads) differs from Q's \(headSize)")
            }
        }
        guard k.shape[0] == batch, v.shape[0] == batch, v.shape[rank - 2] == kvLength else {
            throw ModelError(.invalidGraph, "Attention: K \(k.shape) and V \(v.shape) do not match Q \(q.shape) in batch or length")
        }
        guard self.kvHeads > 0, self.qHeads % self.kvHeads == 0 else {
            throw ModelError(.invalidGraph, "Attention: \(self.qHeads) query heads cannot share \(self.kvHeads) key/value heads")
        }
        if let (pastKey, pastValue) = past {
            pastLength = pastKey.shape.count == 4 ? pastKey.shape[2] : -1
            guard pastKey.shape == [batch, self.kvHeads, pastLength, headSize],
                  pastValue.shape == [batch, self.kvHeads, pastLength, valueHeadSize] else {
                throw ModelError(.invalidGraph, "Attention: past_key \(pastKey.shape) and past_value \(pastValue.shape) do not match K and V")
            }
        } else {
            pastLength = 0
        }
    }
}

/// The additive bias of one score row: attn_mask (padded with −∞ past its
/// last column), the causal and sliding-window frontiers offset by the keys
/// before the query block, and the padding of `nonpad_kv_seqlen`.
struct AttentionBias {
    /// The float mask as given, or a bool mask turned into 0 / −∞.
    let mask: [Float]?
    /// Per (batch, head, query row), the mask's strides (0 where broadcast), and its last dimension.
    let maskStrides: SIMD4<Int>
    let maskColumns: Int
    let causal: Bool
    let leftWindow: Int, rightWindow: Int
    /// Valid keys per batch item, when `nonpad_kv_seqlen` is given.
    let validKeys: [Int]?
    let pastLength: Int, qLength: Int

    var isEmpty: Bool { mask == nil && !causal && leftWindow < 0 && rightWindow < 0 && validKeys == nil }

    init(mask tensor: EngineTensor?, shape: AttentionShape, causal: Bool, leftWindow: Int, rightWindow: Int,
         validKeys: [Int]?) throws(ModelError) {
        (self.causal, self.leftWindow, self.rightWindow) = (causal, leftWindow, rightWindow)
        (self.validKeys, pastLength, qLength) = (validKeys, shape.pastLength, shape.qLength)
        guard let tensor else {
            (mask, maskStrides, maskColumns) = (nil, .zero, 0)
            return
        }
        let dims = tensor.shape
        guard (1...4).contains(dims.count) else { throw ModelError(.invalidGraph, "Attention: attn_mask must have rank 1 to 4, got \(dims)") }
        let full = Array(repeating: 1, count: 4 - dims.count) + dims
        let target = [shape.batch, shape.qHeads, shape.qLength]
        var strides = SIMD4<Int>.zero, running = full[3]
        for axis in stride(from: 2, through: 0, by: -1) {
            guard full[axis] == 1 || full[axis] == target[axis] else {
                throw ModelError(.invalidGraph, "Attention: attn_mask \(dims) does not broadcast to \(target + [shape.totalLength])")
            }
            strides[axis] = full[axis] == 1 ? 0 : running
            running *= full[axis]
        }
        guard full[3] <= shape.totalLength else {
            throw ModelError(.invalidGraph, "Attention: attn_mask has \(full[3]) columns for \(shape.totalLength) keys")
        }
        (maskStrides, maskColumns) = (strides, full[3])
        if tensor.dtype == .bool {
            let flags = tensor.elements(UInt8.self)
            mask = flags.map { $0 != 0 ? 0 : -Float.infinity }
        } else {
            mask = try realValues(tensor).map { Float($0) }
        }
    }

    /// Adds the bias of query row `i` of (batch `b`, head `h`) to `row`; true when every key is masked.
    func apply(_ row: UnsafeMutablePointer<Float>, columns: Int, b: Int, h: Int, i: Int) -> Bool {
        let offset = validKeys.map { $0[b] - qLength } ?? pastLength
        let limit = validKeys?[b] ?? columns
        let start = mask == nil ? 0 : b * maskStrides[0] + h * maskStrides[1] + i * maskStrides[2]
        var allMasked = true
        for j in 0..<columns {
            var bias: Float = 0
            if let mask { bias = j < maskColumns ? mask[start + j] : -.infinity }
            let position = i + offset
            if causal && j > position { bias += -.infinity }
            if leftWindow >= 0 && position - j > leftWindow { bias += -.infinity }
            if rightWindow >= 0 && j - position > rightWindow { bias += -.infinity }
            if j >= limit { bias += -.infinity }
            if bias != -.infinity { allMasked = false }
            row[j] += bias
        }
        return allMasked
    }
}

/// Attention (opset 23–25) in float32: scores = scale · Q·Kᵀ per head (a
/// query head reads key/value head h / (Hq / Hkv)), then softcap, bias,
/// softmax and ·V. float16 and bfloat16 inputs are widened to float32 and
/// the outputs narrowed back. The products go through `ck_sgemm`, one head
/// per work item.
struct AttentionKernel: Kernel {
    let schema: Attention

    /// The present cache of one of K or V: the past rows of each head, then the new ones.
    static func present(past: EngineTensor?, new: EngineTensor, _ shape: AttentionShape, size: Int) throws(ModelError) -> EngineTensor {
        let (heads, total) = (shape.kvHeads, shape.totalLength)
        let output = try EngineTensor(dtype: .float, shape: [shape.batch, heads, total, size])
        let (to, from) = (output.floats.baseAddress!, new.floats.baseAddress!)
        let stride = shape.rowStride(size, heads: heads)
        for b in 0..<shape.batch {
            for h in 0..<heads {
                let head = to + (b * heads + h) * total * size
                if let past {
                    head.update(from: past.floats.baseAddress! + (b * heads + h) * shape.pastLength * size, count: shape.pastLength * size)
                }
                let source = from + shape.headStart(b, h, heads: heads, length: shape.kvLength, size: size)
                for s in 0..<shape.kvLength {
                    (head + (shape.pastLength + s) * size).update(from: source + s * stride, count: size)
                }
            }
        }
        return output
    }

    /// Softmax of one row in place; a row whose bias masks every key becomes zeros.
    static func softmax(_ row: UnsafeMutablePointer<Float>, columns: Int, allMasked: Bool) {
        if allMasked {
            row.update(repeating: 0, count: columns)
            return
        }
        var largest = -Float.infinity
        for j in 0..<columns where row[j] > largest { largest = row[j] }
        if largest == -.infinity { largest = 0 }
        var sum: Float = 0
        for j in 0..<columns {
            row[j] = expf(row[j] - largest)
            sum += row[j]
        }
        let inverse = 1 / (sum == 0 ? 1 : sum)
        for j in 0..<columns { row[j] *= inverse }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let q = try requiredInput(inputs, 0, "Attention input Q"), k = try requiredInput(inputs, 1, "Attention input K")
        let v = try requiredInput(inputs, 2, "Attention input V")
        let dtype = q.dtype
        guard [.float, .float16, .bfloat16, .double].contains(dtype) else {
            throw ModelError(.unsupported(op: nil, dtype: dtype), "Attention runs float, float16, bfloat16 and double, not \(dtype)")
        }
        let pastKey = optionalInput(inputs, 4), pastValue = optionalInput(inputs, 5)
        guard (pastKey == nil) == (pastValue == nil) else { throw ModelError(.invalidGraph, "Attention: past_key and past_value come together") }
        try requireSameType([q, k, v] + [pastKey, pastValue].compactMap { $0 }, "Attention")
        let wide = { (x: EngineTensor) throws(ModelError) -> EngineTensor in try castTensor(x, to: .float, context: context) }
        let (qf, kf, vf) = (try wide(q), try wide(k), try wide(v))
        let past = try pastKey.map { pk throws(ModelError) in (try wide(pk), try wide(pastValue ?? pk)) }
        let shape = try AttentionShape(q: qf, k: kf, v: vf, past: past, qHeads: schema.qHeads, kvHeads: schema.kvHeads)
        var validKeys: [Int]?
        if let lengths = optionalInput(inputs, 6) {
            guard past == nil else { throw ModelError(.invalidGraph, "Attention: nonpad_kv_seqlen cannot come with past_key") }
            let values = try ShapeKernels.integers(lengths, "Attention nonpad_kv_seqlen")
            guard values.count == shape.batch else {
                throw ModelError(.invalidGraph, "Attention: nonpad_kv_seqlen has \(values.count) values for a batch of \(shape.batch)")
            }
            validKeys = values
        }
        let bias = try AttentionBias(mask: optionalInput(inputs, 3), shape: shape, causal: schema.isCausal,
                                     leftWindow: schema.leftWindow, rightWindow: schema.rightWindow, validKeys: validKeys)
        let presentKey = try Self.present(past: past?.0, new: kf, shape, size: shape.headSize)
        let presentValue = try Self.present(past: past?.1, new: vf, shape, size: shape.valueHeadSize)
        let (sq, total) = (shape.qLength, shape.totalLength)
        let yShape = shape.rank == 4 ? [shape.batch, shape.qHeads, sq, shape.valueHeadSize] : [shape.batch, sq, shape.qHeads * shape.valueHeadSize]
        let y = try EngineTensor(dtype: .float, shape: yShape)
        let wantsScores = schema.outputCount > 3
        let scores = wantsScores ? try EngineTensor(dtype: .float, shape: [shape.batch, shape.qHeads, sq, total]) : nil
        let items = shape.batch * shape.qHeads, workers = min(context.threads, max(items, 1))
        let scratch = try EngineTensor(dtype: .float, shape: [workers, sq, total])
        let scale = schema.scale ?? 1 / Float(shape.headSize).squareRoot()
        let (softcap, mode, group) = (schema.softcap, schema.qkOutputMode, shape.qHeads / shape.kvHeads)
        let (qBase, kBase, vBase, yBase) = (qf.floats.baseAddress!, presentKey.floats.baseAddress!, presentValue.floats.baseAddress!, y.floats.baseAddress!)
        let scoresBase = scores?.floats.baseAddress, scratchBase = scratch.floats.baseAddress!
        let (d, dv, qStride, yStride) = (shape.headSize, shape.valueHeadSize, shape.rowStride(shape.headSize, heads: shape.qHeads),
                                         shape.rowStride(shape.valueHeadSize, heads: shape.qHeads))
        // The widened Q and the scratch are not used after the loop: keep their memory alive through it.
        withExtendedLifetime((qf, presentKey, presentValue, scratch)) {
            context.parallel(workers) { worker in
                let p = scratchBase + worker * sq * total
                var item = worker
                while item < items {
                    let (b, h) = (item / shape.qHeads, item % shape.qHeads)
                    let kvHead = b * shape.kvHeads + h / group
                    let shown = scoresBase.map { $0 + item * sq * total }
                    ck_sgemm(0, 1, sq, total, d, scale, qBase + shape.headStart(b, h, heads: shape.qHeads, length: sq, size: d), qStride,
                             kBase + kvHead * total * d, d, 0, p, total)
                    if softcap > 0 {
                        for j in 0..<(sq * total) { p[j] = softcap * tanhf(p[j] / softcap) }
                    }
                    if mode <= 1, let shown { shown.update(from: p, count: sq * total) }
                    for i in 0..<sq {
                        let row = p + i * total
                        let allMasked = bias.isEmpty ? false : bias.apply(row, columns: total, b: b, h: h, i: i)
                        if mode == 2, let shown { (shown + i * total).update(from: row, count: total) }
                        Self.softmax(row, columns: total, allMasked: allMasked)
                    }
                    if mode == 3, let shown { shown.update(from: p, count: sq * total) }
                    ck_sgemm(0, 0, sq, dv, total, 1, p, total, vBase + kvHead * total * dv, dv, 0,
                             yBase + shape.headStart(b, h, heads: shape.qHeads, length: sq, size: dv), yStride)
                    item += workers
                }
            }
        }
        let narrow = { (x: EngineTensor) throws(ModelError) -> EngineTensor in try castTensor(x, to: dtype, context: context) }
        let outputs: [EngineTensor?] = [try narrow(y), try narrow(presentKey), try narrow(presentValue), try scores.map(narrow)]
        return Array(outputs.prefix(max(schema.outputCount, 1)))
    }
}

extension Attention: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        guard !flexible else { throw setup.noKernel }
        return AttentionKernel(schema: self)
    }
}
