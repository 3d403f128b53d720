/// One input, one same-shaped output (plus Dropout's optional mask).
public struct Unary: OpSchema {
    public let op: String
    /// The activation's parameters, with the operator's own defaults:
    /// `alpha` of LeakyRelu (0.01), HardSigmoid (0.2), Elu, Celu,
    /// ThresholdedRelu and Swish (1) and Selu (1.6733), `beta` of
    /// HardSigmoid (0.5), `gamma` of Selu (1.0507).
    public let alpha: Float, beta: Float, gamma: Float
    /// Gelu: the tanh approximation (`approximate = tanh`).
    public let tanhApproximation: Bool
    /// Shrink: `bias` (0) and `lambd` (0.5).
    public let shrinkBias: Float, shrinkLambda: Float
    /// Clip before opset 11: the `min` and `max` attributes (inputs from opset 11).
    public let clipBounds: (min: Float, max: Float)?
    /// IsInf: which infinities count (`detect_positive`, `detect_negative`).
    public let detectPositive: Bool, detectNegative: Bool
    let flopsPerElement: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        flopsPerElement = Elementwise.unaryFLOPs[op] ?? 1
        let reader = AttributeReader(node)
        // Clip takes min and max as inputs from opset 11; Dropout its ratio and training mode from 12.
        try reader.expectInputs(op == "Clip" || op == "Dropout" ? 1...3 : 1...1)
        let defaultAlpha: Float = switch op {
        case "LeakyRelu": 0.01
        case "HardSigmoid": 0.2
        case "Selu": 1.67326319217681884765625
        default: 1
        }
        alpha = try reader.float("alpha", default: defaultAlpha)
        beta = try reader.float("beta", default: 0.5)
        gamma = try reader.float("gamma", default: 1.05070102214813232421875)
        let approximate = op == "Gelu" ? try reader.string("approximate", default: "none") : "none"
        guard approximate == "none" || approximate == "tanh" else {
            throw reader.error("Gelu approximate must be 'none' or 'tanh', not '\(approximate)'")
        }
        tanhApproximation = approximate == "tanh"
        shrinkBias = try reader.float("bias", default: 0)
        shrinkLambda = try reader.float("lambd", default: 0.5)
        clipBounds = op == "Clip" && opset < 11
            ? (try reader.float("min", default: -.greatestFiniteMagnitude), try reader.float("max", default: .greatestFiniteMagnitude))
            : nil
        detectPositive = try reader.int("detect_positive", default: 1) != 0
        detectNegative = try reader.int("detect_negative", default: 1) != 0
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = inputs[input: 0] ?? .unknown
        switch op {
        case "Identity":
            return [fact]
        case "Dropout":
            // At inference the data passes through unchanged; the mask is all true.
            return [fact, ValueFact(dtype: .bool, shape: fact.shape)]
        case "IsNaN", "IsInf":
            return [ValueFact(dtype: .bool, shape: fact.shape)]
        case "Neg", "Abs":
            if let value = fact.value, case .integers(let v) = value.elements {
                fact.value = KnownValue(dims: value.dims, elements: .integers(v.map { d in
                    guard let x = d.value else { return op == "Neg" ? d * .known(-1) : .unknown }
                    return .known(op == "Neg" ? -x : abs(x))
                }))
                return [fact]
            }
        default:
            break
        }
        fact.value = nil
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: flopsPerElement)
    }

    /// Clip's bounds (ReLU6's 0 and 6) are settings, not learned parameters.
    public func holdsParameters(input index: Int) -> Bool { op != "Clip" }
}
