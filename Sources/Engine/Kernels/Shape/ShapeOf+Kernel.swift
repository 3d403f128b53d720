#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Describing and generating

/// Shape: the input's dimensions from `start` to `end` (clamped) as int64.
struct ShapeOfKernel: Kernel {
    let start: Int
    let end: Int?

    init(_ schema: ShapeOf, _ setup: KernelSetup) throws(ModelError) {
        (start, end) = (schema.start, schema.end)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let shape = try requiredInput(inputs, 0, "data").shape
        let rank = shape.count
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
        let first = clamp(start), last = clamp(end ?? rank)
        let dims = first < last ? Array(shape[first..<last]) : []
        return [try ShapeKernels.int64Tensor(dims, shape: [dims.count])]
    }
}

/// Size: the input's element count as an int64 scalar.
struct SizeKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        [try ShapeKernels.int64Tensor([try requiredInput(inputs, 0, "data").count], shape: [])]
    }
}

extension ShapeOf: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ShapeOfKernel(self, setup) }
}

extension SizeOf: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { SizeKernel() }
}
