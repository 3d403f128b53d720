internal import CKernels
import ModelCore

/// alpha · op(A) · op(B) with NumPy semantics: 1-D operands promoted, batch
/// dimensions broadcast, op transposing the last two axes where asked. The
/// engine's one batched product: MatMul, FusedMatMul, MatMulNBits and the
/// attention projections all come here.
func batchedProduct(_ a: EngineTensor, _ b: EngineTensor, transA: Bool = false, transB: Bool = false, alpha: Float = 1,
                    _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
    guard a.dtype == .float, b.dtype == .float else {
        throw ModelError(.unsupported(op: nil, dtype: a.dtype == .float ? b.dtype : a.dtype), "the matrix product runs float32, got \(a.dtype) and \(b.dtype)")
    }
    guard !a.shape.isEmpty, !b.shape.isEmpty else { throw ModelError(.invalidGraph, "MatMul inputs must have rank 1 or more") }
    let transA = transA && a.shape.count > 1, transB = transB && b.shape.count > 1
    let left = a.shape.count == 1 ? [1] + a.shape : a.shape
    let right = b.shape.count == 1 ? b.shape + [1] : b.shape
    let (rowsA, columnsA) = (left[left.count - 2], left[left.count - 1])
    let (rowsB, columnsB) = (right[right.count - 2], right[right.count - 1])
    let (m, k) = transA ? (columnsA, rowsA) : (rowsA, columnsA)
    let (innerB, n) = transB ? (columnsB, rowsB) : (rowsB, columnsB)
    guard k == innerB else { throw ModelError(.invalidGraph, "MatMul inner dimensions \(k) and \(innerB) differ") }
    let batchA = Array(left.dropLast(2)), batchB = Array(right.dropLast(2))
    let batch = try broadcastShape(batchA, batchB)
    var shape = batch
    if a.shape.count > 1 { shape.append(m) }
    if b.shape.count > 1 { shape.append(n) }
    let output = try EngineTensor(dtype: .float, shape: shape)
    let count = elementCount(batch)
    let (aBase, bBase, yBase) = (a.floats.baseAddress!, b.floats.baseAddress!, output.floats.baseAddress!)
    let (lda, ldb) = (columnsA, columnsB)
    let (ta, tb): (Int32, Int32) = (transA ? 1 : 0, transB ? 1 : 0)
    if batchB.allSatisfy({ $0 == 1 }) && !transA && count * m >= 2 * context.threads {
        // One weight matrix for every batch item (a transformer's projections): one product over all rows.
        context.splitProduct(rows: count * m, columns: n) { rows, columns in
            let bColumns = transB ? bBase + columns.lowerBound * ldb : bBase + columns.lowerBound
            ck_sgemm(0, tb, rows.count, columns.count, k, alpha, aBase + rows.lowerBound * k, lda, bColumns, ldb, 0,
                     yBase + rows.lowerBound * n + columns.lowerBound, n)
        }
        return output
    }
    let indexA = BroadcastIndex(from: batchA, to: batch), indexB = BroadcastIndex(from: batchB, to: batch)
    context.parallel(min(context.threads, max(count, 1))) { worker in
        var item = worker
        while item < count {
            ck_sgemm(ta, tb, m, n, k, alpha, aBase + indexA.source(of: item) * m * k, lda, bBase + indexB.source(of: item) * k * n, ldb,
                     0, yBase + item * m * n, n)
            item += context.threads
        }
    }
    return output
}

/// A constant right operand op(B), K×N, packed once in the layout the
/// SGEMM's blocked product reads, as onnxruntime's MLAS prepacks weights:
/// the product then never copies B again. A language model's few tokens
/// against its weights spent more time packing B than multiplying.
final class PackedMatrix: Sendable {
    let k: Int, n: Int
    private let packed: TensorBuffer

    /// `b` (2-D, float32 or a half type, widened first; K×N, or N×K when
    /// `transposed`) packed; nil for any other operand, and when the packed
    /// copy would take the engine past half its memory limit: a model whose
    /// weights fill the memory (they are mapped from the file, not held)
    /// still runs, packing on every product.
    init?(_ b: EngineTensor, transposed: Bool = false) throws(ModelError) {
        guard b.shape.count == 2, b.dtype == .float || HalfPrecision.isHalf(b.dtype), b.count > 0 else { return nil }
        (k, n) = transposed ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        let floats = ck_sgemm_packed_floats(k, n)
        guard floats > 0, floats <= Int.max / 8, EngineMemory.live + floats * 4 <= EngineMemory.limit / 2 else { return nil }
        let source = b.dtype == .float ? b : try HalfPrecision.widen(b)
        packed = try TensorBuffer(byteCount: floats * 4)
        ck_sgemm_pack(transposed ? 1 : 0, k, n, source.floats.baseAddress!, b.shape[1],
                      packed.base.assumingMemoryBound(to: Float.self))
    }

    /// C = alpha·A·op(B) + beta·C for `rows` rows of A (row-major, K wide) and C (N wide).
    func multiply(_ a: UnsafePointer<Float>, rows: Int, alpha: Float, beta: Float, into c: UnsafeMutablePointer<Float>,
                  _ context: ExecutionContext) {
        let b = UnsafePointer(packed.base.assumingMemoryBound(to: Float.self))
        context.splitProduct(rows: rows, columns: n) { rows, columns in
            ck_sgemm_packed(rows.count, n, k, alpha, a + rows.lowerBound * k, k, b, beta, c + rows.lowerBound * n, n,
                            columns.lowerBound, columns.upperBound)
        }
    }
}

extension ExecutionContext {
    /// Splits an m×n product between the threads: by rows when there are
    /// more rows than columns and each thread gets enough of them, else by
    /// columns. Every thread reads all of B in a row split and all of A in a
    /// column split, so the split that leaves the larger operand divided
    /// moves less memory: a language model's head (128 tokens against a
    /// 768 × 50257 weight) ran 12% faster split by columns. A batch-1
    /// classifier's one row is the extreme case.
    /// Column ranges start at multiples of the SGEMM's tile width, so that
    /// only the last one has a partial tile.
    func splitProduct(rows m: Int, columns n: Int, _ body: (Range<Int>, Range<Int>) -> Void) {
        if m >= 64 * threads && m > n {
            parallelRanges(m, grain: 16) { rows in body(rows, 0..<n) }
        } else {
            let step = ck_sgemm_column_step()
            parallelRanges((n + step - 1) / step, grain: 2) { strips in
                body(0..<m, strips.lowerBound * step..<min(n, strips.upperBound * step))
            }
        }
    }
}

/// MatMul with NumPy semantics: 1-D operands promoted, batch dimensions
/// broadcast. A constant 2-D B (a layer's weights) is packed once.
struct MatMulKernel: Kernel {
    let weights: PackedMatrix?

    init(_ setup: KernelSetup) throws(ModelError) {
        weights = try setup.constants[1].flatMap { b throws(ModelError) in try PackedMatrix(b) }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        if let weights, a.shape.count >= 1, a.shape.last == weights.k {
            // A's leading axes are all rows of one product with the weights.
            let output = try EngineTensor(dtype: .float, shape: a.shape.dropLast() + [weights.n])
            weights.multiply(a.floats.baseAddress!, rows: a.count / weights.k, alpha: 1, beta: 0, into: output.floats.baseAddress!, context)
            return [output]
        }
        return [try batchedProduct(a, b, context)]
    }
}

extension MatMul: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try HalfPrecision(MatMulKernel(setup), setup) }
}
