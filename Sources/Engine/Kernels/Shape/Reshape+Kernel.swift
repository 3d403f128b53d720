#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Views

/// Reshape: a view under the target shape, where `0` copies the input's
/// dimension (unless `allowzero`) and one `-1` takes what the others leave.
struct ReshapeKernel: Kernel {
    let shapeAttribute: [Int]?
    let allowZero: Bool

    init(_ schema: Reshape, _ setup: KernelSetup) throws(ModelError) {
        shapeAttribute = schema.shapeAttribute
        allowZero = schema.allowZero
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "data")
        var target = shapeAttribute ?? []
        if shapeAttribute == nil { target = try ShapeKernels.integers(try requiredInput(inputs, 1, "shape"), "shape") }
        var dims: [Int] = []
        var inferred: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case -1:
                guard inferred == nil else { throw ModelError(.invalidGraph, "the target shape \(target) has more than one -1") }
                inferred = i
                dims.append(1)
            case 0 where !allowZero:
                guard i < data.shape.count else { throw ModelError(.invalidGraph, "target dimension \(i) copies from a rank-\(data.shape.count) input") }
                dims.append(data.shape[i])
            case ..<0:
                throw ModelError(.invalidGraph, "the target shape \(target) has the invalid dimension \(d)")
            default:
                dims.append(d)
            }
        }
        if let inferred {
            let rest = try ShapeKernels.count(dims)
            guard rest != 0 ? data.count % rest == 0 : data.count == 0 else {
                throw ModelError(.invalidGraph, "cannot reshape \(data.count) elements into \(target)")
            }
            dims[inferred] = rest == 0 ? 0 : data.count / rest
        }
        return [try ShapeKernels.view(data, dims)]
    }
}

/// Flatten to 2-D at `axis`: a view.
struct FlattenKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        let a = axis < 0 ? axis + x.shape.count : axis
        guard a >= 0, a <= x.shape.count else { throw ModelError(.invalidGraph, "axis \(axis) is out of range for rank \(x.shape.count)") }
        return [x.reshaped([x.shape.prefix(a).reduce(1, *), x.shape.dropFirst(a).reduce(1, *)])]
    }
}

// MARK: - The schemas' kernels

extension Reshape: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ReshapeKernel(self, setup) }
}

extension Flatten: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { FlattenKernel(axis: axis) }
}
