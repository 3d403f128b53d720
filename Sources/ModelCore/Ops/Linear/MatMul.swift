/// `MatMul`: NumPy matrix product with broadcast batch dimensions.
public struct MatMul: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(2...2)
    }

    /// Output shape and the contracted size K.
    func product(_ inputs: [ValueFact?]) throws(ModelError) -> (shape: Shape, k: Dim)? {
        guard let a = inputs[input: 0]?.shape, let b = inputs[input: 1]?.shape else { return nil }
        guard a.rank >= 1, b.rank >= 1 else { throw reader.error("MatMul inputs must have rank 1 or more") }
        // A 1-D operand is a row (left) or column (right) vector that the result drops.
        let left = a.rank == 1 ? [Dim.known(1)] + a.dims : a.dims
        let right = b.rank == 1 ? b.dims + [Dim.known(1)] : b.dims
        let k = left[left.count - 1], kb = right[right.count - 2]
        if let x = k.value, let y = kb.value, x != y { throw reader.error("inner dimensions \(x) and \(y) differ") }
        let batch = try Broadcast.shape([Shape(Array(left.dropLast(2))), Shape(Array(right.dropLast(2)))], node: reader)
        var dims = (batch?.dims ?? [])
        if a.rank > 1 { dims.append(left[left.count - 2]) }
        if b.rank > 1 { dims.append(right[right.count - 1]) }
        return (Shape(dims), k.value == nil ? kb : k)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        guard let (shape, _) = try product(inputs) else { return [ValueFact(dtype: dtype, shape: nil)] }
        return [ValueFact(dtype: dtype, shape: shape)]
    }

    /// MACs = (output elements) · K.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (shape, k) = try? product(inputs), let count = shape.elementCount, let k = k.value,
              let macs = Count.product(count, k) else { return nil }
        return .multiplyAccumulate(macs)
    }
}
