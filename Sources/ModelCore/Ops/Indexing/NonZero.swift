/// `NonZero`: the indices of the non-zero elements, `[rank, count]`; the
/// count depends on the data, so it is unknown unless the contents are known.
///
/// Cost: zero — selection, no arithmetic.
public struct NonZero: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let rank: Dim = x?.shape.map { .known($0.rank) } ?? .unknown
        var count = Dim.unknown
        if let value = ShapeMath.value(of: x) {
            switch value.elements {
            case .reals(let v): count = .known(v.filter { $0 != 0 }.count)
            case .integers(let v): if v.allSatisfy({ $0.value != nil }) { count = .known(v.filter { $0 != .known(0) }.count) }
            }
        }
        return [ValueFact(dtype: .int64, shape: Shape([rank, count]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Compress`: keeps the slices along `axis` (or the elements of the
/// flattened input) where the condition is true; how many depends on the
/// condition, so the size is unknown unless its contents are known.
///
/// Cost: zero — selection, no arithmetic.
public struct Compress: OpSchema {
    /// The selecting axis as written; `nil` flattens the input first.
    public let axis: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis")
        try reader.expectInputs(2...2)
    }

    /// True entries of the condition among the first `size`.
    private static func kept(_ condition: [Int]?, size: Int?) -> Dim {
        guard let condition, let size else { return .unknown }
        return .known(condition.prefix(size).filter { $0 != 0 }.count)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let condition = ShapeMath.value(of: inputs[input: 1])?.knownIntegers
        guard let axis else {
            return [ValueFact(dtype: x?.dtype, shape: Shape([Self.kept(condition, size: x?.elementCount)]))]
        }
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        var dims = shape.dims
        dims[along] = Self.kept(condition, size: dims[along].value)
        return [ValueFact(dtype: x?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
