/// `Gather`: picks entries along `axis` by index; the output shape is
/// `data[..<axis] + indices + data[(axis+1)...]`. Known contents are followed,
/// which is how exported graphs read single dimensions out of `Shape`.
///
/// Cost: zero — data movement.
public struct Gather: OpSchema {
    /// The gathering axis as written.
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 0)
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1]
        guard let shape = data?.shape, let indexShape = indices?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        let out = Shape(Array(shape.dims[..<along]) + indexShape.dims + Array(shape.dims[(along + 1)...]))
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let picks = ShapeMath.value(of: indices)?.knownIntegers {
            let size = input.dims[along]
            var normalised: [Int] = []
            for i in picks {
                guard i >= -size && i < size else { throw reader.error("index \(i) is out of range for size \(size)") }
                normalised.append(i < 0 ? i + size : i)
            }
            if let outDims = out.values, let count = ShapeMath.smallCount(outDims), count == 0 {
                value = ShapeMath.pick(input, [], dims: outDims)
            } else if let outDims = out.values, ShapeMath.smallCount(outDims) != nil,
                      let outer = Count.product(Array(input.dims[..<along])), let inner = Count.product(Array(input.dims[(along + 1)...])) {
                var sources: [Int] = []
                for o in 0..<outer {
                    for k in normalised {
                        for i in 0..<inner { sources.append((o * size + k) * inner + i) }
                    }
                }
                value = ShapeMath.pick(input, sources, dims: outDims)
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// The data (an embedding table, say) can be a weight; indices cannot.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `GatherElements`: picks one data element per index along `axis`; the output has the indices' shape.
///
/// Cost: zero — data movement.
public struct GatherElements: OpSchema {
    /// The gathering axis as written.
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 0)
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1]
        if let shape = data?.shape, let indexShape = indices?.shape {
            guard shape.rank == indexShape.rank else { throw reader.error("data has rank \(shape.rank), indices \(indexShape.rank)") }
            _ = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        }
        return [ValueFact(dtype: data?.dtype, shape: indices?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `GatherND`: picks slices addressed by the last axis of `indices`; the
/// output shape is `indices[..<(q-1)] + data[(batch_dims + indices[q-1])...]`.
///
/// Cost: zero — data movement.
public struct GatherND: OpSchema {
    /// Leading dimensions shared by data and indices.
    public let batchDims: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        batchDims = try reader.int("batch_dims", default: 0)
        guard batchDims >= 0 else { throw reader.error("batch_dims must not be negative") }
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1]
        guard let shape = data?.shape, let indexShape = indices?.shape, let last = indexShape.dims.last else {
            return [ValueFact(dtype: data?.dtype, shape: nil)]
        }
        guard shape.rank > batchDims, indexShape.rank > batchDims else {
            throw reader.error("batch_dims \(batchDims) needs data and indices of higher rank")
        }
        guard let depth = last.value else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        guard depth >= 1, depth <= shape.rank - batchDims else {
            throw reader.error("indices address \(depth) axes of a rank-\(shape.rank) input after \(batchDims) batch axes")
        }
        let out = Shape(Array(indexShape.dims.dropLast()) + Array(shape.dims[(batchDims + depth)...]))
        return [ValueFact(dtype: data?.dtype, shape: out)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
