#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Concat: the inputs joined along `axis`.
struct ConcatKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var parts: [EngineTensor] = []
        for i in inputs.indices { parts.append(try requiredInput(inputs, i, "input \(i)")) }
        guard let first = parts.first else { throw ModelError(.invalidGraph, "Concat has no inputs") }
        try ShapeKernels.sameType(parts, "Concat")
        let rank = first.shape.count
        let a = try ShapeKernels.axis(axis, rank: rank)
        var dims = first.shape
        dims[a] = 0
        for part in parts {
            guard part.shape.count == rank,
                  part.shape.indices.allSatisfy({ $0 == a || part.shape[$0] == first.shape[$0] }) else {
                throw ModelError(.invalidGraph, "cannot join shapes \(first.shape) and \(part.shape) along axis \(a)")
            }
            dims[a] += part.shape[a]
        }
        var output = try ElementOutput(dtype: first.dtype, shape: dims)
        let outer = dims[..<a].reduce(1, *), inner = dims[(a + 1)...].reduce(1, *)
        var offset = 0
        for o in 0..<outer {
            for part in parts {
                let block = part.shape[a] * inner
                output.copy(from: part, o * block, to: offset, count: block)
                offset += block
            }
        }
        return [output.tensor]
    }
}

extension Concat: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ConcatKernel(axis: axis) }
}
