#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Rearranging copies

/// Transpose: output axis k is input axis perm[k] (reversed by default).
struct TransposeKernel: Kernel {
    let perm: [Int]?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "data")
        let rank = data.shape.count
        let order = perm ?? Array((0..<rank).reversed())
        guard order.count == rank else { throw ModelError(.invalidGraph, "perm has \(order.count) axes, the input \(rank)") }
        return [try ShapeKernels.permuted(data, dims: data.shape, perm: order, context: context)]
    }
}

extension Transpose: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { TransposeKernel(perm: perm) }
}
