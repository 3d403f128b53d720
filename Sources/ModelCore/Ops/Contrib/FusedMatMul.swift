/// onnxruntime's `FusedMatMul` (`com.microsoft`): alpha · op(A) · op(B),
/// where op transposes the last two axes when `transA` / `transB` is set.
///
/// Cost: as MatMul, MACs = (output elements) · K; the scaling by alpha is
/// folded into the product.
public struct FusedMatMul: OpSchema {
    public let transA: Bool, transB: Bool
    /// The scale of the product.
    public let alpha: Float
    let product: MatMul

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        transA = try reader.int("transA", default: 0) != 0
        transB = try reader.int("transB", default: 0) != 0
        alpha = try reader.float("alpha", default: 1)
        let transBatchA = try reader.int("transBatchA", default: 0), transBatchB = try reader.int("transBatchB", default: 0)
        if transBatchA != 0 || transBatchB != 0 {
            throw reader.error("FusedMatMul with transBatchA or transBatchB is not analysed")
        }
        product = try MatMul(node: node, opset: opset)
    }

    /// The inputs as MatMul sees them: the last two axes swapped where asked.
    func operands(_ inputs: [ValueFact?]) -> [ValueFact?] {
        func swapped(_ fact: ValueFact?, _ transpose: Bool) -> ValueFact? {
            guard transpose, var fact, let shape = fact.shape, shape.rank >= 2 else { return fact }
            var dims = shape.dims
            dims.swapAt(dims.count - 1, dims.count - 2)
            fact.shape = Shape(dims)
            fact.value = nil
            return fact
        }
        return [swapped(inputs[input: 0], transA), swapped(inputs[input: 1], transB)]
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        try product.infer(operands(inputs))
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        product.cost(operands(inputs), outputs)
    }
}
