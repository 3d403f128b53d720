#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// OneHot: a new axis of length `depth` holding `values[1]` where the index points and `values[0]` elsewhere.
struct OneHotKernel: Kernel {
    let axis: Int

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let indices = try requiredInput(inputs, 0, "indices"), depthInput = try requiredInput(inputs, 1, "depth")
        let values = try requiredInput(inputs, 2, "values")
        guard values.count == 2 else { throw ModelError(.invalidGraph, "values must hold [off, on], it holds \(values.count) elements") }
        let depths = try ElementNumbers.doubles(depthInput)
        guard depths.count == 1, let depth = Int(exactly: depths[0].rounded(.towardZero)), depth >= 0 else {
            throw ModelError(.invalidGraph, "depth must be one non-negative number")
        }
        let a = try ShapeKernels.axis(axis, rank: indices.shape.count + 1)
        var dims = indices.shape
        dims.insert(depth, at: a)
        var output = try ElementOutput(dtype: values.dtype, shape: dims)
        output.fill(try FillElement(values, at: 0), at: 0, count: output.count)
        let on = try FillElement(values, at: 1)
        let inner = indices.shape[a...].reduce(1, *)
        for (i, v) in try ElementNumbers.doubles(indices).enumerated() {
            guard let index = Int(exactly: v.rounded(.towardZero)) else { continue }
            var k = index
            if k < 0 { k += depth }
            guard k >= 0 && k < depth else { continue }
            let (o, j) = i.quotientAndRemainder(dividingBy: max(inner, 1))
            output.fill(on, at: (o * depth + k) * inner + j, count: 1)
        }
        return [output.tensor]
    }
}

extension OneHot: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { OneHotKernel(axis: axis) }
}
