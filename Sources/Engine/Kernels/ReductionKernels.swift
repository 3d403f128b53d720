#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// Reductions and normalisations: the Reduce* family, ArgMax/ArgMin,
// CumSum/CumProd, TopK, and the normalisations that compute statistics over
// the input itself (Layer, Instance, Group, RMS, Lp, mean-variance, LRN).
//
// Sums of real elements accumulate in float64, so float32 results are at
// least as accurate as the reference's float32 arithmetic.

// MARK: - Shared helpers

/// `axis` counted from the end when negative, checked against `rank`.
func normalizedAxis(_ axis: Int, rank: Int) throws(ModelError) -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else { throw ModelError(.invalidGraph, "axis \(axis) is out of range for rank \(rank)") }
    return a
}

/// An input shape split at one axis: `outer` blocks of `length` × `inner` elements.
struct AxisSplit {
    let outer: Int, length: Int, inner: Int

    init(_ shape: [Int], axis: Int) {
        outer = elementCount(shape.prefix(axis))
        length = shape[axis]
        inner = elementCount(shape.dropFirst(axis + 1))
    }

    /// The flat index of element `j` along the axis in line `line` (of `outer × inner` lines).
    @inline(__always)
    func index(line: Int, _ j: Int) -> Int { (line / inner) * length * inner + line % inner + j * inner }
}

/// Which input elements meet in which output element when `axes` are
/// reduced: the input shape, and the kept shape with reduced axes as 1.
struct ReductionLayout {
    let input: [Int]
    let kept: [Int]
    let inputCount: Int
    let outputCount: Int
    /// Input elements per output element.
    let reducedCount: Int
    /// Whether only trailing axes are reduced, so each output element owns a contiguous run of inputs.
    let contiguous: Bool

    init(shape: [Int], axes: Set<Int>) {
        input = shape
        kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        inputCount = elementCount(shape)
        outputCount = elementCount(kept)
        reducedCount = elementCount(shape.enumerated().filter { axes.contains($0.offset) }.map(\.element))
        let lastKept = shape.indices.last { !axes.contains($0) && shape[$0] != 1 } ?? -1
        let firstReduced = shape.indices.first { axes.contains($0) && shape[$0] != 1 } ?? shape.count
        contiguous = lastKept < firstReduced
    }

    /// Calls `combine(output, input)` for every input element; in parallel
    /// over output elements when they own contiguous runs, else in order.
    @inline(__always)
    func forEachPair(_ context: ExecutionContext, _ combine: (Int, Int) -> Void) {
        if contiguous {
            let n = reducedCount
            context.parallelRanges(outputCount, grain: Swift.max(1, elementwiseGrain / Swift.max(n, 1))) { range in
                for o in range {
                    for j in 0..<n { combine(o, o * n + j) }
                }
            }
        } else {
            let walk = BroadcastWalk(shape: input, operands: [input, kept])
            let step = walk.innerStrides[1]
            walk.forEachRun(0..<inputCount) { start, offsets, length in
                for j in 0..<length { combine(offsets[1] + j * step, start + j) }
            }
        }
    }
}

/// Zero-initialised float64 scratch of `count` values, freed by the caller.
func doubleScratch(_ count: Int, _ value: Double = 0) -> UnsafeMutableBufferPointer<Double> {
    let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: Swift.max(count, 1))
    buffer.initialize(repeating: value)
    return buffer
}

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
        for axis in given { axes.insert(try normalizedAxis(axis, rank: rank)) }
        if given.isEmpty { axes = Set(0..<rank) }
        let layout = ReductionLayout(shape: x.shape, axes: axes)
        let shape = schema.keepDims ? layout.kept : x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        let apply = Apply(kind: schema.kind, x: x, layout: layout, shape: shape, context: context)
        let boolAllowed = schema.kind == .max || schema.kind == .min
        return [try ElementTypes.visit(x.dtype, apply, bool: boolAllowed, schema.kind.rawValue)]
    }
}

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
        selectLast = try AttributeReader(setup.node).int("select_last_index", default: 0) != 0
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
        let a = try normalizedAxis(axis, rank: x.shape.count)
        guard x.shape[a] > 0 else { throw ModelError(.invalidGraph, "cannot take the extreme of an empty axis \(a) of shape \(x.shape)") }
        var shape = x.shape
        if keepDims { shape[a] = 1 } else { shape.remove(at: a) }
        let output = try EngineTensor(dtype: .int64, shape: shape)
        let apply = Apply(x: x, split: AxisSplit(x.shape, axis: a), output: output, largest: largest, selectLast: selectLast)
        try ElementTypes.visit(x.dtype, apply, largest ? "ArgMax" : "ArgMin")
        return [output]
    }
}

