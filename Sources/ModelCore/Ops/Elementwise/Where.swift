/// `Where(condition, x, y)`: selection, no arithmetic.
public struct Where: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let shape = try Broadcast.shape([inputs[input: 0]?.shape, inputs[input: 1]?.shape, inputs[input: 2]?.shape], node: reader)
        var fact = ValueFact(dtype: inputs[input: 1]?.dtype ?? inputs[input: 2]?.dtype, shape: shape)
        if let c = inputs[input: 0]?.value?.knownIntegers, let x = inputs[input: 1]?.value, let y = inputs[input: 2]?.value,
           let dims = shape?.values, let count = Count.product(dims), count <= KnownValue.maxElements,
           dims.allSatisfy({ $0 <= KnownValue.maxElements }),
           case .integers(let u) = x.elements, case .integers(let v) = y.elements {
            let ci = BroadcastIndex(from: inputs[input: 0]?.value?.dims ?? [], to: dims)
            let xi = BroadcastIndex(from: x.dims, to: dims), yi = BroadcastIndex(from: y.dims, to: dims)
            fact.value = KnownValue(dims: dims, elements: .integers((0..<count).map { i in
                c[ci.source(of: i)] != 0 ? u[xi.source(of: i)] : v[yi.source(of: i)]
            }))
        }
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        outputs.first?.elementCount == nil ? nil : .zero
    }

    /// A one-element x or y is a fill value (the −∞ or minimum float of a masked fill), not a learned weight.
    public var oneElementInputsAreConstants: Bool { true }
}
