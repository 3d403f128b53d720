import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Cast

/// Cast and CastLike between every numeric type, bool, string, the float8
/// formats, float4e2m1 and the packed 4- and 2-bit integers.
struct CastKernel: Kernel {
    /// The target type; nil for CastLike, which takes it from input 1.
    let target: DType?
    let saturate: Bool
    let roundMode: ExponentRounding

    init(_ schema: Cast, _ setup: KernelSetup) throws(ModelError) {
        target = schema.target
        saturate = schema.saturate
        guard let roundMode = ExponentRounding(rawValue: schema.roundMode) else {
            throw ModelError(.invalidGraph, "Cast round_mode must be up, down or nearest, not '\(schema.roundMode)'")
        }
        self.roundMode = roundMode
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        var dtype = target
        if dtype == nil { dtype = try requiredInput(inputs, 1, "target_type").dtype }
        guard let dtype else { throw ModelError(.invalidGraph, "Cast has no target type") }
        return [try castTensor(x, to: dtype, saturate: saturate, roundMode: roundMode, context: context)]
    }
}

extension Cast: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try CastKernel(self, setup) }
}

/// BitCast: the input's bytes read as another type of the same width. The
/// output shares the input's storage, as Reshape does, since no element changes.
struct BitCastKernel: Kernel {
    let target: DType

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        guard x.dtype != .string, let from = x.dtype.bitsPerElement, from == target.bitsPerElement else {
            throw ModelError(.invalidGraph, "BitCast cannot reinterpret \(x.dtype) as \(target): the widths differ")
        }
        return [EngineTensor(dtype: target, shape: x.shape, buffer: x.buffer)]
    }
}

extension BitCast: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { BitCastKernel(target: dtype) }
}
