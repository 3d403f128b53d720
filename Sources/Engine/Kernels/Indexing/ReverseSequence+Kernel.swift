#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// ReverseSequence: each batch entry's first `sequence_lens` time steps reversed, the rest kept.
struct ReverseSequenceKernel: Kernel {
    let batchAxis: Int
    let timeAxis: Int

    init(_ schema: ReverseSequence, _ setup: KernelSetup) throws(ModelError) {
        batchAxis = schema.batchAxis
        timeAxis = schema.timeAxis
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        let lengths = try ShapeKernels.integers(try requiredInput(inputs, 1, "sequence_lens"), "sequence_lens")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "the input must have rank 2 or more") }
        let batch = x.shape[batchAxis], time = x.shape[timeAxis]
        guard lengths.count == batch, lengths.allSatisfy({ $0 >= 0 && $0 <= time }) else {
            throw ModelError(.invalidGraph, "sequence_lens must give a length of at most \(time) for each of the \(batch) batch entries")
        }
        let strides = Shape.strides(x.shape), inner = x.shape.dropFirst(2).reduce(1, *)
        var output = try ElementOutput(dtype: x.dtype, shape: x.shape)
        for b in 0..<batch {
            for t in 0..<time {
                let source = t < lengths[b] ? lengths[b] - 1 - t : t
                output.copy(from: x, b * strides[batchAxis] + source * strides[timeAxis],
                            to: b * strides[batchAxis] + t * strides[timeAxis], count: inner)
            }
        }
        return [output.tensor]
    }
}

extension ReverseSequence: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ReverseSequenceKernel(self, setup) }
}
