/// `MatMulInteger` and `QLinearMatMul`: MatMul on quantised operands.
///
/// MACs as for MatMul (integer MACs, two FLOPs each); QLinearMatMul adds 2
/// FLOPs per output element to requantise. Zero-point offsets are not counted.
public struct QuantizedMatMul: OpSchema {
    /// The MatMul whose shape rule this node shares.
    public let product: MatMul
    /// Input positions of A and B.
    let operands: [Int]
    /// QLinearMatMul: output zero point at input 7, requantisation counted.
    public let requantized: Bool

    public init(node: Node, opset: Int) throws(ModelError) {
        requantized = node.opType == "QLinearMatMul"
        operands = requantized ? [0, 3] : [0, 1]
        try AttributeReader(node).expectInputs(requantized ? 8...8 : 2...4)
        product = try MatMul(node: Miscellaneous.delegate(node, as: "MatMul", inputs: operands), opset: opset)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = try product.infer(operands.map { inputs[input: $0] })[0]
        fact.dtype = requantized ? inputs[input: 7]?.dtype : .int32
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        let base = product.cost(operands.map { inputs[input: $0] }, outputs)
        guard requantized else { return base }
        return Miscellaneous.adding(outputs.first?.elementCount.flatMap { Count.product($0, 2) }, to: base)
    }

    /// A stored integer operand is a quantised weight: it counts as many
    /// parameters as the float matrix it replaces.
    public func learnedValues(stored: [Tensor?]) -> [LearnedValues?] {
        LearnedValues.quantizedOperands(stored, requantized ? [0: [1, 2], 3: [4, 5]] : [0: [2], 1: [3]])
    }
}
