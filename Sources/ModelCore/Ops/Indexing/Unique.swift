/// `Unique`: the distinct elements (or slices along `axis`) with their first
/// indices, the inverse mapping and counts. How many are distinct depends on
/// the data, so it is unknown unless the contents are known; the inverse
/// mapping's size is always the input's (flattened or along the axis).
///
/// Cost: zero — sorting and matching, no arithmetic.
public struct Unique: OpSchema {
    /// The axis whose slices are compared, as written; `nil` compares single elements.
    public let axis: Int?
    /// `sorted`: distinct values in ascending order; otherwise in the order they first occur.
    public let sorted: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis")
        sorted = try reader.int("sorted", default: 1) != 0
        try reader.expectInputs(1...1)
    }

    /// How many distinct elements (or slices along `axis`) `value` holds, when all are known numbers.
    static func distinctCount(_ value: KnownValue, axis: Int?) -> Int? {
        var keys: [UInt64] = []
        keys.reserveCapacity(value.count)
        switch value.elements {
        case .integers(let elements):
            for d in elements {
                guard let v = d.value else { return nil }
                keys.append(UInt64(UInt(bitPattern: v)))
            }
        case .reals(let elements):
            for v in elements {
                guard !v.isNaN else { return nil }
                // Adding zero turns -0.0 into 0.0, which compares equal to it.
                keys.append((v + 0).bitPattern)
            }
        }
        guard let axis else { return Set(keys).count }
        guard !keys.isEmpty, axis >= 0, axis < value.dims.count, let outer = Count.product(Array(value.dims[..<axis])),
              let inner = Count.product(Array(value.dims[(axis + 1)...])) else { return nil }
        let size = value.dims[axis]
        var slices = Set<[UInt64]>()
        for i in 0..<size {
            var slice: [UInt64] = []
            for o in 0..<outer {
                let base = (o * size + i) * inner
                slice += keys[base..<(base + inner)]
            }
            slices.insert(slice)
        }
        return slices.count
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let known = ShapeMath.value(of: x)
        var along: Int?
        if let axis, let shape = x?.shape { along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader) }
        let count: Dim = known.flatMap { Self.distinctCount($0, axis: along) }.map(Dim.known) ?? .unknown
        let distinct = Shape([count])
        var values: Shape? = distinct
        var inverse = Shape([Dim.unknown])
        if axis != nil {
            values = nil
            if let shape = x?.shape, let along {
                var dims = shape.dims
                dims[along] = count
                values = Shape(dims)
                inverse = Shape([shape.dims[along]])
            }
        } else if let shape = x?.shape {
            inverse = Shape([Dim.product(shape.dims)])
        }
        return [ValueFact(dtype: x?.dtype, shape: values), ValueFact(dtype: .int64, shape: distinct),
                ValueFact(dtype: .int64, shape: inverse), ValueFact(dtype: .int64, shape: distinct)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
