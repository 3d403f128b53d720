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
        // One weight matrix for every batch item (a transformer's projections):
        // one product over all rows, split between threads by rows.
        let rows = count * m
        context.parallelRanges(rows, grain: 16) { range in
            ck_sgemm(0, tb, range.count, n, k, alpha, aBase + range.lowerBound * k, lda, bBase, ldb, 0, yBase + range.lowerBound * n, n)
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

/// MatMul with NumPy semantics: 1-D operands promoted, batch dimensions broadcast.
struct MatMulKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        return [try batchedProduct(a, b, context)]
    }
}

extension MatMul: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try HalfPrecision(MatMulKernel(), setup) }
}
