/// `ConvInteger` and `QLinearConv`: Conv on quantised operands.
///
/// MACs as for Conv (integer MACs, two FLOPs each, the bias one per output);
/// QLinearConv adds 2 FLOPs per output element to requantise. Zero-point
/// offsets are not counted.
public struct QuantizedConv: OpSchema {
    /// The Conv whose attributes and shape rule this node shares.
    public let convolution: Conv
    /// Input positions of x, w and the bias.
    let operands: [Int]
    /// QLinearConv: scales and zero points around the integer convolution.
    public let requantized: Bool

    public init(node: Node, opset: Int) throws(ModelError) {
        requantized = node.opType == "QLinearConv"
        operands = requantized ? [0, 3, 8] : [0, 1]
        try AttributeReader(node).expectInputs(requantized ? 8...9 : 2...4)
        convolution = try Conv(node: Miscellaneous.delegate(node, as: "Conv", inputs: operands), opset: opset)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = try convolution.infer(operands.map { inputs[input: $0] })[0]
        fact.dtype = requantized ? inputs[input: 7]?.dtype : .int32
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        let base = convolution.cost(operands.map { inputs[input: $0] }, outputs)
        guard requantized else { return base }
        return Miscellaneous.adding(outputs.first?.elementCount.flatMap { Count.product($0, 2) }, to: base)
    }

    /// Stored integer operands are quantised weights (QLinearConv's int32
    /// bias too): they count as many parameters as the float tensors they replace.
    public func learnedValues(stored: [Tensor?]) -> [LearnedValues?] {
        LearnedValues.quantizedOperands(stored, requantized ? [0: [1, 2], 3: [4, 5], 8: []] : [0: [2], 1: [3]])
    }
}
