internal import CKernels
import ModelCore

/// BatchNormalization in inference form, y = a·x + b per channel; then,
/// when an activation is fused (`NormActivationFusion`), clamped.
struct BatchNormKernel: Kernel {
    let epsilon: Float
    let clamp: (low: Float, high: Float)?

    init(_ schema: BatchNormalization, _ setup: KernelSetup, clamp: (low: Float, high: Float)? = nil) throws(ModelError) {
        epsilon = schema.epsilon
        self.clamp = clamp
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "BatchNormalization needs rank ≥ 2") }
        let c = x.shape[1]
        var parameters: [UnsafeMutableBufferPointer<Float>] = []
        for (i, name) in ["scale", "bias", "mean", "var"].enumerated() {
            let p = try floatInput(inputs, i + 1, name)
            guard p.count == c else { throw ModelError(.invalidGraph, "\(name) has \(p.count) values for \(c) channels") }
            parameters.append(p.floats)
        }
        var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
        for i in 0..<c {
            a[i] = parameters[0][i] / (parameters[3][i] + epsilon).squareRoot()
            b[i] = parameters[1][i] - parameters[2][i] * a[i]
        }
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let inner = x.shape.dropFirst(2).reduce(1, *), planes = x.count / max(inner, 1)
        let (source, target) = (x.floats.baseAddress!, output.floats.baseAddress!)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                context.parallelRanges(planes, grain: 8) { range in
                    for plane in range {
                        let channel = plane % c, scale = a[channel], shift = b[channel]
                        let from = source + plane * inner, to = target + plane * inner
                        if let (low, high) = clamp {
                            // Comparisons, so that NaN passes, as Relu and Clip let it.
                            for i in 0..<inner {
                                let y = scale * from[i] + shift
                                let raised = y < low ? low : y
                                to[i] = raised > high ? high : raised
                            }
                        } else {
                            for i in 0..<inner { to[i] = scale * from[i] + shift }
                        }
                    }
                }
            }
        }
        return [output]
    }
}

extension BatchNormalization: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        try HalfPrecision(BatchNormKernel(self, setup), setup)
    }
}
