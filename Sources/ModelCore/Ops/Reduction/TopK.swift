/// `TopK`: the `k` largest (or smallest) entries along `axis` and their
/// int64 indices; `k` is an attribute before opset 10 and input 1 from it.
///
/// Cost: one comparison per input element (a selection pass); ordering the
/// `k` results is not counted.
public struct TopK: OpSchema {
    /// The selecting axis as written (default −1).
    public let axis: Int
    /// `k` from the attribute (before opset 10).
    public let kAttribute: Int?
    /// Whether the largest entries are selected (`largest`, default 1).
    public let largest: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -1)
        largest = try reader.int("largest", default: 1) != 0
        // `sorted` = 0 allows any order; sorted output is one of them.
        _ = try reader.int("sorted", default: 1)
        if opset < 10 {
            guard let k = try reader.int("k"), k >= 0 else { throw reader.error("TopK needs a non-negative 'k' attribute before opset 10") }
            kAttribute = k
            try reader.expectInputs(1...1)
        } else {
            kAttribute = nil
            try reader.expectInputs(2...2)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil), ValueFact(dtype: .int64, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        let k = kAttribute.map(Dim.known) ?? ShapeMath.scalar(inputs[input: 1]) ?? .unknown
        if let v = k.value {
            guard v >= 0 else { throw reader.error("k \(v) is negative") }
            if let size = shape.dims[along].value, v > size { throw reader.error("k \(v) exceeds the axis size \(size)") }
        }
        var dims = shape.dims
        dims[along] = k
        return [ValueFact(dtype: x?.dtype, shape: Shape(dims)), ValueFact(dtype: .int64, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
