#if canImport(Glibc)
import Glibc
#endif
internal import CKernels
import ModelCore

/// Where the rows of one (batch, head) matrix of Q, K, V or the output lie in
/// a float32 buffer: row `s` of head `h` in batch `b` starts at
/// `b · batchStride + h · headStride + s · rowStride`. Projections packed as
/// (B, S, H·D) and caches laid out as (B, H, T, D) are both read in place.
struct HeadRows {
    let base: UnsafeMutablePointer<Float>
    let batchStride: Int, headStride: Int, rowStride: Int

    /// Heads side by side in each row: (B, rows, H·width) starting at `offset`, rows `rowWidth` apart.
    static func packed(_ tensor: EngineTensor, offset: Int = 0, rows: Int, rowWidth: Int, width: Int) -> HeadRows {
        HeadRows(base: tensor.floats.baseAddress! + offset, batchStride: rows * rowWidth, headStride: width, rowStride: rowWidth)
    }

    /// One head after another: (B, H, rows, width).
    static func headMajor(_ tensor: EngineTensor, offset: Int = 0, heads: Int, rows: Int, width: Int) -> HeadRows {
        HeadRows(base: tensor.floats.baseAddress! + offset, batchStride: heads * rows * width, headStride: rows * width, rowStride: width)
    }

    func row(_ b: Int, _ h: Int, _ s: Int) -> UnsafeMutablePointer<Float> { base + b * batchStride + h * headStride + s * rowStride }
}

/// A float32 term added to the scores, (B or 1, H or 1, S or 1, T) as strides
/// (0 where the term repeats): an attention mask turned additive, or an attention bias.
struct ScoreTerm {
    let tensor: EngineTensor
    let batchStride: Int, headStride: Int, rowStride: Int

    /// `tensor` of shape (B or 1, H or 1, S or 1, T), checked against the sizes of the call.
    init(_ tensor: EngineTensor, batch: Int, heads: Int, queries: Int, keys: Int, _ what: String) throws(ModelError) {
        let s = tensor.shape
        guard tensor.dtype == .float, s.count == 4, s[0] == batch || s[0] == 1, s[1] == heads || s[1] == 1,
              s[2] == queries || s[2] == 1, s[3] == keys else {
            throw ModelError(.invalidGraph, "\(what) must be float32 of shape (\(batch) or 1, \(heads) or 1, \(queries) or 1, \(keys)), got \(tensor.dtype) \(s)")
        }
        self.tensor = tensor
        rowStride = s[2] == 1 ? 0 : keys
        headStride = s[1] == 1 ? 0 : s[2] * keys
        batchStride = s[0] == 1 ? 0 : s[1] * s[2] * keys
    }

    func row(_ b: Int, _ h: Int, _ s: Int) -> UnsafePointer<Float> {
        UnsafePointer(tensor.floats.baseAddress! + b * batchStride + h * headStride + s * rowStride)
    }
}

/// The scaled dot-product attention that onnxruntime's attention operators
/// share: per (batch, head), scores = scale · Q·Kᵀ + terms, masked causally
/// when asked, softmax over the keys, times V. Both products go through the
/// engine's SGEMM with the rows' strides, so nothing is transposed or copied.
struct ScaledDotProduct {
    var batch: Int, heads: Int, queries: Int, keys: Int
    /// Query heads per key/value head (GroupQueryAttention; 1 otherwise).
    var group = 1
    var headSize: Int, valueHeadSize: Int
    var scale: Float
    /// Query `i` sees keys up to `pastLength + i` only.
    var causal = false
    var pastLength = 0
    /// With `causal`, query `i` sees only the last `window` keys up to its own (all of them when not positive), as onnxruntime does.
    var window = -1
    /// Scores become `softcap · tanh(score / softcap)` before the softmax (none when 0).
    var softcap: Float = 0
    var terms: [ScoreTerm] = []

    func run(q: HeadRows, k: HeadRows, v: HeadRows, output: HeadRows, _ context: ExecutionContext) throws(ModelError) {
        let items = batch * heads
        let workers = max(1, min(context.threads, items))
        let scratch = try EngineTensor(dtype: .float, shape: [workers, queries, keys])
        let base = scratch.floats.baseAddress!
        context.parallel(workers) { worker in
            let scores = base + worker * queries * keys
            var item = worker
            while item < items {
                head(item / heads, item % heads, scores, q: q, k: k, v: v, output: output)
                item += workers
            }
        }
    }

