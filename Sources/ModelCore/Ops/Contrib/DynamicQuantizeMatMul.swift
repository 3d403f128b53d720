/// onnxruntime's `DynamicQuantizeMatMul` (`com.microsoft`), which its
/// quantizer's dynamic mode and graph optimizer write: A (float32) quantised
/// to uint8 with a scale and zero point from its own range, as
/// DynamicQuantizeLinear does, times B (int8 or uint8, with `b_scale` and
/// `b_zero_point` per tensor or per column), the integer sums scaled back to
/// float32, plus `bias` when given.
///
/// Cost: as MatMul (integer MACs, 2 FLOPs each), plus DynamicQuantizeLinear's
/// 4 FLOPs per element of A, plus 1 FLOP per output element for the scaling
/// and 1 more for the bias. Zero-point offsets are not counted.
public struct DynamicQuantizeMatMul: OpSchema {
    /// The MatMul of A and B whose shape rule this node shares.
    let product: MatMul
    let biased: Bool

    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(3...5)
        biased = node.inputs.count > 4 && !node.inputs[4].isEmpty
        product = try MatMul(node: Miscellaneous.delegate(node, as: "MatMul", inputs: [0, 1]), opset: opset)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = try product.infer([inputs[input: 0], inputs[input: 1]])[0]
        fact.dtype = inputs[input: 0]?.dtype
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        let base = product.cost([inputs[input: 0], inputs[input: 1]], outputs)
        guard let quantized = inputs[input: 0]?.elementCount.flatMap({ Count.product($0, 4) }),
              let scaled = outputs.first?.elementCount.flatMap({ Count.product($0, biased ? 2 : 1) }) else { return nil }
        return Miscellaneous.adding(scaled, to: Miscellaneous.adding(quantized, to: base))
    }

    /// B is a quantised weight (as many parameters as the float matrix it
    /// replaces) with its scale and zero point; the bias is float.
    public func learnedValues(stored: [Tensor?]) -> [LearnedValues?] {
        var values = LearnedValues.quantizedOperands(stored, [1: [2, 3]])
        if stored.count > 4, let bias = stored[4] { values[4] = LearnedValues(floatingPoint: bias) }
        return values
    }
}
