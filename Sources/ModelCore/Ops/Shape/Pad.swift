/// `Pad`: adds (or, with negative pads, removes) elements at both ends of
/// axes — pads as the `paddings`/`pads` attribute before opset 11, as input 1
/// from it, for the `axes` of input 3 from opset 18.
///
/// Cost: zero — data movement (the fill, reflect, edge and wrap modes copy values).
public struct Pad: OpSchema {
    /// Begin pads of every padded axis, then end pads, from the attribute (opsets 1–10).
    public let padsAttribute: [Int]?
    /// `constant`, `reflect`, `edge` or `wrap`.
    public let mode: String
    /// The constant fill from the `value` attribute (before opset 11; input 2 from it).
    public let valueAttribute: Float
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        mode = try reader.string("mode", default: "constant")
        valueAttribute = opset < 11 ? try reader.float("value", default: 0) : 0
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw reader.error("unknown mode '\(mode)'") }
        if opset < 11 {
            guard let pads = try reader.ints(opset < 2 ? "paddings" : "pads") else { throw reader.error("Pad needs a 'pads' attribute before opset 11") }
            padsAttribute = pads
            try reader.expectInputs(1...1)
        } else {
            padsAttribute = nil
            try reader.expectInputs(2...4)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        var axes: [Int]?
        if let axesInput = inputs[input: 3] {
            axes = try axesInput.value?.knownIntegers.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) }
            if axes == nil { return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))] }
        }
        guard let pads = padsAttribute ?? inputs[input: 1]?.value?.knownIntegers else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(axes, of: shape))]
        }
        let padded = axes ?? Array(0..<shape.rank)
        guard pads.count == 2 * padded.count else { throw reader.error("pads has \(pads.count) elements for \(padded.count) axes") }
        var dims = shape.dims
        for (k, axis) in padded.enumerated() {
            let (extra, overflow) = pads[k].addingReportingOverflow(pads[k + padded.count])
            guard !overflow else { throw reader.error("pads overflow") }
            dims[axis] = dims[axis] + .known(extra)
            if let size = dims[axis].value, size < 0 { throw reader.error("pads leave axis \(axis) with size \(size)") }
        }
        return [ValueFact(dtype: data?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight; the pad value is a constant, not learned.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `CenterCropPad`: crops or zero-pads the listed axes (all by default) to the sizes of input 1, centred.
///
/// Cost: zero — data movement.
public struct CenterCropPad: OpSchema {
    /// The axes input 1 refers to, as written.
    public let axes: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axes = try reader.ints("axes")
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let resized = try axes.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) }
        guard let sizes = inputs[input: 1]?.value?.integers else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))]
        }
        let targets = resized ?? Array(0..<shape.rank)
        guard sizes.count == targets.count else { throw reader.error("shape has \(sizes.count) elements for \(targets.count) axes") }
        var dims = shape.dims
        for (axis, size) in zip(targets, sizes) {
            if let v = size.value, v < 0 { throw reader.error("crop size \(v) is negative") }
            dims[axis] = size
        }
        return [ValueFact(dtype: data?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
