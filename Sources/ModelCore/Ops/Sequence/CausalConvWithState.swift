/// `CausalConvWithState` (opset 27): depthwise causal 1-D convolution that carries its last k − 1 inputs as state.
///
/// MACs = B · C · L · k; the bias adds 1 FLOP per output element and the
/// SiLU/Swish activation 5.
public struct CausalConvWithState: OpSchema {
    /// `activation`: silu, swish or none.
    public let activation: String
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        activation = try reader.string("activation", default: "none")
        guard ["silu", "swish", "none"].contains(activation) else { throw reader.error("unknown activation '\(activation)'") }
        try reader.expectInputs(2...4)
    }

    /// Batch, channels, length and kernel size.
    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> (batch: Dim, channels: Dim, length: Dim, kernel: Dim) {
        let same = SequenceModels.same
        var batch = Dim.unknown, channels = Dim.unknown, length = Dim.unknown, kernel = Dim.unknown
        if let x = inputs[input: 0]?.shape {
            guard x.rank == 3 else { throw reader.error("input must have rank 3, got \(x.rank)") }
            (batch, channels, length) = (x.dims[0], x.dims[1], x.dims[2])
        }
        if let w = inputs[input: 1]?.shape {
            guard w.rank == 3 else { throw reader.error("weight must have rank 3, got \(w.rank)") }
            channels = try same(channels, w.dims[0], "channel count", reader)
            _ = try same(w.dims[1], .known(1), "weight's second dimension", reader)
            kernel = w.dims[2]
        }
        if let b = inputs[input: 2]?.shape {
            guard b.rank == 1 else { throw reader.error("bias must have rank 1, got \(b.rank)") }
            channels = try same(channels, b.dims[0], "channel count", reader)
        }
        if let s = inputs[input: 3]?.shape {
            guard s.rank == 3 else { throw reader.error("past_state must have rank 3, got \(s.rank)") }
            batch = try same(batch, s.dims[0], "batch size", reader)
            channels = try same(channels, s.dims[1], "channel count", reader)
            kernel = try same(kernel, s.dims[2] + .known(1), "kernel size", reader)
        }
        if let k = kernel.value, k < 1 { throw reader.error("kernel size must be positive, got \(k)") }
        return (batch, channels, length, kernel)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let (batch, channels, length, kernel) = try geometry(inputs)
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        return [
            ValueFact(dtype: dtype, shape: Shape([batch, channels, length])),
            ValueFact(dtype: dtype, shape: Shape([batch, channels, kernel - .known(1)])),
        ]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (batch, channels, length, kernel) = try? geometry(inputs),
              let n = Shape([batch, channels, length, kernel]).values,
              let count = Count.product(n[0], n[1], n[2]),
              let macs = Count.product(count, n[3]) else { return nil }
        let perElement = (inputs[input: 2] != nil ? 1 : 0) + (activation == "none" ? 0 : 5)
        guard let extra = Count.product(count, perElement) else { return nil }
        return .multiplyAccumulate(macs, plus: extra)
    }

    /// The weight and bias are learned; the input and the carried state are not.
    public func holdsParameters(input index: Int) -> Bool { index == 1 || index == 2 }
}