// MARK: - CumSum, CumProd

/// CumSum and CumProd along the axis given as input 1; `exclusive` leaves each
/// element out of its own total, `reverse` runs from the end.
struct CumulativeKernel: Kernel {
    let product: Bool
    let exclusive: Bool
    let reverse: Bool
    let op: String

    init(_ setup: KernelSetup) throws(ModelError) {
        let reader = AttributeReader(setup.node)
        op = setup.node.opType
        product = op == "CumProd"
        exclusive = try reader.int("exclusive", default: 0) != 0
        reverse = try reader.int("reverse", default: 0) != 0
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
        let a = try normalizedAxis(axes[0], rank: x.shape.count)
        let apply = Apply(x: x, split: AxisSplit(x.shape, axis: a), product: product, exclusive: exclusive, reverse: reverse)
        return [try ElementTypes.visit(x.dtype, apply, op)]
    }
}

// MARK: - TopK

/// TopK: the k largest (or smallest) elements along `axis` and their int64
/// indices, ordered by value; equal values keep the lower index first.
struct TopKKernel: Kernel {
    let axis: Int
    let kAttribute: Int?
    let largest: Bool

    init(_ schema: TopK, _ setup: KernelSetup) throws(ModelError) {
        axis = schema.axis
        kAttribute = schema.kAttribute
        let reader = AttributeReader(setup.node)
        largest = try reader.int("largest", default: 1) != 0
        // `sorted` = 0 allows any order; sorted output is one of them.
        _ = try reader.int("sorted", default: 1)
    }

