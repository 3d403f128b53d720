internal import CKernels
import ModelCore

/// Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N].
struct GemmKernel: Kernel {
    let schema: Gemm

    init(_ schema: Gemm, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        guard a.shape.count == 2, b.shape.count == 2 else { throw ModelError(.invalidGraph, "Gemm needs 2-D inputs") }
        let m = schema.transA ? a.shape[1] : a.shape[0], k = schema.transA ? a.shape[0] : a.shape[1]
        let n = schema.transB ? b.shape[0] : b.shape[1]
        guard k == (schema.transB ? b.shape[1] : b.shape[0]) else { throw ModelError(.invalidGraph, "Gemm inner dimensions differ") }
        let output = try EngineTensor(dtype: .float, shape: [m, n])
        var beta: Float = 0
        if inputs.count > 2, let c = inputs[2] {
            guard c.dtype == .float else { throw ModelError(.invalidGraph, "C must be float32") }
            try broadcastInto(output, from: c)
            beta = schema.beta
        }
        let (aBase, bBase, yBase) = (a.floats.baseAddress!, b.floats.baseAddress!, output.floats.baseAddress!)
        let (alpha, transA, transB) = (schema.alpha, schema.transA, schema.transB)
        let lda = a.shape[1], ldb = b.shape[1]
        // Rows of Y for tall products, columns for wide ones (a batch-1 classifier is one row).
        if m >= 2 * context.threads {
            context.parallelRanges(m, grain: 16) { rows in
                let aRows = transA ? aBase + rows.lowerBound : aBase + rows.lowerBound * lda
                ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, rows.count, n, k, alpha, aRows, lda, bBase, ldb, beta,
                         yBase + rows.lowerBound * n, n)
            }
        } else {
            context.parallelRanges(n, grain: 64) { columns in
                let bColumns = transB ? bBase + columns.lowerBound * ldb : bBase + columns.lowerBound
                ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, columns.count, k, alpha, aBase, lda, bColumns, ldb, beta,
                         yBase + columns.lowerBound, n)
            }
        }
        return [output]
    }
}

extension Gemm: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try HalfPrecision(GemmKernel(self, setup), setup) }
}
