#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - CumSum, CumProd

/// CumSum and CumProd along the axis given as input 1; `exclusive` leaves each
/// element out of its own total, `reverse` runs from the end.
struct CumulativeKernel: Kernel {
    let product: Bool
    let exclusive: Bool
    let reverse: Bool
    let op: String

    init(_ schema: Cumulative, _ setup: KernelSetup) {
        op = setup.node.opType
        product = schema.product
        exclusive = schema.exclusive
        reverse = schema.reverse
    }

    /// The running totals over one element type.
    struct Apply: NumberVisitor {
        let x: EngineTensor
        let split: AxisSplit
        let product: Bool, exclusive: Bool, reverse: Bool

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            let (from, to) = (x.elements(T.self), output.elements(T.self))
            let n = split.length
            for line in 0..<(split.outer * split.inner) {
                var total = product ? T.one : T.zero
                for step in 0..<n {
                    let index = split.index(line: line, reverse ? n - 1 - step : step)
                    let v = from[index]
                    if exclusive { to[index] = total }
                    total = product ? T.product(total, v) : T.sum(total, v)
                    if !exclusive { to[index] = total }
                }
            }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input x")
        let axes = try integerValues(try requiredInput(inputs, 1, "axis"), "axis")
        guard axes.count == 1 else { throw ModelError(.invalidGraph, "\(op) axis must be one value, got \(axes.count)") }
        let a = try ShapeKernels.axis(axes[0], rank: x.shape.count)
        let apply = Apply(x: x, split: AxisSplit(x.shape, axis: a), product: product, exclusive: exclusive, reverse: reverse)
        return [try ElementTypes.visit(x.dtype, apply, op)]
    }
}

extension Cumulative: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { CumulativeKernel(self, setup) }
}
