#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Slice: strided windows along some axes, NumPy-clamped; negative steps walk backwards.
struct SliceKernel: Kernel {
    /// `(starts, ends, axes)` from the attributes of opsets 1–9; later opsets take them as inputs.
    let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?

    init(_ schema: Slice, _ setup: KernelSetup) throws(ModelError) {
        attributes = schema.attributes
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let data = try requiredInput(inputs, 0, "data")
        let starts: [Int], ends: [Int], axesGiven: [Int]?, steps: [Int]?
        if let attributes {
            (starts, ends, axesGiven, steps) = (attributes.starts, attributes.ends, attributes.axes, nil)
        } else {
            starts = try ShapeKernels.integers(try requiredInput(inputs, 1, "starts"), "starts")
            ends = try ShapeKernels.integers(try requiredInput(inputs, 2, "ends"), "ends")
            axesGiven = try optionalInput(inputs, 3).map { t throws(ModelError) in try ShapeKernels.integers(t, "axes") }
            steps = try optionalInput(inputs, 4).map { t throws(ModelError) in try ShapeKernels.integers(t, "steps") }
        }
        let rank = data.shape.count
        let axes = try ShapeKernels.axes(axesGiven ?? Array(0..<starts.count), rank: rank)
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, stepList.count == starts.count else {
            throw ModelError(.invalidGraph, "starts, ends, axes and steps have \(starts.count), \(ends.count), \(axes.count) and \(stepList.count) elements")
        }
        let strides = Shape.strides(data.shape)
        var windows = data.shape.map { (first: 0, step: 1, count: $0) }
        for (k, a) in axes.enumerated() {
            guard stepList[k] != 0 else { throw ModelError(.invalidGraph, "a slice step is zero") }
            let window = Slice.window(start: starts[k], end: ends[k], step: stepList[k], size: data.shape[a])
            windows[a] = (window.first, stepList[k], window.count)
        }
        return [try ShapeKernels.tableCopy(data, dims: windows.map(\.count), context: context) { a in
            let w = windows[a]
            return (0..<w.count).map { (w.first + $0 * w.step) * strides[a] }
        }]
    }
}

extension Slice: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SliceKernel(self, setup) }
}
