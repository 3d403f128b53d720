#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - ArgMax, ArgMin

/// ArgMax and ArgMin: the int64 index of the extreme along `axis`; ties go to
/// the first index, or the last with select_last_index. A NaN counts as the extreme, as in NumPy.
struct ArgExtremeKernel: Kernel {
    let axis: Int
    let keepDims: Bool
    let selectLast: Bool
    let largest: Bool

    init(_ schema: ArgExtreme, _ setup: KernelSetup) throws(ModelError) {
        axis = schema.axis
        keepDims = schema.keepDims
        selectLast = schema.selectLast
        largest = setup.node.opType == "ArgMax"
    }

    /// The search over one element type.
    struct Apply: NumberVisitor {
        let x: EngineTensor
        let split: AxisSplit
        let output: EngineTensor
        let largest: Bool, selectLast: Bool

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> Void {
            let (from, to) = (x.elements(T.self), output.elements(Int64.self))
            let (largest, selectLast) = (self.largest, self.selectLast)
            for line in 0..<(split.outer * split.inner) {
                var best = from[split.index(line: line, 0)], at = 0
                for j in 1..<split.length {
                    let v = from[split.index(line: line, j)]
                    if best != best { break }   // a NaN is already the answer
                    let better = v != v || (largest ? v > best : v < best) || (selectLast && v == best)
                    if better {
                        best = v
                        at = j
                    }
                }
                to[line] = Int64(at)
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input data")
        let a = try ShapeKernels.axis(axis, rank: x.shape.count)
        guard x.shape[a] > 0 else { throw ModelError(.invalidGraph, "cannot take the extreme of an empty axis \(a) of shape \(x.shape)") }
        var shape = x.shape
        if keepDims { shape[a] = 1 } else { shape.remove(at: a) }
        let output = try EngineTensor(dtype: .int64, shape: shape)
        let apply = Apply(x: x, split: AxisSplit(x.shape, axis: a), output: output, largest: largest, selectLast: selectLast)
        try ElementTypes.visit(x.dtype, apply, largest ? "ArgMax" : "ArgMin")
        return [output]
    }
}

extension ArgExtreme: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ArgExtremeKernel(self, setup) }
}
