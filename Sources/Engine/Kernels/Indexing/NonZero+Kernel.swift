#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Compress: the slices along `axis` (or elements of the flattened input) where the condition is true.
struct CompressKernel: Kernel {
    let axis: Int?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var data = try requiredInput(inputs, 0, "input")
        let condition = try requiredInput(inputs, 1, "condition")
        guard condition.shape.count == 1 else { throw ModelError(.invalidGraph, "condition must be 1-D") }
        let flags = try ElementNumbers.integers(condition)
        var a = 0
        if let axis {
            a = try ShapeKernels.axis(axis, rank: data.shape.count)
        } else {
            data = data.reshaped([data.count])
        }
        let size = data.shape[a]
        guard flags.count <= size else { throw ModelError(.invalidGraph, "condition has \(flags.count) entries for an axis of \(size)") }
        let kept = flags.indices.filter { flags[$0] != 0 }
        let strides = Shape.strides(data.shape)
        var dims = data.shape
        dims[a] = kept.count
        return [try ShapeKernels.tableCopy(data, dims: dims, context: context) { k in
            k == a ? kept.map { $0 * strides[a] } : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }]
    }
}

/// NonZero: the int64 indices of the non-zero elements, one row per axis, in row-major order.
struct NonZeroKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        let nonZero: [Bool]
        if x.dtype == .string {
            nonZero = ShapeKernels.strings(of: x).map { !$0.isEmpty }
        } else {
            nonZero = try ElementNumbers.doubles(x).map { $0 != 0 }
        }
        let positions = nonZero.indices.filter { nonZero[$0] }
        let rank = x.shape.count
        var values = Array(repeating: 0, count: rank * positions.count)
        for (j, flat) in positions.enumerated() {
            for (k, i) in ShapeKernels.multiIndex(flat, x.shape).enumerated() { values[k * positions.count + j] = i }
        }
        return [try ShapeKernels.int64Tensor(values, shape: [rank, positions.count])]
    }
}

extension NonZero: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { NonZeroKernel() }
}

extension Compress: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { CompressKernel(axis: axis) }
}
