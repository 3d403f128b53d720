import ModelCore

/// CausalConvWithState (opset 27) in float32 (float16 and bfloat16 through
/// `HalfPrecision`). Each channel's sequence is extended on the left by the
/// k − 1 carried values (past_state, or zeros), output t is the weighted sum
/// of extended positions t…t + k − 1 plus the bias, optionally through SiLU,
/// and the new state is the extended sequence's last k − 1 values.
struct CausalConvWithStateKernel: Kernel {
    /// Whether the output goes through SiLU (`silu`, or its alias `swish`).
    let silu: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "CausalConvWithState input"), w = try floatInput(inputs, 1, "CausalConvWithState weight")
        guard x.shape.count == 3 else { throw ModelError(.invalidGraph, "CausalConvWithState input must have rank 3, got shape \(x.shape)") }
        let (batch, channels, length) = (x.shape[0], x.shape[1], x.shape[2])
        guard w.shape.count == 3, w.shape[0] == channels, w.shape[1] == 1, w.shape[2] >= 1 else {
            throw ModelError(.invalidGraph, "CausalConvWithState weight must have shape [\(channels), 1, k ≥ 1], got \(w.shape)")
        }
        let k = w.shape[2], carried = k - 1
        let bias = optionalInput(inputs, 2) == nil ? nil : try floatInput(inputs, 2, "CausalConvWithState bias")
        if let bias, bias.shape != [channels] {
            throw ModelError(.invalidGraph, "CausalConvWithState bias must have shape [\(channels)], got \(bias.shape)")
        }
        let past = optionalInput(inputs, 3) == nil ? nil : try floatInput(inputs, 3, "CausalConvWithState past_state")
        if let past, past.shape != [batch, channels, carried] {
            throw ModelError(.invalidGraph, "CausalConvWithState past_state must have shape [\(batch), \(channels), \(carried)], got \(past.shape)")
        }
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let state = try EngineTensor(dtype: .float, shape: [batch, channels, carried])
        let (source, weights, target, carry) = (x.floats, w.floats, output.floats, state.floats)
        let (biases, previous, silu) = (bias?.floats, past?.floats, silu)
        context.parallelRanges(batch * channels) { planes in
            for plane in planes {
                let c = plane % channels
                let input = source.baseAddress! + plane * length, kernel = weights.baseAddress! + c * k
                let pastPlane = previous.map { $0.baseAddress! + plane * carried }
                // Position t of the extended sequence: carried values first, then the input.
                func extended(_ t: Int) -> Float { t < carried ? pastPlane?[t] ?? 0 : input[t - carried] }
                let out = target.baseAddress! + plane * length
                for t in 0..<length {
                    var sum = biases?[c] ?? 0
                    for j in 0..<k { sum += kernel[j] * extended(t + j) }
                    out[t] = silu ? sum * RealFunction.sigmoid(sum) : sum
                }
                let newState = carry.baseAddress! + plane * carried
                for i in 0..<carried { newState[i] = extended(length + i) }
            }
        }
        return [output, state]
    }
}

extension CausalConvWithState: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try HalfPrecision(CausalConvWithStateKernel(silu: activation != "none"), setup)
    }
}
