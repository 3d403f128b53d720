internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

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
        epsilon = schema.epsilon
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
        let first = try ShapeKernels.axis(axis, rank: x.shape.count)
        let layout = ReductionLayout(shape: x.shape, axes: Set(first..<x.shape.count))
        let scale = optionalInput(inputs, 1), bias = rms ? nil : optionalInput(inputs, 2)
        if let rows = try floatRows(x, from: first, layout: layout, scale: scale, bias: bias, context) { return rows }
        let apply = Apply(x: x, scale: scale, bias: bias, layout: layout,
                          epsilon: Double(epsilon), rms: rms, context: context)
        return try ElementTypes.visit(x.dtype, apply, op)
    }
}

extension LayerNormKernel {
    /// The common case by CKernels' row kernel: float32, the rows from axis
    /// `first` on, and scale and bias (when given) holding one value per
    /// element of a row. `nil` for any other case, which the generic path takes.
    func floatRows(_ x: EngineTensor, from first: Int, layout: ReductionLayout, scale: EngineTensor?, bias: EngineTensor?,
                   _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?]? {
        let n = layout.reducedCount, rows = layout.outputCount
        let row = trimmedShape(Array(x.shape[first...]))
        func perElement(_ operand: EngineTensor?) -> Bool {
            guard let operand else { return true }
            return operand.dtype == .float && operand.count == n && trimmedShape(operand.shape) == row
        }
        guard x.dtype == .float, n > 0, perElement(scale), perElement(bias), scale != nil || bias == nil else { return nil }
        let y = try EngineTensor(dtype: .float, shape: x.shape)
        let statistics = rms ? nil : (mean: try EngineTensor(dtype: .float, shape: layout.kept),
                                      inverse: try EngineTensor(dtype: .float, shape: layout.kept))
        let (from, to) = (x.floats.baseAddress!, y.floats.baseAddress!)
        let s = scale.map { UnsafePointer($0.floats.baseAddress!) }, b = bias.map { UnsafePointer($0.floats.baseAddress!) }
        let (means, inverses) = (statistics?.mean.floats.baseAddress, statistics?.inverse.floats.baseAddress)
        context.parallelRanges(rows, grain: Swift.max(1, elementwiseGrain / n)) { range in
            let start = range.lowerBound
            ck_layer_norm_rows(from + start * n, to + start * n, range.count, n, s, b, epsilon, rms ? 1 : 0,
                               means.map { $0 + start }, inverses.map { $0 + start })
        }
        guard let statistics else { return [y] }
        return [y, statistics.mean, statistics.inverse]
    }
}

/// InstanceNormalization: each (image, channel) over its spatial axes, then a per-channel scale and bias.
struct InstanceNormKernel: Kernel {
    let epsilon: Float

    init(_ schema: StatisticsNormalization) {
        epsilon = schema.epsilon
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

    init(_ schema: StatisticsNormalization) throws(ModelError) {
        epsilon = schema.epsilon
        guard let groups = schema.groups else { throw ModelError(.invalidGraph, "GroupNormalization needs a positive num_groups") }
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
        p = schema.p
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
        let a = try ShapeKernels.axis(axis, rank: x.shape.count)
        let apply = Apply(x: x, layout: ReductionLayout(shape: x.shape, axes: [a]), p: p, context: context)
        return [try ElementTypes.visit(x.dtype, apply, "LpNormalization")]
    }
}

/// MeanVarianceNormalization: (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over
/// `axes` (default 0, 2, 3), the formula of the operator's ONNX function.
struct MeanVarianceNormKernel: Kernel {
    let axes: [Int]

    init(_ schema: StatisticsNormalization) {
        axes = schema.axes
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
        for axis in axes { reduced.insert(try ShapeKernels.axis(axis, rank: x.shape.count)) }
        let apply = Apply(x: x, layout: ReductionLayout(shape: x.shape, axes: reduced), context: context)
        return [try ElementTypes.visit(x.dtype, apply, "MeanVarianceNormalization")]
    }
}

extension StatisticsNormalization: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        switch setup.node.opType {
        case "LayerNormalization", "RMSNormalization": return try LayerNormKernel(self, setup)
        case "InstanceNormalization": return InstanceNormKernel(self)
        case "GroupNormalization": return try GroupNormKernel(self)
        case "LpNormalization": return try LpNormKernel(self, setup)
        case "MeanVarianceNormalization": return MeanVarianceNormKernel(self)
        default: throw setup.noKernel
        }
    }
}
