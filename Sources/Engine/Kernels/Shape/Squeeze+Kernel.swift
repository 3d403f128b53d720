#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Squeeze: a view without the listed size-1 axes (attribute before opset 13, input 1 from it), or without every size-1 axis.
struct SqueezeKernel: Kernel {
    let axesAttribute: [Int]?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "data")
        var given = axesAttribute
        if given == nil, let axes = optionalInput(inputs, 1) { given = try ShapeKernels.integers(axes, "axes") }
        let rank = data.shape.count
        let removed: [Int]
        if let given, !given.isEmpty {
            removed = try ShapeKernels.axes(given, rank: rank)
            for a in removed where data.shape[a] != 1 {
                throw ModelError(.invalidGraph, "cannot squeeze axis \(a) of size \(data.shape[a])")
            }
        } else {
            removed = data.shape.indices.filter { data.shape[$0] == 1 }
        }
        return [data.reshaped(data.shape.indices.filter { !removed.contains($0) }.map { data.shape[$0] })]
    }
}

/// Unsqueeze: a view with size-1 axes inserted at the listed output axes (attribute before opset 13, input 1 from it).
struct UnsqueezeKernel: Kernel {
    let axesAttribute: [Int]?

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "data")
        var given = axesAttribute ?? []
        if axesAttribute == nil { given = try ShapeKernels.integers(try requiredInput(inputs, 1, "axes"), "axes") }
        let rank = data.shape.count + given.count
        let inserted = try ShapeKernels.axes(given, rank: rank)
        var remaining = data.shape.makeIterator()
        let dims = (0..<rank).map { inserted.contains($0) ? 1 : remaining.next() ?? 1 }
        return [data.reshaped(dims)]
    }
}

extension Squeeze: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { SqueezeKernel(axesAttribute: axesAttribute) }
}

extension Unsqueeze: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { UnsqueezeKernel(axesAttribute: axesAttribute) }
}
