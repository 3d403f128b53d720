/// `DeformConv`: convolution whose kernel taps sample the input at learned offsets.
///
/// MACs as for Conv; every sampled input value (N · C · ∏ output spatial ·
/// ∏ kernel) adds 7 FLOPs of bilinear interpolation, and 1 more when a mask scales it.
public struct DeformConv: OpSchema {
    /// The node read as a Conv of X, W and B: group, kernel shape, strides, pads and dilations.
    public let convolution: Conv
    /// `offset_group`: the input channels are split into this many groups, each sampled at its own offsets.
    public let offsetGroup: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        offsetGroup = try reader.int("offset_group", default: 1)
        guard offsetGroup > 0 else { throw reader.error("offset_group must be positive, got \(offsetGroup)") }
        try reader.expectInputs(3...5)
        convolution = try Conv(node: Miscellaneous.delegate(node, as: "Conv", inputs: [0, 1, 3]), opset: opset)
    }

    func operands(_ inputs: [ValueFact?]) -> [ValueFact?] {
        [inputs[input: 0], inputs[input: 1], inputs[input: 3]]
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        try convolution.infer(operands(inputs))
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let x = inputs[input: 0]?.shape?.values, x.count >= 2,
              let w = inputs[input: 1]?.shape?.values, w.count >= 2,
              let out = outputs.first?.shape?.values, out.count >= 2,
              let samples = Count.product([x[0], x[1]] + Array(out.dropFirst(2)) + Array(w.dropFirst(2))),
              let interpolation = Count.product(samples, inputs[input: 4] != nil ? 8 : 7) else { return nil }
        return Miscellaneous.adding(interpolation, to: convolution.cost(operands(inputs), outputs))
    }

    /// The weight and bias are learned; offsets and masks are computed.
    public func holdsParameters(input index: Int) -> Bool { index == 1 || index == 3 }
}