    private func head(_ b: Int, _ h: Int, _ scores: UnsafeMutablePointer<Float>, q: HeadRows, k: HeadRows, v: HeadRows, output: HeadRows) {
        let kvHead = h / group
        ck_sgemm(0, 1, queries, keys, headSize, scale, q.row(b, h, 0), q.rowStride, k.row(b, kvHead, 0), k.rowStride, 0, scores, keys)
        for i in 0..<queries {
            let row = scores + i * keys
            for term in terms {
                let t = term.row(b, h, i)
                for j in 0..<keys { row[j] += t[j] }
            }
            // Keys after the causal limit (or before the window) take no weight at all, as if their score were −∞.
            let visible = causal ? min(keys, pastLength + i + 1) : keys
            let first = causal && window > 0 ? min(visible, max(0, pastLength + i + 1 - window)) : 0
            if softcap != 0 {
                for j in first..<visible { row[j] = softcap * tanhf(row[j] / softcap) }
            }
            var largest = -Float.infinity
            for j in first..<visible { largest = max(largest, row[j]) }
            var total: Float = 0
            for j in first..<visible {
                let e = expf(row[j] - largest)
                row[j] = e
                total += e
            }
            let inverse = 1 / total
            for j in first..<visible { row[j] *= inverse }
            for j in 0..<first { row[j] = 0 }
            for j in visible..<keys { row[j] = 0 }
        }
        ck_sgemm(0, 0, queries, valueHeadSize, keys, 1, scores, keys, v.row(b, kvHead, 0), v.rowStride, 0, output.row(b, h, 0), output.rowStride)
    }
}

/// onnxruntime's attention mask turned into an additive score term of shape
/// (B, 1, S or 1, T): `filter` where a key is masked, else 0. The mask is
/// int32 of shape (B) (each sequence's end: keys from it on are masked),
/// (2B) (ends, then starts: keys before the start are masked too), (B, T)
/// (1 keeps a key, 0 masks it) or (B, S, T) (the same per query).
func additiveMask(_ mask: EngineTensor, batch: Int, queries: Int, keys: Int, filter: Float, _ op: String) throws(ModelError) -> EngineTensor {
    let values = try ShapeKernels.integers(mask, "\(op) mask")
    let s = mask.shape
    switch s {
    case [batch], [2 * batch]:
        let output = try EngineTensor(dtype: .float, shape: [batch, 1, 1, keys])
        let to = output.floats
        for b in 0..<batch {
            let end = min(max(values[b], 0), keys), start = s[0] == 2 * batch ? min(max(values[batch + b], 0), keys) : 0
            for j in 0..<keys { to[b * keys + j] = j >= end || j < start ? filter : 0 }
        }
        return output
    case [batch, keys], [batch, queries, keys]:
        let rows = s.count == 3 ? queries : 1
        let output = try EngineTensor(dtype: .float, shape: [batch, 1, rows, keys])
        let to = output.floats
        for i in 0..<output.count { to[i] = values[i] > 0 ? 0 : filter }
        return output
    default:
        throw ModelError(.unsupported(op: op, dtype: nil),
                         "\(op) mask of shape \(s) is not supported; the engine takes (\(batch)), (\(2 * batch)), (\(batch), \(keys)) or (\(batch), \(queries), \(keys))")
    }
}

/// K or V of a layer with its cache: past (B, H, P, D) followed by the new rows, as one (B, H, P + L, D) tensor.
func appendedCache(past: EngineTensor?, new: HeadRows, batch: Int, heads: Int, length: Int, width: Int) throws(ModelError) -> EngineTensor {
    let pastLength = past?.shape[2] ?? 0
    let total = pastLength + length
    let output = try EngineTensor(dtype: .float, shape: [batch, heads, total, width])
    let to = HeadRows.headMajor(output, heads: heads, rows: total, width: width)
    for b in 0..<batch {
        for h in 0..<heads {
            if let past {
                let from = past.floats.baseAddress! + (b * heads + h) * pastLength * width
                to.row(b, h, 0).update(from: from, count: pastLength * width)
            }
            for s in 0..<length { to.row(b, h, pastLength + s).update(from: new.row(b, h, s), count: width) }
        }
    }
    return output
}
