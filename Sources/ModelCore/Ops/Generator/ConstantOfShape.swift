/// `ConstantOfShape`: a tensor of the shape input 1 holds, filled with the
/// one-element `value` attribute (float32 zero by default).
///
/// Cost: zero — a fill, no arithmetic.
public struct ConstantOfShape: OpSchema {
    /// The element type of the output.
    public let dtype: DType
    /// The fill element, when it is a number.
    let fill: KnownValue?
    /// The one-element `value` attribute; `nil` fills float32 zeros.
    public let value: Tensor?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        value = try reader.tensor("value")
        if let tensor = value {
            guard tensor.elementCount == 1 else { throw reader.error("'value' must hold one element, it holds \(tensor.elementCount)") }
            dtype = tensor.dtype
            fill = KnownValue(tensor: tensor)
        } else {
            dtype = .float
            fill = KnownValue(dims: [], elements: .reals([0]))
        }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let dims = inputs[input: 0]?.value?.integers else {
            return [ValueFact(dtype: dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 0])))]
        }
        if let negative = dims.first(where: { ($0.value ?? 0) < 0 }) { throw reader.error("the shape holds the negative dimension \(negative)") }
        let shape = Shape(dims)
        var value: KnownValue?
        if let fill, let values = shape.values, let count = ShapeMath.smallCount(values) {
            value = ShapeMath.pick(fill, Array(repeating: 0, count: count), dims: values)
        }
        return [ValueFact(dtype: dtype, shape: shape, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
