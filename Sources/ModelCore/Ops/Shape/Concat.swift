/// `Concat`: joins inputs along `axis`; the other dimensions must agree.
///
/// Cost: zero — data movement.
public struct Concat: OpSchema {
    /// The joining axis as written (default 1 before opset 4, required after).
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if opset < 4 {
            axis = try reader.int("axis", default: 1)
        } else {
            guard let axis = try reader.int("axis") else { throw reader.error("Concat needs an 'axis' attribute") }
            self.axis = axis
        }
        try reader.expectInputs(1...Int.max)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs.lazy.compactMap { $0?.dtype }.first
        let shapes = inputs.map { $0?.shape }
        guard let rank = shapes.lazy.compactMap({ $0?.rank }).first else { return [ValueFact(dtype: dtype, shape: nil)] }
        let joined = try ShapeMath.axis(axis, rank: rank, reader: reader)
        var dims = Array(repeating: Dim.unknown, count: rank)
        var total: Dim = .known(0)
        for shape in shapes {
            guard let shape else { total = .unknown; continue }
            guard shape.rank == rank else { throw reader.error("Concat inputs have ranks \(rank) and \(shape.rank)") }
            for (i, d) in shape.dims.enumerated() where i != joined {
                if let a = dims[i].value, let b = d.value, a != b {
                    throw reader.error("Concat inputs differ in dimension \(i): \(a) and \(b)")
                }
                if dims[i] == .unknown || (dims[i].value == nil && d.value != nil) { dims[i] = d }
            }
            total = total + shape.dims[joined]
        }
        dims[joined] = total
        var value: KnownValue?
        let values = inputs.compactMap { ShapeMath.value(of: $0) }
        if values.count == inputs.count { value = ShapeMath.concatenate(values, axis: joined) }
        return [ValueFact(dtype: dtype, shape: Shape(dims), value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
