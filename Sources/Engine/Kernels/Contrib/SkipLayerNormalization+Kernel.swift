import ModelCore

/// SkipLayerNormalization, SkipSimplifiedLayerNormalization and
/// SimplifiedLayerNormalization, float32: the sum input + skip (+ bias) made
/// with the engine's broadcasting, then normalised by the statistics code of
/// LayerNormalization and RMSNormalization (`moments`, `normalize`).
struct SkipLayerNormKernel: Kernel {
    let epsilon: Double
    /// Whether the mean is not subtracted (RMS).
    let simplified: Bool
    /// Whether inputs 1 and on are skip, gamma, (beta,) bias; else input 1 is the scale.
    let skipForm: Bool
    let axis: Int
    let op: String

    init(_ schema: SkipLayerNormalization) {
        epsilon = Double(schema.epsilon)
        simplified = schema.simplified
        skipForm = schema.op != "SimplifiedLayerNormalization"
        axis = schema.axis
        op = schema.op
    }

    /// `a` + `b` broadcast, which must keep `a`'s shape.
    private func sum(_ a: EngineTensor, _ b: EngineTensor, _ what: String, _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        guard b.dtype == .float else { throw ModelError(.invalidGraph, "\(op) \(what) must be float32, got \(b.dtype)") }
        let result = try broadcastBinary(a, b, .float, context) { (x: Float, y: Float) in x + y }
        guard result.shape == a.shape else { throw ModelError(.invalidGraph, "\(op) \(what) of shape \(b.shape) does not broadcast to the input's \(a.shape)") }
        return result
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var x = try floatInput(inputs, 0, "\(op) input")
        guard !x.shape.isEmpty else { throw ModelError(.invalidGraph, "\(op) input must have rank 1 or more") }
        let scale: EngineTensor, beta: EngineTensor?
        var first = x.shape.count - 1
        if skipForm {
            x = try sum(x, try floatInput(inputs, 1, "\(op) skip"), "skip", context)
            scale = try floatInput(inputs, 2, "\(op) gamma")
            beta = simplified ? nil : optionalInput(inputs, 3)
            if let bias = optionalInput(inputs, simplified ? 3 : 4) { x = try sum(x, bias, "bias", context) }
        } else {
            scale = try floatInput(inputs, 1, "\(op) scale")
            beta = nil
            first = try ShapeKernels.axis(axis, rank: x.shape.count)
        }
        let layout = ReductionLayout(shape: x.shape, axes: Set(first..<x.shape.count))
        let (mean, inverse) = moments(x, Float.self, layout, epsilon: epsilon, centered: !simplified, context)
        let y = try normalize(x, Float.self, layout, mean: mean, inverseDeviation: inverse, scale: (scale, trimmedShape(scale.shape)),
                              bias: beta.map { ($0, trimmedShape($0.shape)) }, context)
        let inverseTensor = try EngineTensor(floats: inverse.map { Float($0) }, shape: layout.kept)
        guard skipForm else { return [y, inverseTensor] }
        return [y, try EngineTensor(floats: mean.map { Float($0) }, shape: layout.kept), inverseTensor, x]
    }
}

extension SkipLayerNormalization: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { SkipLayerNormKernel(self) }
}
