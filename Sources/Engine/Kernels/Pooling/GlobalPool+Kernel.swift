#if canImport(Glibc)
import Glibc
#endif
import ModelCore

/// GlobalAveragePool, GlobalMaxPool and GlobalLpPool over all spatial axes.
struct GlobalPoolKernel: Kernel {
    let average: Bool
    /// GlobalLpPool's exponent; `nil` for the other two.
    var p: Float? = nil

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "input X")
        guard x.shape.count >= 3 else { throw ModelError(.invalidGraph, "global pooling needs rank ≥ 3") }
        let planes = x.shape[0] * x.shape[1], inner = x.count / max(planes, 1)
        let output = try EngineTensor(dtype: .float, shape: Array(x.shape.prefix(2)) + Array(repeating: 1, count: x.shape.count - 2))
        let (source, target) = (x.floats.baseAddress!, output.floats.baseAddress!)
        if average && p == nil {
            rowMeans(source, rows: planes, length: inner, into: target, context)
            return [output]
        }
        for plane in 0..<planes {
            let from = source + plane * inner
            if let p {
                var sum: Float = 0
                for i in 0..<inner { sum += pow(abs(from[i]), p) }
                target[plane] = pow(sum, 1 / p)
            } else {
                var best = -Float.infinity
                for i in 0..<inner where from[i] > best || from[i].isNaN { best = from[i] }
                target[plane] = best
            }
        }
        return [output]
    }
}

extension GlobalPool: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        switch setup.node.opType {
        case "GlobalAveragePool": return try HalfPrecision(GlobalPoolKernel(average: true), setup)
        case "GlobalMaxPool": return try HalfPrecision(GlobalPoolKernel(average: false), setup)
        case "GlobalLpPool": return try HalfPrecision(GlobalPoolKernel(average: false, p: Float(p)), setup)
        default: throw setup.noKernel
        }
    }
}