    /// The selection over one element type.
    struct Apply: NumberVisitor {
        let x: EngineTensor
        let split: AxisSplit
        let k: Int
        let values: EngineTensor, indices: EngineTensor
        let largest: Bool

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> Void {
            let (from, to, positions) = (x.elements(T.self), values.elements(T.self), indices.elements(Int64.self))
            var order = Array(0..<split.length)
            let largest = self.largest
            for line in 0..<(split.outer * split.inner) {
                for j in order.indices { order[j] = j }
                // A total order even with NaN (which ranks above every number), so the sort stays well defined.
                order.sort { p, q in
                    let (u, v) = (from[split.index(line: line, p)], from[split.index(line: line, q)])
                    let (uNaN, vNaN) = (u != u, v != v)
                    if u == v || (uNaN && vNaN) { return p < q }
                    let below = vNaN || (!uNaN && u < v)
                    return largest ? !below : below
                }
                for j in 0..<k {
                    let target = (line / split.inner) * k * split.inner + line % split.inner + j * split.inner
                    to[target] = from[split.index(line: line, order[j])]
                    positions[target] = Int64(order[j])
                }
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        let a = try normalizedAxis(axis, rank: x.shape.count)
        var k = kAttribute ?? 0
        if kAttribute == nil {
            let given = try integerValues(try requiredInput(inputs, 1, "K"), "K")
            guard given.count == 1 else { throw ModelError(.invalidGraph, "TopK K must be one value, got \(given.count)") }
            k = given[0]
        }
        guard k >= 0, k <= x.shape[a] else { throw ModelError(.invalidGraph, "TopK k \(k) is outside 0...\(x.shape[a]) for axis \(a)") }
        var shape = x.shape
        shape[a] = k
        let values = try EngineTensor(dtype: x.dtype, shape: shape), indices = try EngineTensor(dtype: .int64, shape: shape)
        let apply = Apply(x: x, split: AxisSplit(x.shape, axis: a), k: k, values: values, indices: indices, largest: largest)
        try ElementTypes.visit(x.dtype, apply, "TopK")
        return [values, indices]
    }
}

// MARK: - Normalisations

/// Mean and 1/√(variance + ε) of `x` over the reduced axes of `layout`, one
/// pair per output element. `centered` false takes the mean as 0 (RMS).
func moments<T: RealElement>(_ x: EngineTensor, _ type: T.Type, _ layout: ReductionLayout, epsilon: Double,
                             centered: Bool, _ context: ExecutionContext) -> (mean: [Double], inverseDeviation: [Double]) {
    let from = x.elements(T.self)
    let n = Double(layout.reducedCount)
    let sums = doubleScratch(layout.outputCount)
    defer { sums.deallocate() }
    var mean = [Double](repeating: 0, count: layout.outputCount)
    if centered {
        layout.forEachPair(context) { o, i in sums[o] += from[i].doubleValue }
        for o in mean.indices { mean[o] = sums[o] / n }
        sums.update(repeating: 0)
    }
    // Squared deviations from the mean, a second pass: steadier than E[x²] − E[x]².
    mean.withUnsafeBufferPointer { m in
        layout.forEachPair(context) { o, i in
            let d = from[i].doubleValue - m[o]
            sums[o] += d * d
        }
    }
    let inverse = (0..<layout.outputCount).map { 1 / (sums[$0] / n + epsilon).squareRoot() }
    return (mean, inverse)
}

/// y = (x − mean) · inverseDeviation · scale + bias, the statistics indexed by
/// `layout.kept`, scale and bias broadcast from the shapes given.
func normalize<T: RealElement>(_ x: EngineTensor, _ type: T.Type, _ layout: ReductionLayout, mean: [Double],
                               inverseDeviation: [Double], scale: (tensor: EngineTensor, shape: [Int])?,
                               bias: (tensor: EngineTensor, shape: [Int])?, _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
    for (operand, name) in [(scale, "scale"), (bias, "bias")] {
        guard let operand else { continue }
        guard operand.tensor.dtype == x.dtype else {
            throw ModelError(.invalidGraph, "\(name) must be \(x.dtype) like the input, got \(operand.tensor.dtype)")
        }
        guard (try? broadcastShape(operand.shape, x.shape)) == x.shape, elementCount(operand.shape) == operand.tensor.count else {
            throw ModelError(.invalidGraph, "\(name) of shape \(operand.tensor.shape) does not broadcast to the input shape \(x.shape)")
        }
    }
    let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
    let (from, to) = (x.elements(T.self), output.elements(T.self))
    let s = scale.map { $0.tensor.elements(T.self) }, b = bias.map { $0.tensor.elements(T.self) }
    let walk = BroadcastWalk(shape: x.shape, operands: [x.shape, layout.kept, scale?.shape ?? [1], bias?.shape ?? [1]])
    let step = walk.innerStrides
    mean.withUnsafeBufferPointer { m in
        inverseDeviation.withUnsafeBufferPointer { r in
            context.parallelRanges(x.count, grain: elementwiseGrain / 4) { range in
                walk.forEachRun(range) { start, o, length in
                    for j in 0..<length {
                        let k = o[1] + j * step[1]
                        var y = (from[start + j].doubleValue - m[k]) * r[k]
                        if let s { y *= s[o[2] + j * step[2]].doubleValue }
                        if let b { y += b[o[3] + j * step[3]].doubleValue }
                        to[start + j] = T(nearest: y)
                    }
                }
            }
        }
    }
    return output
}

/// A shape with its leading 1s removed, so that a scale of shape [1, D] lines up with a trailing D.
func trimmedShape(_ shape: [Int]) -> [Int] { Array(shape.drop { $0 == 1 }) }

/// LayerNormalization and RMSNormalization over the axes from `axis` on, with
/// scale (and, for LayerNormalization, bias) broadcast over those axes.
/// LayerNormalization's optional Mean and InvStdDev outputs are float32 (stash_type 1).
struct LayerNormKernel: Kernel {
    let axis: Int
    let epsilon: Float
    let rms: Bool
    let op: String

    init(_ schema: StatisticsNormalization, _ setup: KernelSetup) throws(ModelError) {
        axis = schema.axis
        epsilon = try AttributeReader(setup.node).float("epsilon", default: 1e-5)
        op = setup.node.opType
        rms = op == "RMSNormalization"
    }

    /// The normalisation over one element type.
    struct Apply: RealVisitor {
        let x: EngineTensor, scale: EngineTensor?, bias: EngineTensor?
        let layout: ReductionLayout
        let epsilon: Double
        let rms: Bool
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> [EngineTensor?] {
            let (mean, inverse) = moments(x, T.self, layout, epsilon: epsilon, centered: !rms, context)
            let y = try normalize(x, T.self, layout, mean: mean, inverseDeviation: inverse,
                                  scale: scale.map { ($0, trimmedShape($0.shape)) }, bias: bias.map { ($0, trimmedShape($0.shape)) }, context)
            if rms { return [y] }
            return [y, try EngineTensor(floats: mean.map { Float($0) }, shape: layout.kept),
                    try EngineTensor(floats: inverse.map { Float($0) }, shape: layout.kept)]
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        let first = try normalizedAxis(axis, rank: x.shape.count)
        let layout = ReductionLayout(shape: x.shape, axes: Set(first..<x.shape.count))
        let apply = Apply(x: x, scale: optionalInput(inputs, 1), bias: rms ? nil : optionalInput(inputs, 2), layout: layout,
                          epsilon: Double(epsilon), rms: rms, context: context)
        return try ElementTypes.visit(x.dtype, apply, op)
    }
}

/// InstanceNormalization: each (image, channel) over its spatial axes, then a per-channel scale and bias.
struct InstanceNormKernel: Kernel {
    let epsilon: Float

