/// `Gemm`: Y = alpha · A' · B' + beta · C, with A' and B' optionally transposed.
public struct Gemm: OpSchema {
    public let transA: Bool
    public let transB: Bool
    public let alpha: Float
    public let beta: Float
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        alpha = try reader.float("alpha", default: 1)
        beta = try reader.float("beta", default: 1)
        transA = try reader.int("transA", default: 0) != 0
        transB = try reader.int("transB", default: 0) != 0
        try reader.expectInputs(2...3)
    }

    /// (M, K, N) from the shapes of A and B.
    func dims(_ inputs: [ValueFact?]) throws(ModelError) -> (m: Dim, k: Dim, n: Dim)? {
        guard let a = inputs[input: 0]?.shape, let b = inputs[input: 1]?.shape else { return nil }
        guard a.rank == 2, b.rank == 2 else { throw reader.error("Gemm needs 2-D inputs, got ranks \(a.rank) and \(b.rank)") }
        let m = transA ? a.dims[1] : a.dims[0], k = transA ? a.dims[0] : a.dims[1]
        let kb = transB ? b.dims[1] : b.dims[0], n = transB ? b.dims[0] : b.dims[1]
        if let x = k.value, let y = kb.value, x != y { throw reader.error("inner dimensions \(x) and \(y) differ") }
        return (m, k.value == nil ? kb : k, n)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        guard let (m, _, n) = try dims(inputs) else { return [ValueFact(dtype: dtype, shape: nil)] }
        return [ValueFact(dtype: dtype, shape: Shape([m, n]))]
    }

    /// MACs = M · K · N; adding C costs one FLOP per output element.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (m, k, n) = try? dims(inputs), let m = m.value, let k = k.value, let n = n.value,
              let macs = Count.product(m, k, n) else { return nil }
        return .multiplyAccumulate(macs, plus: inputs[input: 2] != nil ? Count.product(m, n) ?? 0 : 0)
    }
}
