internal import CKernels
import ModelCore

/// Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N].
/// A constant B that is not transposed is packed once. A transposed one (a
/// classifier's fully connected layer, as exporters write it) is not: at
/// the few rows of small batches the product reads it in place as fast as
/// packed, and a packed copy beside the mapped weights would double their
/// memory (VGG-16's classifier: 411 MB).
struct GemmKernel: Kernel {
    let schema: Gemm
    let weights: PackedMatrix?

    init(_ schema: Gemm, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        weights = schema.transB ? nil : try setup.constants[1].flatMap { b throws(ModelError) in try PackedMatrix(b) }
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
        if let weights, !transA {
            weights.multiply(aBase, rows: m, alpha: alpha, beta: beta, into: yBase, context)
            return [output]
        }
        let lda = a.shape[1], ldb = b.shape[1]
        context.splitProduct(rows: m, columns: n) { rows, columns in
            let aRows = transA ? aBase + rows.lowerBound : aBase + rows.lowerBound * lda
            let bColumns = transB ? bBase + columns.lowerBound * ldb : bBase + columns.lowerBound
            ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, rows.count, columns.count, k, alpha, aRows, lda, bColumns, ldb, beta,
                     yBase + rows.lowerBound * n + columns.lowerBound, n)
        }
        return [output]
    }
}

extension Gemm: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try HalfPrecision(GemmKernel(self, setup), setup) }
}