    init(_ setup: KernelSetup) throws(ModelError) {
        epsilon = try AttributeReader(setup.node).float("epsilon", default: 1e-5)
    }

    /// The normalisation over one element type.
    struct Apply: RealVisitor {
        let x: EngineTensor, scale: EngineTensor, bias: EngineTensor
        let epsilon: Double
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let rank = x.shape.count
            let layout = ReductionLayout(shape: x.shape, axes: Set(2..<rank))
            let (mean, inverse) = moments(x, T.self, layout, epsilon: epsilon, centered: true, context)
            let channel = [x.shape[1]] + Array(repeating: 1, count: rank - 2)
            return try normalize(x, T.self, layout, mean: mean, inverseDeviation: inverse,
                                 scale: (scale, channel), bias: (bias, channel), context)
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        let scale = try requiredInput(inputs, 1, "scale"), bias = try requiredInput(inputs, 2, "B")
        guard x.shape.count >= 2 else { throw ModelError(.invalidGraph, "InstanceNormalization needs an input of rank 2 or more, got \(x.shape)") }
        let apply = Apply(x: x, scale: scale, bias: bias, epsilon: Double(epsilon), context: context)
        return [try ElementTypes.visit(x.dtype, apply, "InstanceNormalization")]
    }
}

/// GroupNormalization: channels split into num_groups groups, each normalised
/// over its channels and spatial axes; scale and bias per channel (opset 21),
/// or per group (opset 18).
struct GroupNormKernel: Kernel {
    let epsilon: Float
    let groups: Int

    init(_ setup: KernelSetup) throws(ModelError) {
        let reader = AttributeReader(setup.node)
        epsilon = try reader.float("epsilon", default: 1e-5)
        guard let groups = try reader.int("num_groups"), groups > 0 else {
            throw ModelError(.invalidGraph, "GroupNormalization needs a positive num_groups")
        }
        self.groups = groups
    }

    /// The normalisation over one element type.
    struct Apply: RealVisitor {
        let x: EngineTensor, scale: EngineTensor, bias: EngineTensor
        let groups: Int
        let epsilon: Double
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let (n, c) = (x.shape[0], x.shape[1])
            let spatial = elementCount(x.shape.dropFirst(2))
            // [N, G, C/G, spatial]: statistics over the last two axes.
            let grouped = x.reshaped([n, groups, c / groups, spatial])
            let layout = ReductionLayout(shape: grouped.shape, axes: [2, 3])
            let (mean, inverse) = moments(grouped, T.self, layout, epsilon: epsilon, centered: true, context)
            let perChannel = scale.count == c
            guard perChannel || scale.count == groups, bias.count == scale.count else {
                throw ModelError(.invalidGraph, "GroupNormalization scale and bias must hold \(c) (or \(groups)) values, got \(scale.count) and \(bias.count)")
            }
            let operand = perChannel ? [groups, c / groups, 1] : [groups, 1, 1]
            let y = try normalize(grouped, T.self, layout, mean: mean, inverseDeviation: inverse,
                                  scale: (scale, operand), bias: (bias, operand), context)
            return y.reshaped(x.shape)
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        let scale = try requiredInput(inputs, 1, "scale"), bias = try requiredInput(inputs, 2, "bias")
        guard x.shape.count >= 2, x.shape[1] % groups == 0 else {
            throw ModelError(.invalidGraph, "GroupNormalization needs rank ≥ 2 and channels divisible by \(groups) groups, got \(x.shape)")
        }
        let apply = Apply(x: x, scale: scale, bias: bias, groups: groups, epsilon: Double(epsilon), context: context)
        return [try ElementTypes.visit(x.dtype, apply, "GroupNormalization")]
    }
}

/// LpNormalization: x / ‖x‖_p along one axis, p being 1 or 2; where the norm is zero the output is zero, as ONNX defines.
struct LpNormKernel: Kernel {
    let axis: Int
    let p: Int

