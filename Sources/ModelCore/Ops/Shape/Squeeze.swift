/// `Squeeze`: removes dimensions of size 1 — the listed axes (an attribute
/// before opset 13, input 1 from it), or every size-1 dimension when none are
/// listed. With no axes and a symbolic dimension the rank is left unknown,
/// since the symbol could stand for 1.
///
/// Cost: zero — data movement.
public struct Squeeze: OpSchema {
    /// Axes from the attribute (opsets 1–12).
    public let axesAttribute: [Int]?
    let axesFromInput: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axesFromInput = opset >= 13
        axesAttribute = axesFromInput ? nil : try reader.ints("axes")
        try reader.expectInputs(axesFromInput ? 1...2 : 1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        var axes = axesAttribute
        if axesFromInput, let axesInput = inputs[input: 1] {
            axes = axesInput.value?.knownIntegers
            if axes == nil {
                guard let k = ShapeMath.length(axesInput), k > 0 else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: data?.shape.map { $0.rank - k }))]
            }
        }
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let out: Shape
        if let axes, !axes.isEmpty {
            let normalised = Set(try ShapeMath.axes(axes, rank: shape.rank, reader: reader))
            for axis in normalised {
                if let size = shape.dims[axis].value, size != 1 {
                    throw reader.error("cannot squeeze axis \(axis) of size \(size)")
                }
            }
            out = Shape(shape.dims.enumerated().filter { !normalised.contains($0.offset) }.map(\.element))
        } else {
            guard let values = shape.values else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
            out = Shape(values.filter { $0 != 1 })
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: ShapeMath.reshaped(ShapeMath.value(of: data), out))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Unsqueeze`: inserts dimensions of size 1 at the listed axes of the
/// output (an attribute before opset 13, input 1 from it).
///
/// Cost: zero — data movement.
public struct Unsqueeze: OpSchema {
    /// Axes from the attribute (opsets 1–12).
    public let axesAttribute: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if opset >= 13 {
            axesAttribute = nil
            try reader.expectInputs(2...2)
        } else {
            guard let axes = try reader.ints("axes") else { throw reader.error("Unsqueeze needs an 'axes' attribute before opset 13") }
            axesAttribute = axes
            try reader.expectInputs(1...1)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let axes = axesAttribute ?? inputs[input: 1]?.value?.knownIntegers else {
            let k = ShapeMath.length(inputs[input: 1])
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: data?.shape.flatMap { s in k.map { s.rank + $0 } }))]
        }
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let rank = shape.rank + axes.count
        let inserted = Set(try ShapeMath.axes(axes, rank: rank, reader: reader))
        var remaining = shape.dims.makeIterator()
        var dims: [Dim] = []
        for i in 0..<rank {
            dims.append(inserted.contains(i) ? .known(1) : remaining.next() ?? .unknown)
        }
        let out = Shape(dims)
        return [ValueFact(dtype: data?.dtype, shape: out, value: ShapeMath.reshaped(ShapeMath.value(of: data), out))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
