#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// ConstantOfShape: a tensor of the given shape filled with the one-element `value` (float32 zero by default).
struct ConstantOfShapeKernel: Kernel {
    let dtype: DType
    let fill: FillElement

    init(_ schema: ConstantOfShape, _ setup: KernelSetup) throws(ModelError) {
        dtype = schema.dtype
        if let tensor = schema.value {
            fill = try FillElement(try EngineTensor(tensor), at: 0)
        } else {
            fill = try FillElement(zeroOf: dtype)
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let dims = try ShapeKernels.integers(try requiredInput(inputs, 0, "shape"), "shape")
        guard dims.allSatisfy({ $0 >= 0 }) else { throw ModelError(.invalidGraph, "the shape \(dims) has a negative dimension") }
        var output = try ElementOutput(dtype: dtype, shape: dims)
        output.fill(fill, at: 0, count: output.count)
        return [output.tensor]
    }
}

extension ConstantOfShape: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ConstantOfShapeKernel(self, setup) }
}
