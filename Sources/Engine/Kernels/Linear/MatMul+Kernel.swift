internal import CKernels
import ModelCore

/// MatMul with NumPy semantics: 1-D operands promoted, batch dimensions broadcast.
struct MatMulKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw ModelError(.invalidGraph, "MatMul inputs must have rank 1 or more") }
        let left = a.shape.count == 1 ? [1] + a.shape : a.shape
        let right = b.shape.count == 1 ? b.shape + [1] : b.shape
        let m = left[left.count - 2], k = left[left.count - 1], n = right[right.count - 1]
        guard k == right[right.count - 2] else { throw ModelError(.invalidGraph, "MatMul inner dimensions \(k) and \(right[right.count - 2]) differ") }
        let batchA = Array(left.dropLast(2)), batchB = Array(right.dropLast(2))
        let batch = try broadcastShape(batchA, batchB)
        var shape = batch
        if a.shape.count > 1 { shape.append(m) }
        if b.shape.count > 1 { shape.append(n) }
        let output = try EngineTensor(dtype: .float, shape: shape)
        let count = batch.reduce(1, *)
        let indexA = BroadcastIndex(from: batchA, to: batch), indexB = BroadcastIndex(from: batchB, to: batch)
        let (aBase, bBase, yBase) = (a.floats.baseAddress!, b.floats.baseAddress!, output.floats.baseAddress!)
        context.parallel(min(context.threads, max(count, 1))) { worker in
            var item = worker
            while item < count {
                ck_sgemm(0, 0, m, n, k, 1, aBase + indexA.source(of: item) * m * k, k, bBase + indexB.source(of: item) * k * n, n,
                         0, yBase + item * m * n, n)
                item += context.threads
            }
        }
        return [output]
    }
}

extension MatMul: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try HalfPrecision(MatMulKernel(), setup) }
}
