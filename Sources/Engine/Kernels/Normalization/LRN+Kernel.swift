#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// LRN: x / (bias + alpha/size · Σ x²)^beta, the sum over the `size`
/// channels around each one (⌊(size−1)/2⌋ before, ⌈(size−1)/2⌉ after).
struct LRNKernel: Kernel {
    let size: Int
    let alpha: Double, beta: Double, bias: Double

    init(_ schema: LRN, _ setup: KernelSetup) throws(ModelError) {
        size = schema.size
        alpha = Double(schema.alpha)
        beta = Double(schema.beta)
        bias = Double(schema.bias)
    }

    /// The normalisation over one element type.
    struct Apply: RealVisitor {
        let x: EngineTensor
        let size: Int
        let alpha: Double, beta: Double, bias: Double

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            let (from, to) = (x.elements(T.self), output.elements(T.self))
            let split = AxisSplit(x.shape, axis: 1)
            let (before, after) = ((size - 1) / 2, size / 2)
            for line in 0..<(split.outer * split.inner) {
                for c in 0..<split.length {
                    var sum = 0.0
                    for d in Swift.max(0, c - before)...Swift.min(split.length - 1, c + after) {
                        let v = from[split.index(line: line, d)].doubleValue
                        sum += v * v
                    }
                    let index = split.index(line: line, c)
                    to[index] = T(nearest: from[index].doubleValue / Glibc.pow(bias + alpha / Double(size) * sum, beta))
                }
            }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "LRN needs an input of rank 2 or more, got \(x.shape)") }
        return [try ElementTypes.visit(x.dtype, Apply(x: x, size: size, alpha: alpha, beta: beta, bias: bias), "LRN")]
    }
}

extension LRN: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try LRNKernel(self, setup) }
}
