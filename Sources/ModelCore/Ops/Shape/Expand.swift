/// `Expand`: broadcasts the input to a shape given as input 1 (NumPy rules,
/// so a 1 in the target keeps the input's dimension).
///
/// Cost: zero — data movement.
public struct Expand: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        guard let target = inputs[input: 1]?.value?.integers else {
            guard let k = ShapeMath.length(inputs[input: 1]) else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
            // Input dimensions other than 1 survive broadcasting whatever the target says.
            let rank = max(k, shape.rank)
            let padded = Array(repeating: Dim.known(1), count: rank - shape.rank) + shape.dims
            return [ValueFact(dtype: data?.dtype, shape: Shape(padded.map { $0.value.map { $0 == 1 ? .unknown : .known($0) } ?? .unknown }))]
        }
        guard let out = try Broadcast.shape([shape, Shape(target)], node: reader) else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let offset = outDims.count - input.dims.count
            let strides = Shape.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                var flat = 0
                for (axis, size) in input.dims.enumerated() where size != 1 { flat += index[axis + offset] * strides[axis] }
                return flat
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Tile`: repeats the input along every axis (`repeats`, input 1); opsets
/// 1–5 instead take a scalar `tiles` count and the `axis` as inputs 1 and 2.
///
/// Cost: zero — data movement.
public struct Tile: OpSchema {
    let legacy: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        legacy = opset < 6
        try reader.expectInputs(legacy ? 3...3 : 2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        var repeats = Array(repeating: Dim.known(1), count: shape.rank)
        if legacy {
            guard let tiles = ShapeMath.scalar(inputs[input: 1]), let axis = ShapeMath.scalar(inputs[input: 2])?.value else {
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))]
            }
            repeats[try ShapeMath.axis(axis, rank: shape.rank, reader: reader)] = tiles
        } else {
            guard let given = inputs[input: 1]?.value?.integers else {
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))]
            }
            guard given.count == shape.rank else { throw reader.error("repeats has \(given.count) elements for rank \(shape.rank)") }
            repeats = given
        }
        if repeats.contains(where: { ($0.value ?? 0) < 0 }) { throw reader.error("repeats must not be negative") }
        let out = Shape(zip(shape.dims, repeats).map { $0 * $1 })
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let strides = Shape.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                var flat = 0
                for (axis, i) in index.enumerated() { flat += (i % input.dims[axis]) * strides[axis] }
                return flat
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
