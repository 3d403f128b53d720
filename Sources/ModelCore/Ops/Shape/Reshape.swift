/// `Reshape`: the same elements under a new shape. A `0` copies the input's
/// dimension at that position (unless `allowzero`), one `-1` takes whatever
/// the other dimensions leave; symbolic sizes are divided exactly
/// (`[N, 512, 7, 7]` to `[N, -1]` gives `[N, 25088]`).
///
/// Cost: zero — data movement.
public struct Reshape: OpSchema {
    /// The target from the `shape` attribute of opsets 1–4; later opsets take it as input 1.
    public let shapeAttribute: [Int]?
    /// Whether a `0` in the target means an empty dimension rather than "copy".
    public let allowZero: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        allowZero = try reader.int("allowzero", default: 0) != 0
        if opset < 5 {
            try reader.expectInputs(1...1)
            guard let shape = try reader.ints("shape") else { throw reader.error("Reshape needs a 'shape' attribute before opset 5") }
            shapeAttribute = shape
        } else {
            try reader.expectInputs(2...2)
            shapeAttribute = nil
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let target = shapeAttribute.map({ $0.map(Dim.known) }) ?? inputs[input: 1]?.value?.integers else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 1])))]
        }
        let shape = Shape(try Self.resolve(target, input: data?.shape, allowZero: allowZero, reader: reader))
        return [ValueFact(dtype: data?.dtype, shape: shape, value: ShapeMath.reshaped(ShapeMath.value(of: data), shape))]
    }

    /// The output dims for a target shape (with `0` and `-1` resolved as far as the input allows).
    static func resolve(_ target: [Dim], input: Shape?, allowZero: Bool, reader: AttributeReader) throws(ModelError) -> [Dim] {
        var dims: [Dim] = []
        var inferred: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case .known(-1):
                guard inferred == nil else { throw reader.error("the target shape has more than one -1") }
                inferred = i
                dims.append(.unknown)
            case .known(0) where !allowZero:
                if let input {
                    guard i < input.rank else { throw reader.error("target dimension \(i) copies from a rank-\(input.rank) input") }
                    dims.append(input.dims[i])
                } else {
                    dims.append(.unknown)
                }
            case .known(let v) where v < 0:
                throw reader.error("the target shape has the invalid dimension \(v)")
            default:
                dims.append(d)
            }
        }
        if allowZero, inferred != nil, target.contains(.known(0)) {
            throw reader.error("with allowzero the target shape cannot hold both 0 and -1")
        }
        let total = input.map { Dim.product($0.dims) } ?? .unknown
        if let inferred {
            let rest = Dim.product(dims.enumerated().filter { $0.offset != inferred }.map(\.element))
            if let t = total.value, let r = rest.value {
                guard r != 0 else {
                    if t != 0 { throw reader.error("cannot reshape \(t) elements into a shape with a zero dimension") }
                    return dims
                }
                guard t % r == 0 else { throw reader.error("cannot reshape \(t) elements into a multiple of \(r)") }
                dims[inferred] = .known(t / r)
            } else {
                dims[inferred] = total.dividedExactly(by: rest)
            }
        } else if let t = total.value, let p = Dim.product(dims).value, t != p {
            throw reader.error("cannot reshape \(t) elements into \(p)")
        }
        return dims
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight; the target shape is an integer tensor.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Flatten`: a 2-D view, `[∏ dims before axis, ∏ dims from axis]`.
///
/// Cost: zero — data movement.
public struct Flatten: OpSchema {
    /// The split point as written (negative counts from the end).
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 1)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: Shape([Dim.unknown, .unknown]))] }
        let split = axis < 0 ? axis + shape.rank : axis
        guard split >= 0 && split <= shape.rank else { throw reader.error("axis \(axis) is out of range for rank \(shape.rank)") }
        let out = Shape([Dim.product(shape.dims[..<split]), Dim.product(shape.dims[split...])])
        return [ValueFact(dtype: data?.dtype, shape: out, value: ShapeMath.reshaped(ShapeMath.value(of: data), out))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
