/// `Slice`: a strided window along some axes — starts, ends, axes and steps
/// as attributes before opset 10 and as inputs from it. Negative indices
/// count from the end and out-of-range ones are clamped, as NumPy does.
///
/// Cost: zero — data movement.
public struct Slice: OpSchema {
    /// `(starts, ends, axes)` from the attributes of opsets 1–9.
    public let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if opset < 10 {
            guard let starts = try reader.ints("starts"), let ends = try reader.ints("ends") else {
                throw reader.error("Slice needs 'starts' and 'ends' attributes before opset 10")
            }
            attributes = (starts, ends, try reader.ints("axes"))
            try reader.expectInputs(1...1)
        } else {
            attributes = nil
            try reader.expectInputs(3...5)
        }
    }

    /// An end at or beyond this is taken to mean "to the end" of a symbolic
    /// dimension (exporters write INT64_MAX or INT32_MAX there).
    static let openEnd = Int(Int32.max)

    /// The first index and element count of one sliced axis of a known size,
    /// clamped as NumPy does; `step` is not 0. The engine slices with it too.
    public static func window(start: Int, end: Int, step: Int, size: Int) -> (first: Int, count: Int) {
        let s = start < 0 ? start &+ size : start, e = end < 0 ? end &+ size : end
        if step > 0 {
            let first = min(max(s, 0), size), last = min(max(e, 0), size)
            return (first, last > first ? (last - first - 1) / step + 1 : 0)
        }
        let first = min(max(s, 0), size - 1), last = min(max(e, -1), size - 1)
        return (first, first > last ? (first - last - 1) / Int(clamping: step.magnitude) + 1 : 0)
    }

    /// The size and first index of one sliced axis of size `size`.
    static func window(start: Dim, end: Dim, step: Int, size: Dim) -> (count: Dim, first: Int?) {
        if let size = size.value, let start = start.value, let end = end.value {
            let window = window(start: start, end: end, step: step, size: size)
            return (.known(window.count), window.first)
        }
        // A symbolic size survives a whole-axis slice, forwards or backwards.
        let wholeForward = step == 1 && start == .known(0) && (end == size || (end.value ?? 0) >= openEnd)
        let wholeBackward = step == -1 && (start == .known(-1) || (start.value ?? 0) >= openEnd) && (end.value ?? 0) <= -openEnd
        return (wholeForward || wholeBackward ? size : .unknown, nil)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let starts: [Dim]?, ends: [Dim]?, axesGiven: [Int]?, steps: [Int]?
        if let attributes {
            (starts, ends, axesGiven, steps) = (attributes.starts.map(Dim.known), attributes.ends.map(Dim.known), attributes.axes, nil)
        } else {
            starts = inputs[input: 1]?.value?.integers
            ends = inputs[input: 2]?.value?.integers
            let axesInput = inputs[input: 3], stepsInput = inputs[input: 4]
            axesGiven = axesInput?.value?.knownIntegers
            steps = stepsInput?.value?.knownIntegers
            if (axesInput != nil && axesGiven == nil) || (stepsInput != nil && steps == nil) {
                let axes = axesGiven.flatMap { try? ShapeMath.axes($0, rank: shape.rank, reader: reader) }
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(axes, of: shape))]
            }
        }
        let axes = try axesGiven.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) }
        guard let starts, let ends else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(axes, of: shape))]
        }
        let sliced = axes ?? Array(0..<starts.count)
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, sliced.count == starts.count, stepList.count == starts.count,
              starts.count <= shape.rank else {
            throw reader.error("starts, ends, axes and steps have \(starts.count), \(ends.count), \(sliced.count) and \(stepList.count) elements for rank \(shape.rank)")
        }
        guard !stepList.contains(0) else { throw reader.error("a step is zero") }
        var dims = shape.dims
        var firsts = Array(repeating: 0, count: shape.rank)
        var strides = Array(repeating: 1, count: shape.rank)
        for (k, axis) in sliced.enumerated() {
            guard axis >= 0 && axis < shape.rank else { throw reader.error("axis \(axis) is out of range for rank \(shape.rank)") }
            let (count, first) = Self.window(start: starts[k], end: ends[k], step: stepList[k], size: shape.dims[axis])
            dims[axis] = count
            firsts[axis] = first ?? 0
            strides[axis] = stepList[k]
        }
        let out = Shape(dims)
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let inputStrides = Shape.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                var flat = 0
                for (axis, i) in index.enumerated() { flat += (firsts[axis] + i * strides[axis]) * inputStrides[axis] }
                return flat
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
