#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// EyeLike: a 2-D tensor of the input's shape with ones on diagonal k, of type `dtype` (the input's by default).
struct EyeLikeKernel: Kernel {
    let dtype: DType?
    let k: Int

    init(_ schema: EyeLike, _ setup: KernelSetup) throws(ModelError) {
        dtype = schema.dtype
        k = schema.k
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        guard x.shape.count == 2 else { throw ModelError(.invalidGraph, "the input must be 2-D, it has rank \(x.shape.count)") }
        let type = dtype ?? x.dtype
        var output = try ElementOutput(dtype: type, shape: x.shape)
        output.fill(try FillElement(zeroOf: type), at: 0, count: output.count)
        let one = try ElementNumbers.element(1, dtype: type)
        for i in 0..<x.shape[0] {
            let j = i &+ k
            if j >= 0 && j < x.shape[1] { output.fill(one, at: i * x.shape[1] + j, count: 1) }
        }
        return [output.tensor]
    }
}

extension EyeLike: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try EyeLikeKernel(self, setup) }
}
