#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Trilu: the upper or lower triangle of the last two axes (shifted by k, input 1), the rest zero.
struct TriluKernel: Kernel {
    let upper: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "the input must have rank 2 or more") }
        let k = try optionalInput(inputs, 1).map { t throws(ModelError) in try ShapeKernels.scalarInteger(t, "k") } ?? 0
        let rows = x.shape[x.shape.count - 2], columns = x.shape[x.shape.count - 1]
        var output = try ElementOutput(copying: x)
        let zero = try FillElement(zeroOf: x.dtype)
        let matrices = rows * columns == 0 ? 0 : x.count / (rows * columns)
        for m in 0..<matrices {
            for i in 0..<rows {
                // Row i keeps columns j with j − i ≥ k (upper) or j − i ≤ k (lower).
                let row = (m * rows + i) * columns
                let edge = min(max(i &+ k, 0), columns)
                if upper {
                    output.fill(zero, at: row, count: edge)
                } else {
                    let keep = min(max(i &+ k &+ 1, 0), columns)
                    output.fill(zero, at: row + keep, count: columns - keep)
                }
            }
        }
        return [output.tensor]
    }
}

extension Trilu: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { TriluKernel(upper: upper) }
}
