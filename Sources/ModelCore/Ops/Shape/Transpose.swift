/// `Transpose`: permutes the axes (`perm`, reversed by default).
///
/// Cost: zero — data movement.
public struct Transpose: OpSchema {
    /// Output axis `i` is input axis `perm[i]`; `nil` means reversed.
    public let perm: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        perm = try reader.ints("perm")
        if let perm, Set(perm) != Set(0..<perm.count) {
            throw reader.error("perm \(perm) is not a permutation")
        }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: perm?.count))]
        }
        let order = perm ?? Array((0..<shape.rank).reversed())
        guard order.count == shape.rank else { throw reader.error("perm has \(order.count) axes, the input \(shape.rank)") }
        let out = Shape(order.map { shape.dims[$0] })
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let strides = Shape.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                zip(index, order).reduce(0) { $0 + $1.0 * strides[$1.1] }
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
