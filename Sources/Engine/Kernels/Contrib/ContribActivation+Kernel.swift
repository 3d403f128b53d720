import ModelCore

/// onnxruntime's fused activations, float32: the biases (FastGelu's and
/// BiasGelu's input 1, BiasAdd's bias and skip) are added first with the
/// engine's broadcasting, then the function runs in place. Gelu and BiasGelu
/// are the erf form, FastGelu the tanh form, QuickGelu is Swish with α.
struct ContribActivationKernel: Kernel {
    /// The function after the additions; `nil` for BiasAdd.
    let function: RealFunction?
    let op: String

    init(_ schema: ContribActivation) {
        op = schema.op
        function = switch schema.op {
        case "Gelu", "BiasGelu": .gelu(tanhApproximation: false)
        case "FastGelu": .gelu(tanhApproximation: true)
        case "QuickGelu": .swish(alpha: schema.alpha)
        default: nil
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "\(op) input")
        var y = x
        for index in 1..<max(1, inputs.count) {
            guard let addend = inputs[index] else { continue }
            guard addend.dtype == .float else { throw ModelError(.invalidGraph, "\(op) input \(index) must be float32 like input 0, got \(addend.dtype)") }
            y = try broadcastBinary(y, addend, .float, context) { (a: Float, b: Float) in a + b }
            guard y.shape == x.shape else {
                throw ModelError(.invalidGraph, "\(op) input \(index) of shape \(addend.shape) does not broadcast to the input's \(x.shape)")
            }
        }
        guard let function else { return [y] }
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let (from, to) = (UnsafePointer(y.floats.baseAddress!), output.floats.baseAddress!)
        context.parallelRanges(x.count, grain: elementwiseGrain / 8) { range in function.apply(from, to, range) }
        return [output]
    }
}

extension ContribActivation: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ContribActivationKernel(self) }
}
