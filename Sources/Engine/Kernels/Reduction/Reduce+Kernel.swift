#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Reduce*

/// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1,
/// ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare. Axes come from
/// the attribute or, in later opsets, input 1; none means all axes unless
/// noop_with_empty_axes makes the node an identity. Reducing an empty set
/// gives the operation's identity (0, 1, −∞ for Max, +∞ for Min; NaN for Mean).
struct ReduceKernel: Kernel {
    let schema: Reduce

    init(_ schema: Reduce, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
    }

    /// The reduction over one element type.
    struct Apply: NumberVisitor {
        let kind: ReduceKind
        let x: EngineTensor
        let layout: ReductionLayout
        let shape: [Int]
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: shape)
            let (from, to) = (x.elements(T.self), output.elements(T.self))
            switch kind {
            case .max, .min:
                let isMax = kind == .max
                // Bool is visited as UInt8, whose empty-set Min must still be true (1).
                to.initialize(repeating: isMax ? T.lowest : (x.dtype == .bool ? T.one : T.highest))
                if isMax {
                    layout.forEachPair(context) { o, i in to[o] = T.larger(to[o], from[i]) }
                } else {
                    layout.forEachPair(context) { o, i in to[o] = T.smaller(to[o], from[i]) }
                }
            case .sum, .mean, .prod, .l1, .sumSquare:
                // Integers sum exactly (with wrap-around) instead of through float64.
                if x.dtype.kind == .float { realReduction(from, to) } else { integerReduction(from, to) }
            case .l2, .logSum, .logSumExp:
                realReduction(from, to)
            }
            return output
        }

        /// Sums and products of integers, exact with wrap-around; Mean truncates.
        private func integerReduction<T: Number>(_ from: UnsafeMutableBufferPointer<T>, _ to: UnsafeMutableBufferPointer<T>) {
            let totals = UnsafeMutableBufferPointer<Int64>.allocate(capacity: Swift.max(layout.outputCount, 1))
            defer { totals.deallocate() }
            totals.initialize(repeating: kind == .prod ? 1 : 0)
            @inline(__always) func whole(_ v: T) -> Int64 {
                switch v.castValue {
                case .signed(let s): return s
                case .unsigned(let u): return Int64(bitPattern: u)
                case .real(let r): return Int64(bitPattern: wholeBits(r))
                }
            }
            switch kind {
            case .prod: layout.forEachPair(context) { o, i in totals[o] = totals[o] &* whole(from[i]) }
            case .l1: layout.forEachPair(context) { o, i in totals[o] = totals[o] &+ whole(T.absolute(from[i])) }
            case .sumSquare: layout.forEachPair(context) { o, i in let v = whole(from[i]); totals[o] = totals[o] &+ v &* v }
            default: layout.forEachPair(context) { o, i in totals[o] = totals[o] &+ whole(from[i]) }
            }
            let n = Int64(layout.reducedCount)
            for o in 0..<layout.outputCount {
                let total = kind == .mean ? (n == 0 ? 0 : totals[o] / n) : totals[o]
                to[o] = T(cast: .signed(total))
            }
        }

        /// The other reductions, accumulated in float64.
        private func realReduction<T: Number>(_ from: UnsafeMutableBufferPointer<T>, _ to: UnsafeMutableBufferPointer<T>) {
            let totals = doubleScratch(layout.outputCount, kind == .prod ? 1 : 0)
            defer { totals.deallocate() }
            // LogSumExp subtracts each output's largest input before exponentiating, so exp cannot overflow.
            var shifts: UnsafeMutableBufferPointer<Double>?
            defer { shifts?.deallocate() }
            switch kind {
            case .prod: layout.forEachPair(context) { o, i in totals[o] *= from[i].doubleValue }
            case .l1: layout.forEachPair(context) { o, i in totals[o] += Swift.abs(from[i].doubleValue) }
            case .l2, .sumSquare: layout.forEachPair(context) { o, i in let v = from[i].doubleValue; totals[o] += v * v }
            case .logSumExp:
                let largest = doubleScratch(layout.outputCount, -.infinity)
                layout.forEachPair(context) { o, i in largest[o] = Swift.max(largest[o], from[i].doubleValue) }
                for o in largest.indices where !largest[o].isFinite { largest[o] = 0 }
                layout.forEachPair(context) { o, i in totals[o] += Glibc.exp(from[i].doubleValue - largest[o]) }
                shifts = largest
            default: layout.forEachPair(context) { o, i in totals[o] += from[i].doubleValue }
            }
            let n = Double(layout.reducedCount)
            for o in 0..<layout.outputCount {
                let t = totals[o]
                let result: Double
                switch kind {
                case .mean: result = t / n
                case .l2: result = t.squareRoot()
                case .logSum: result = Glibc.log(t)
                case .logSumExp: result = Glibc.log(t) + (shifts?[o] ?? 0)
                default: result = t
                }
                to[o] = T(double: result)
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input data")
        var given = schema.axesAttribute ?? []
        if schema.axesFromInput, let axes = optionalInput(inputs, 1) { given = try integerValues(axes, "axes") }
        if given.isEmpty && schema.noopWithEmptyAxes { return [x] }
        let rank = x.shape.count
        var axes = Set<Int>()
        for axis in given { axes.insert(try ShapeKernels.axis(axis, rank: rank)) }
        if given.isEmpty { axes = Set(0..<rank) }
        let layout = ReductionLayout(shape: x.shape, axes: axes)
        let shape = schema.keepDims ? layout.kept : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        if schema.kind == .mean, x.dtype == .float, layout.contiguous, x.count > 0 {
            // Each output is the mean of one contiguous row: computed in
            // vectors, where the general path calls a closure per element
            // (ShuffleNetV2's final mean of 1024 × 7 × 7: 110 → 10 µs).
            let output = try EngineTensor(dtype: .float, shape: shape)
            rowMeans(x.floats.baseAddress!, rows: layout.outputCount, length: layout.reducedCount,
                     into: output.floats.baseAddress!, context)
            return [output]
        }
        let apply = Apply(kind: schema.kind, x: x, layout: layout, shape: shape, context: context)
        let boolAllowed = schema.kind == .max || schema.kind == .min
        return [try ElementTypes.visit(x.dtype, apply, bool: boolAllowed, schema.kind.rawValue)]
    }

}

// MARK: - The schemas' kernels

extension Reduce: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ReduceKernel(self, setup) }
}
