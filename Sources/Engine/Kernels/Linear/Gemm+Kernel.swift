internal import CKernels
import ModelCore
import Synchronization

/// Gemm: Y = alpha·op(A)·op(B) + beta·C, C broadcast to [M, N].
/// A constant B that is not transposed is packed once, when the plan is
/// made. A transposed one (a fully connected layer, as exporters write it)
/// is packed on the first product with more rows than the SGEMM reads it
/// in place as fast: a batch-1 classifier never packs it, so that no packed
/// copy doubles its memory (VGG-16's classifier: 411 MB), while a
/// transformer's projections over 197 tokens (ViT-B/16) stop repacking it
/// on every call.
struct GemmKernel: Kernel {
    let schema: Gemm
    let weights: PackedMatrix?
    let transposedWeights: PackedOnDemand?

    init(_ schema: Gemm, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        let b = setup.constants[1]
        weights = schema.transB ? nil : try b.flatMap { b throws(ModelError) in try PackedMatrix(b) }
        transposedWeights = schema.transB ? b.map(PackedOnDemand.init) : nil
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
        let packed = try transposedWeights?.packed(rows: m)
        if !transA, let weights = weights ?? packed {
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

/// A constant transposed B, packed the first time a product has enough rows
/// for packing to pay (`ck_sgemm_transposed_in_place_rows`).
final class PackedOnDemand: Sendable {
    private let source: EngineTensor
    /// nil until a product asks; then the packed matrix, or nil when it could not be packed.
    private let state = Mutex<PackedMatrix??>(nil)

    init(_ source: EngineTensor) {
        self.source = source
    }

    /// The packed matrix for a product of `rows` rows of A; nil when B is read in place.
    func packed(rows: Int) throws(ModelError) -> PackedMatrix? {
        guard rows > ck_sgemm_transposed_in_place_rows() else { return nil }
        return try state.withLock { state throws(ModelError) -> PackedMatrix? in
            if let known = state { return known }
            let matrix = try PackedMatrix(source, transposed: true)
            state = .some(matrix)
            return matrix
        }
    }
}

extension Gemm: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try HalfPrecision(GemmKernel(self, setup), setup) }
}