    init(_ schema: StatisticsNormalization, _ setup: KernelSetup) throws(ModelError) {
        axis = schema.axis
        p = try AttributeReader(setup.node).int("p", default: 2)
        guard p == 1 || p == 2 else { throw ModelError(.invalidGraph, "LpNormalization p must be 1 or 2, not \(p)") }
    }

    /// The normalisation over one element type.
    struct Apply: RealVisitor {
        let x: EngineTensor
        let layout: ReductionLayout
        let p: Int
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let from = x.elements(T.self)
            let norms = doubleScratch(layout.outputCount)
            defer { norms.deallocate() }
            if p == 1 {
                layout.forEachPair(context) { o, i in norms[o] += Swift.abs(from[i].doubleValue) }
            } else {
                layout.forEachPair(context) { o, i in let v = from[i].doubleValue; norms[o] += v * v }
                for o in norms.indices { norms[o] = norms[o].squareRoot() }
            }
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            let to = output.elements(T.self)
            layout.forEachPair(context) { o, i in to[i] = norms[o] == 0 ? T.zero : T(nearest: from[i].doubleValue / norms[o]) }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        let a = try normalizedAxis(axis, rank: x.shape.count)
        let apply = Apply(x: x, layout: ReductionLayout(shape: x.shape, axes: [a]), p: p, context: context)
        return [try ElementTypes.visit(x.dtype, apply, "LpNormalization")]
    }
}

/// MeanVarianceNormalization: (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over
/// `axes` (default 0, 2, 3), the formula of the operator's ONNX function.
struct MeanVarianceNormKernel: Kernel {
    let axes: [Int]

    init(_ setup: KernelSetup) throws(ModelError) {
        axes = try AttributeReader(setup.node).ints("axes") ?? [0, 2, 3]
    }

    /// The normalisation over one element type.
    struct Apply: RealVisitor {
        let x: EngineTensor
        let layout: ReductionLayout
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let from = x.elements(T.self)
            let (sums, squares) = (doubleScratch(layout.outputCount), doubleScratch(layout.outputCount))
            defer {
                sums.deallocate()
                squares.deallocate()
            }
            layout.forEachPair(context) { o, i in
                let v = from[i].doubleValue
                sums[o] += v
                squares[o] += v * v
            }
            let n = Double(layout.reducedCount)
            for o in sums.indices {
                let mean = sums[o] / n
                sums[o] = mean
                squares[o] = (squares[o] / n - mean * mean).squareRoot() + 1e-9
            }
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            let to = output.elements(T.self)
            layout.forEachPair(context) { o, i in to[i] = T(nearest: (from[i].doubleValue - sums[o]) / squares[o]) }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input")
        var reduced = Set<Int>()
        for axis in axes { reduced.insert(try normalizedAxis(axis, rank: x.shape.count)) }
        let apply = Apply(x: x, layout: ReductionLayout(shape: x.shape, axes: reduced), context: context)
        return [try ElementTypes.visit(x.dtype, apply, "MeanVarianceNormalization")]
    }
}

/// LRN: x / (bias + alpha/size · Σ x²)^beta, the sum over the `size`
/// channels around each one (⌊(size−1)/2⌋ before, ⌈(size−1)/2⌉ after).
struct LRNKernel: Kernel {
    let size: Int
    let alpha: Double, beta: Double, bias: Double

    init(_ schema: LRN, _ setup: KernelSetup) throws(ModelError) {
        size = schema.size
        let reader = AttributeReader(setup.node)
        alpha = Double(try reader.float("alpha", default: 1e-4))
        beta = Double(try reader.float("beta", default: 0.75))
        bias = Double(try reader.float("bias", default: 1))
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

// MARK: - The schemas' kernels

extension Reduce: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ReduceKernel(self, setup) }
}

extension ArgExtreme: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ArgExtremeKernel(self, setup) }
}

extension Cumulative: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try CumulativeKernel(setup) }
}

extension TopK: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try TopKKernel(self, setup) }
}

extension StatisticsNormalization: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        switch setup.node.opType {
        case "LayerNormalization", "RMSNormalization": return try LayerNormKernel(self, setup)
        case "InstanceNormalization": return try InstanceNormKernel(setup)
        case "GroupNormalization": return try GroupNormKernel(setup)
        case "LpNormalization": return try LpNormKernel(self, setup)
        case "MeanVarianceNormalization": return try MeanVarianceNormKernel(setup)
        default: throw setup.noKernel
        }
    }
}

extension LRN: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try LRNKernel(self, setup) }
}
