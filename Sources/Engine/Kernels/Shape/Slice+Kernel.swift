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
        let strides = ShapeKernels.strides(data.shape)
        var windows = data.shape.map { (first: 0, step: 1, count: $0) }
        for (k, a) in axes.enumerated() {
            windows[a] = try Self.window(start: starts[k], end: ends[k], step: stepList[k], size: data.shape[a])
        }
        return [try ShapeKernels.tableCopy(data, dims: windows.map(\.count), context: context) { a in
            let w = windows[a]
            return (0..<w.count).map { (w.first + $0 * w.step) * strides[a] }
        }]
    }

    /// The first index, step and element count of one sliced axis, clamped as NumPy does.
    static func window(start: Int, end: Int, step: Int, size: Int) throws(ModelError) -> (first: Int, step: Int, count: Int) {
        guard step != 0 else { throw ModelError(.invalidGraph, "a slice step is zero") }
        let s = start < 0 ? start &+ size : start, e = end < 0 ? end &+ size : end
        if step > 0 {
            let first = min(max(s, 0), size), last = min(max(e, 0), size)
            return (first, step, last > first ? (last - first - 1) / step + 1 : 0)
        }
        let first = min(max(s, 0), size - 1), last = min(max(e, -1), size - 1)
        let magnitude = step == .min ? Int.max : -step
        return (first, step, first > last ? (first - last - 1) / magnitude + 1 : 0)
    }
}

extension Slice: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try SliceKernel(self, setup) }
}
