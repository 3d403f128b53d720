/// Registrations of the shape and data-movement family: operators that
/// rearrange, select or generate elements. Most do no arithmetic and cost
/// zero FLOPs; each schema's doc comment states its cost rule.
public enum ShapeOps {
    static let registrations: [String: any OpSchema.Type] = [
        "Reshape": Reshape.self, "Flatten": Flatten.self, "Squeeze": Squeeze.self, "Unsqueeze": Unsqueeze.self,
        "Transpose": Transpose.self, "Concat": Concat.self, "Split": Split.self, "Slice": Slice.self,
        "Gather": Gather.self, "GatherElements": GatherElements.self, "GatherND": GatherND.self,
        "Scatter": ScatterElements.self, "ScatterElements": ScatterElements.self, "ScatterND": ScatterND.self,
        "TensorScatter": TensorScatter.self,
        "Expand": Expand.self, "Tile": Tile.self, "Pad": Pad.self, "CenterCropPad": CenterCropPad.self,
        "Resize": Resize.self, "Upsample": Upsample.self,
        "Shape": ShapeOf.self, "Size": SizeOf.self, "ConstantOfShape": ConstantOfShape.self, "Range": NumberRange.self,
        "Constant": Constant.self,
        "DepthToSpace": DepthToSpace.self, "SpaceToDepth": SpaceToDepth.self, "Col2Im": Col2Im.self,
        "NonZero": NonZero.self, "Compress": Compress.self, "Unique": Unique.self,
        "OneHot": OneHot.self, "Trilu": Trilu.self, "ReverseSequence": ReverseSequence.self, "EyeLike": EyeLike.self,
        "TopK": TopK.self, "ArgMax": ArgExtreme.self, "ArgMin": ArgExtreme.self,
        "CumSum": Cumulative.self, "CumProd": Cumulative.self,
    ]
}

/// Index arithmetic and known-contents helpers shared by the shape and reduction families.
enum ShapeMath {
    /// The element count of `dims` when it is small enough to hold as a known value.
    static func smallCount(_ dims: [Int]) -> Int? {
        guard let count = Count.product(dims), count <= KnownValue.maxElements else { return nil }
        return count
    }

    /// Row-major strides; only meaningful for dims whose product `smallCount` accepted.
    static func strides(_ dims: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: dims.count)
        var running = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            strides[i] = running
            running = running &* dims[i]
        }
        return strides
    }

    /// Whether `value` is consistent: its element count is the product of its dims.
    static func isWellFormed(_ value: KnownValue) -> Bool {
        Count.product(value.dims) == value.count
    }

    /// The elements of `value` at flat positions `sources`, shaped `dims`; `nil` if a position is out of range.
    static func pick(_ value: KnownValue, _ sources: [Int], dims: [Int]) -> KnownValue? {
        guard sources.allSatisfy({ $0 >= 0 && $0 < value.count }) else { return nil }
        switch value.elements {
        case .integers(let v): return KnownValue(dims: dims, elements: .integers(sources.map { v[$0] }))
        case .reals(let v): return KnownValue(dims: dims, elements: .reals(sources.map { v[$0] }))
        }
    }

    /// Contents of shape `dims` whose element at each multi-index is the
    /// element of `value` at the flat position `source` gives; `nil` when the
    /// result is too large to track or a position is invalid.
    static func mapping(_ value: KnownValue, to dims: [Int], source: ([Int]) -> Int?) -> KnownValue? {
        guard isWellFormed(value), dims.count <= maxTrackedRank, let count = smallCount(dims) else { return nil }
        var sources: [Int] = []
        sources.reserveCapacity(count)
        var index = Array(repeating: 0, count: dims.count)
        for _ in 0..<count {
            guard let s = source(index) else { return nil }
            sources.append(s)
            var axis = dims.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < dims[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return pick(value, sources, dims: dims)
    }

    /// The same elements under `shape`, when it is fully known and holds as many elements.
    static func reshaped(_ value: KnownValue?, _ shape: Shape?) -> KnownValue? {
        guard let value, let dims = shape?.values, Count.product(dims) == value.count else { return nil }
        return KnownValue(dims: dims, elements: value.elements)
    }

    /// Contents of equal kind (all integer or all real) concatenated along `axis`; `nil` otherwise.
    static func concatenate(_ values: [KnownValue], axis: Int) -> KnownValue? {
        guard let first = values.first, axis >= 0, axis < first.dims.count,
              values.allSatisfy({ $0.dims.count == first.dims.count && isWellFormed($0) }) else { return nil }
        var dims = first.dims
        var axisTotal = 0
        for v in values {
            guard Array(v.dims[..<axis]) == Array(first.dims[..<axis]),
                  Array(v.dims[(axis + 1)...]) == Array(first.dims[(axis + 1)...]) else { return nil }
            let (sum, overflow) = axisTotal.addingReportingOverflow(v.dims[axis])
            guard !overflow else { return nil }
            axisTotal = sum
        }
        dims[axis] = axisTotal
        // An empty result skips the copy loops, whose bounds need not be small then.
        guard let count = smallCount(dims) else { return nil }
        if count == 0 { return pick(first, [], dims: dims) }
        guard let outer = Count.product(Array(dims[..<axis])), let inner = Count.product(Array(dims[(axis + 1)...])) else { return nil }
        func blocks<T>(_ parts: [[T]]) -> [T] {
            var out: [T] = []
            for o in 0..<outer {
                for (part, v) in zip(parts, values) {
                    let block = v.dims[axis] * inner
                    out += part[(o * block)..<((o + 1) * block)]
                }
            }
            return out
        }
        var integers: [[Dim]] = [], reals: [[Double]] = []
        for v in values {
            switch v.elements {
            case .integers(let e): integers.append(e)
            case .reals(let e): reals.append(e)
            }
        }
        if integers.count == values.count { return KnownValue(dims: dims, elements: .integers(blocks(integers))) }
        if reals.count == values.count { return KnownValue(dims: dims, elements: .reals(blocks(reals))) }
        return nil
    }

    /// The length of a 1-D input, from its contents or its shape, when known and small.
    static func length(_ fact: ValueFact?) -> Int? {
        if let value = fact?.value { return value.count }
        guard let shape = fact?.shape, shape.rank == 1, let n = shape.dims[0].value, n <= KnownValue.maxElements else { return nil }
        return n
    }

    /// `count` unknown dimensions, or `nil` when `count` is unknown or implausibly large.
    static func unknownShape(rank count: Int?) -> Shape? {
        guard let count, count >= 0, count <= KnownValue.maxElements else { return nil }
        return Shape(Array(repeating: Dim.unknown, count: count))
    }

    /// Normalised, distinct axes for `rank`; throws on an axis out of range or repeated.
    static func axes(_ axes: [Int], rank: Int, reader: AttributeReader) throws(ModelError) -> [Int] {
        var result: [Int] = []
        var seen = Set<Int>()
        for axis in axes {
            let normalised = try ShapeMath.axis(axis, rank: rank, reader: reader)
            guard seen.insert(normalised).inserted else { throw reader.error("axis \(axis) is repeated") }
            result.append(normalised)
        }
        return result
    }

    /// A normalised axis of a tensor of rank 1 or more (negative axes count from the end).
    static func axis(_ axis: Int, rank: Int, reader: AttributeReader) throws(ModelError) -> Int {
        guard rank > 0 else { throw reader.error("axis \(axis) given for a scalar") }
        return try reader.axis(axis, rank: rank)
    }

    /// The highest rank whose contents are followed; index arithmetic costs
    /// rank steps per element, and real shape tensors have rank 0 or 1.
    static let maxTrackedRank = 64

    /// The known contents of `fact`, when they are consistent with its shape.
    static func value(of fact: ValueFact?) -> KnownValue? {
        guard let fact, let value = fact.value, value.dims.count <= maxTrackedRank, isWellFormed(value) else { return nil }
        if let shape = fact.shape, shape.values != value.dims { return nil }
        return value
    }

    /// A whole number computed in floating point, when it is finite and exactly representable.
    static func dim(_ x: Double) -> Dim {
        x.isFinite && abs(x) < 9e15 ? .known(Int(x)) : .unknown
    }

    /// The single element of a scalar or one-element input, when known.
    static func scalar(_ fact: ValueFact?) -> Dim? {
        guard let value = fact?.value, value.count == 1 else { return nil }
        return value.integers.first
    }

    /// The input's shape with the dims at `axes` (normalised) replaced by unknown.
    static func unknownAt(_ axes: [Int]?, of shape: Shape) -> Shape {
        guard let axes else { return Shape(Array(repeating: Dim.unknown, count: shape.rank)) }
        var dims = shape.dims
        for axis in axes where axis >= 0 && axis < dims.count { dims[axis] = .unknown }
        return Shape(dims)
    }
}

/// `Reshape`: the same elements under a new shape. A `0` copies the input's
/// dimension at that position (unless `allowzero`), one `-1` takes whatever
/// the other dimensions leave; symbolic sizes are divided exactly
/// (`[N, 512, 7, 7]` to `[N, -1]` gives `[N, 25088]`).
///
/// Cost: zero — data movement.
public struct Reshape: OpSchema {
    /// The target from the `shape` attribute of opsets 1–4; later opsets take it as input 1.
    public let shapeAttribute: [Int]?
    /// Whether a `0` in the target means an empty dimension rather than "copy".
    public let allowZero: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        allowZero = try reader.int("allowzero", default: 0) != 0
        if opset < 5 {
            try reader.expectInputs(1...1)
            guard let shape = try reader.ints("shape") else { throw reader.error("Reshape needs a 'shape' attribute before opset 5") }
            shapeAttribute = shape
        } else {
            try reader.expectInputs(2...2)
            shapeAttribute = nil
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let target = shapeAttribute.map({ $0.map(Dim.known) }) ?? inputs[input: 1]?.value?.integers else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 1])))]
        }
        let shape = Shape(try Self.resolve(target, input: data?.shape, allowZero: allowZero, reader: reader))
        return [ValueFact(dtype: data?.dtype, shape: shape, value: ShapeMath.reshaped(ShapeMath.value(of: data), shape))]
    }

    /// The output dims for a target shape (with `0` and `-1` resolved as far as the input allows).
    static func resolve(_ target: [Dim], input: Shape?, allowZero: Bool, reader: AttributeReader) throws(ModelError) -> [Dim] {
        var dims: [Dim] = []
        var inferred: Int?
        for (i, d) in target.enumerated() {
            switch d {
            case .known(-1):
                guard inferred == nil else { throw reader.error("the target shape has more than one -1") }
                inferred = i
                dims.append(.unknown)
            case .known(0) where !allowZero:
                if let input {
                    guard i < input.rank else { throw reader.error("target dimension \(i) copies from a rank-\(input.rank) input") }
                    dims.append(input.dims[i])
                } else {
                    dims.append(.unknown)
                }
            case .known(let v) where v < 0:
                throw reader.error("the target shape has the invalid dimension \(v)")
            default:
                dims.append(d)
            }
        }
        if allowZero, inferred != nil, target.contains(.known(0)) {
            throw reader.error("with allowzero the target shape cannot hold both 0 and -1")
        }
        let total = input.map { Dim.product($0.dims) } ?? .unknown
        if let inferred {
            let rest = Dim.product(dims.enumerated().filter { $0.offset != inferred }.map(\.element))
            if let t = total.value, let r = rest.value {
                guard r != 0 else {
                    if t != 0 { throw reader.error("cannot reshape \(t) elements into a shape with a zero dimension") }
                    return dims
                }
                guard t % r == 0 else { throw reader.error("cannot reshape \(t) elements into a multiple of \(r)") }
                dims[inferred] = .known(t / r)
            } else {
                dims[inferred] = total.dividedExactly(by: rest)
            }
        } else if let t = total.value, let p = Dim.product(dims).value, t != p {
            throw reader.error("cannot reshape \(t) elements into \(p)")
        }
        return dims
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight; the target shape is an integer tensor.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Flatten`: a 2-D view, `[∏ dims before axis, ∏ dims from axis]`.
///
/// Cost: zero — data movement.
public struct Flatten: OpSchema {
    /// The split point as written (negative counts from the end).
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 1)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: Shape([Dim.unknown, .unknown]))] }
        let split = axis < 0 ? axis + shape.rank : axis
        guard split >= 0 && split <= shape.rank else { throw reader.error("axis \(axis) is out of range for rank \(shape.rank)") }
        let out = Shape([Dim.product(shape.dims[..<split]), Dim.product(shape.dims[split...])])
        return [ValueFact(dtype: data?.dtype, shape: out, value: ShapeMath.reshaped(ShapeMath.value(of: data), out))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Squeeze`: removes dimensions of size 1 — the listed axes (an attribute
/// before opset 13, input 1 from it), or every size-1 dimension when none are
/// listed. With no axes and a symbolic dimension the rank is left unknown,
/// since the symbol could stand for 1.
///
/// Cost: zero — data movement.
public struct Squeeze: OpSchema {
    /// Axes from the attribute (opsets 1–12).
    public let axesAttribute: [Int]?
    let axesFromInput: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axesFromInput = opset >= 13
        axesAttribute = axesFromInput ? nil : try reader.ints("axes")
        try reader.expectInputs(axesFromInput ? 1...2 : 1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        var axes = axesAttribute
        if axesFromInput, let axesInput = inputs[input: 1] {
            axes = axesInput.value?.knownIntegers
            if axes == nil {
                guard let k = ShapeMath.length(axesInput), k > 0 else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: data?.shape.map { $0.rank - k }))]
            }
        }
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let out: Shape
        if let axes, !axes.isEmpty {
            let normalised = Set(try ShapeMath.axes(axes, rank: shape.rank, reader: reader))
            for axis in normalised {
                if let size = shape.dims[axis].value, size != 1 {
                    throw reader.error("cannot squeeze axis \(axis) of size \(size)")
                }
            }
            out = Shape(shape.dims.enumerated().filter { !normalised.contains($0.offset) }.map(\.element))
        } else {
            guard let values = shape.values else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
            out = Shape(values.filter { $0 != 1 })
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: ShapeMath.reshaped(ShapeMath.value(of: data), out))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Unsqueeze`: inserts dimensions of size 1 at the listed axes of the
/// output (an attribute before opset 13, input 1 from it).
///
/// Cost: zero — data movement.
public struct Unsqueeze: OpSchema {
    /// Axes from the attribute (opsets 1–12).
    public let axesAttribute: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if opset >= 13 {
            axesAttribute = nil
            try reader.expectInputs(2...2)
        } else {
            guard let axes = try reader.ints("axes") else { throw reader.error("Unsqueeze needs an 'axes' attribute before opset 13") }
            axesAttribute = axes
            try reader.expectInputs(1...1)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let axes = axesAttribute ?? inputs[input: 1]?.value?.knownIntegers else {
            let k = ShapeMath.length(inputs[input: 1])
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: data?.shape.flatMap { s in k.map { s.rank + $0 } }))]
        }
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let rank = shape.rank + axes.count
        let inserted = Set(try ShapeMath.axes(axes, rank: rank, reader: reader))
        var remaining = shape.dims.makeIterator()
        var dims: [Dim] = []
        for i in 0..<rank {
            dims.append(inserted.contains(i) ? .known(1) : remaining.next() ?? .unknown)
        }
        let out = Shape(dims)
        return [ValueFact(dtype: data?.dtype, shape: out, value: ShapeMath.reshaped(ShapeMath.value(of: data), out))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Transpose`: permutes the axes (`perm`, reversed by default).
///
/// Cost: zero — data movement.
public struct Transpose: OpSchema {
    /// Output axis `i` is input axis `perm[i]`; `nil` means reversed.
    public let perm: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        perm = try reader.ints("perm")
        if let perm, Set(perm) != Set(0..<perm.count) {
            throw reader.error("perm \(perm) is not a permutation")
        }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: perm?.count))]
        }
        let order = perm ?? Array((0..<shape.rank).reversed())
        guard order.count == shape.rank else { throw reader.error("perm has \(order.count) axes, the input \(shape.rank)") }
        let out = Shape(order.map { shape.dims[$0] })
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let strides = ShapeMath.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                zip(index, order).reduce(0) { $0 + $1.0 * strides[$1.1] }
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Concat`: joins inputs along `axis`; the other dimensions must agree.
///
/// Cost: zero — data movement.
public struct Concat: OpSchema {
    /// The joining axis as written (default 1 before opset 4, required after).
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if opset < 4 {
            axis = try reader.int("axis", default: 1)
        } else {
            guard let axis = try reader.int("axis") else { throw reader.error("Concat needs an 'axis' attribute") }
            self.axis = axis
        }
        try reader.expectInputs(1...Int.max)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs.lazy.compactMap { $0?.dtype }.first
        let shapes = inputs.map { $0?.shape }
        guard let rank = shapes.lazy.compactMap({ $0?.rank }).first else { return [ValueFact(dtype: dtype, shape: nil)] }
        let joined = try ShapeMath.axis(axis, rank: rank, reader: reader)
        var dims = Array(repeating: Dim.unknown, count: rank)
        var total: Dim = .known(0)
        for shape in shapes {
            guard let shape else { total = .unknown; continue }
            guard shape.rank == rank else { throw reader.error("Concat inputs have ranks \(rank) and \(shape.rank)") }
            for (i, d) in shape.dims.enumerated() where i != joined {
                if let a = dims[i].value, let b = d.value, a != b {
                    throw reader.error("Concat inputs differ in dimension \(i): \(a) and \(b)")
                }
                if dims[i] == .unknown || (dims[i].value == nil && d.value != nil) { dims[i] = d }
            }
            total = total + shape.dims[joined]
        }
        dims[joined] = total
        var value: KnownValue?
        let values = inputs.compactMap { ShapeMath.value(of: $0) }
        if values.count == inputs.count { value = ShapeMath.concatenate(values, axis: joined) }
        return [ValueFact(dtype: dtype, shape: Shape(dims), value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Split`: cuts the input along `axis` into the node's outputs — by the
/// sizes given (the `split` attribute before opset 13, input 1 from it),
/// into `num_outputs` parts with a smaller last part (opset 18), or into
/// equal parts.
///
/// Cost: zero — data movement.
public struct Split: OpSchema {
    /// The cutting axis as written.
    public let axis: Int
    /// Part sizes from the `split` attribute (before opset 13).
    public let splitAttribute: [Int]?
    /// The `num_outputs` attribute (opset 18).
    public let numOutputs: Int?
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 0)
        splitAttribute = opset < 13 ? try reader.ints("split") : nil
        numOutputs = opset >= 18 ? try reader.int("num_outputs") : nil
        outputCount = node.outputs.count
        try reader.expectInputs(1...2)
        guard outputCount > 0 else { throw reader.error("Split has no outputs") }
        if let numOutputs, numOutputs != outputCount {
            throw reader.error("num_outputs is \(numOutputs) but the node has \(outputCount) outputs")
        }
        if let splitAttribute, splitAttribute.count != outputCount || splitAttribute.contains(where: { $0 < 0 }) {
            throw reader.error("split \(splitAttribute) does not give \(outputCount) non-negative sizes")
        }
    }

    /// The size of each part, from the sizes given or the axis size.
    func sizes(_ inputs: [ValueFact?], axisSize: Dim) throws(ModelError) -> [Dim] {
        if let splitInput = inputs[input: 1] {
            guard let sizes = splitInput.value?.integers else { return Array(repeating: .unknown, count: outputCount) }
            return try checked(sizes, axisSize: axisSize)
        }
        if let splitAttribute { return try checked(splitAttribute.map(Dim.known), axisSize: axisSize) }
        let n = outputCount
        if let size = axisSize.value {
            if numOutputs != nil {
                let chunk = size / n + (size % n == 0 ? 0 : 1)
                let (used, overflow) = chunk.multipliedReportingOverflow(by: n - 1)
                let last = size - used
                guard !overflow, last >= 0 else { throw reader.error("cannot split \(size) into \(n) parts of \(chunk)") }
                return Array(repeating: .known(chunk), count: n - 1) + [.known(last)]
            }
            guard size % n == 0 else { throw reader.error("cannot split \(size) into \(n) equal parts") }
            return Array(repeating: .known(size / n), count: n)
        }
        // A symbolic size divides evenly only when the quotient is exact for every value of the symbol.
        return Array(repeating: axisSize.dividedExactly(by: .known(n)), count: n)
    }

    private func checked(_ sizes: [Dim], axisSize: Dim) throws(ModelError) -> [Dim] {
        guard sizes.count == outputCount else { throw reader.error("split gives \(sizes.count) sizes for \(outputCount) outputs") }
        if sizes.contains(where: { ($0.value ?? 0) < 0 }) { throw reader.error("split sizes must not be negative") }
        if let total = axisSize.value, let sum = sizes.reduce(Dim.known(0), +).value, sum != total {
            throw reader.error("split sizes add up to \(sum), the axis has \(total)")
        }
        return sizes
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return Array(repeating: ValueFact(dtype: data?.dtype, shape: nil), count: outputCount) }
        let cut = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        let sizes = try sizes(inputs, axisSize: shape.dims[cut])
        var facts: [ValueFact] = []
        // Contents follow only when the parts are known to tile the (known, small) input exactly.
        let input = ShapeMath.value(of: data).flatMap { v in sizes.reduce(Dim.known(0), +).value == v.dims[cut] ? v : nil }
        var offset = 0
        for size in sizes {
            var dims = shape.dims
            dims[cut] = size
            var value: KnownValue?
            if let input, let outDims = Shape(dims).values {
                let strides = ShapeMath.strides(input.dims)
                let start = offset
                value = ShapeMath.mapping(input, to: outDims) { index in
                    var flat = 0
                    for (axis, i) in index.enumerated() { flat += (axis == cut ? i + start : i) * strides[axis] }
                    return flat
                }
            }
            offset = offset &+ (size.value ?? 0)
            facts.append(ValueFact(dtype: data?.dtype, shape: Shape(dims), value: value))
        }
        return facts
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Slice`: a strided window along some axes — starts, ends, axes and steps
/// as attributes before opset 10 and as inputs from it. Negative indices
/// count from the end and out-of-range ones are clamped, as NumPy does.
///
/// Cost: zero — data movement.
public struct Slice: OpSchema {
    /// `(starts, ends, axes)` from the attributes of opsets 1–9.
    public let attributes: (starts: [Int], ends: [Int], axes: [Int]?)?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if opset < 10 {
            guard let starts = try reader.ints("starts"), let ends = try reader.ints("ends") else {
                throw reader.error("Slice needs 'starts' and 'ends' attributes before opset 10")
            }
            attributes = (starts, ends, try reader.ints("axes"))
            try reader.expectInputs(1...1)
        } else {
            attributes = nil
            try reader.expectInputs(3...5)
        }
    }

    /// An end at or beyond this is taken to mean "to the end" of a symbolic
    /// dimension (exporters write INT64_MAX or INT32_MAX there).
    static let openEnd = Int(Int32.max)

    /// The size and first index of one sliced axis of size `size`.
    static func window(start: Dim, end: Dim, step: Int, size: Dim) -> (count: Dim, first: Int?) {
        if let size = size.value, let start = start.value, let end = end.value {
            var first: Int, last: Int, count: Int
            if step > 0 {
                first = min(max(start < 0 ? start + size : start, 0), size)
                last = min(max(end < 0 ? end + size : end, 0), size)
                count = last > first ? (last - first - 1) / step + 1 : 0
            } else {
                first = min(max(start < 0 ? start + size : start, 0), size - 1)
                last = min(max(end < 0 ? end + size : end, -1), size - 1)
                count = first > last ? (first - last - 1) / Int(clamping: step.magnitude) + 1 : 0
            }
            return (.known(count), first)
        }
        // A symbolic size survives a whole-axis slice, forwards or backwards.
        let wholeForward = step == 1 && start == .known(0) && (end == size || (end.value ?? 0) >= openEnd)
        let wholeBackward = step == -1 && (start == .known(-1) || (start.value ?? 0) >= openEnd) && (end.value ?? 0) <= -openEnd
        return (wholeForward || wholeBackward ? size : .unknown, nil)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let starts: [Dim]?, ends: [Dim]?, axesGiven: [Int]?, steps: [Int]?
        if let attributes {
            (starts, ends, axesGiven, steps) = (attributes.starts.map(Dim.known), attributes.ends.map(Dim.known), attributes.axes, nil)
        } else {
            starts = inputs[input: 1]?.value?.integers
            ends = inputs[input: 2]?.value?.integers
            let axesInput = inputs[input: 3], stepsInput = inputs[input: 4]
            axesGiven = axesInput?.value?.knownIntegers
            steps = stepsInput?.value?.knownIntegers
            if (axesInput != nil && axesGiven == nil) || (stepsInput != nil && steps == nil) {
                let axes = axesGiven.flatMap { try? ShapeMath.axes($0, rank: shape.rank, reader: reader) }
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(axes, of: shape))]
            }
        }
        let axes = try axesGiven.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) }
        guard let starts, let ends else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(axes, of: shape))]
        }
        let sliced = axes ?? Array(0..<starts.count)
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, sliced.count == starts.count, stepList.count == starts.count,
              starts.count <= shape.rank else {
            throw reader.error("starts, ends, axes and steps have \(starts.count), \(ends.count), \(sliced.count) and \(stepList.count) elements for rank \(shape.rank)")
        }
        guard !stepList.contains(0) else { throw reader.error("a step is zero") }
        var dims = shape.dims
        var firsts = Array(repeating: 0, count: shape.rank)
        var strides = Array(repeating: 1, count: shape.rank)
        for (k, axis) in sliced.enumerated() {
            guard axis >= 0 && axis < shape.rank else { throw reader.error("axis \(axis) is out of range for rank \(shape.rank)") }
            let (count, first) = Self.window(start: starts[k], end: ends[k], step: stepList[k], size: shape.dims[axis])
            dims[axis] = count
            firsts[axis] = first ?? 0
            strides[axis] = stepList[k]
        }
        let out = Shape(dims)
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let inputStrides = ShapeMath.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                var flat = 0
                for (axis, i) in index.enumerated() { flat += (firsts[axis] + i * strides[axis]) * inputStrides[axis] }
                return flat
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Gather`: picks entries along `axis` by index; the output shape is
/// `data[..<axis] + indices + data[(axis+1)...]`. Known contents are followed,
/// which is how exported graphs read single dimensions out of `Shape`.
///
/// Cost: zero — data movement.
public struct Gather: OpSchema {
    /// The gathering axis as written.
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 0)
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1]
        guard let shape = data?.shape, let indexShape = indices?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        let out = Shape(Array(shape.dims[..<along]) + indexShape.dims + Array(shape.dims[(along + 1)...]))
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let picks = ShapeMath.value(of: indices)?.knownIntegers {
            let size = input.dims[along]
            var normalised: [Int] = []
            for i in picks {
                guard i >= -size && i < size else { throw reader.error("index \(i) is out of range for size \(size)") }
                normalised.append(i < 0 ? i + size : i)
            }
            if let outDims = out.values, let count = ShapeMath.smallCount(outDims), count == 0 {
                value = ShapeMath.pick(input, [], dims: outDims)
            } else if let outDims = out.values, ShapeMath.smallCount(outDims) != nil,
                      let outer = Count.product(Array(input.dims[..<along])), let inner = Count.product(Array(input.dims[(along + 1)...])) {
                var sources: [Int] = []
                for o in 0..<outer {
                    for k in normalised {
                        for i in 0..<inner { sources.append((o * size + k) * inner + i) }
                    }
                }
                value = ShapeMath.pick(input, sources, dims: outDims)
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// The data (an embedding table, say) can be a weight; indices cannot.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `GatherElements`: picks one data element per index along `axis`; the output has the indices' shape.
///
/// Cost: zero — data movement.
public struct GatherElements: OpSchema {
    /// The gathering axis as written.
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 0)
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1]
        if let shape = data?.shape, let indexShape = indices?.shape {
            guard shape.rank == indexShape.rank else { throw reader.error("data has rank \(shape.rank), indices \(indexShape.rank)") }
            _ = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        }
        return [ValueFact(dtype: data?.dtype, shape: indices?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `GatherND`: picks slices addressed by the last axis of `indices`; the
/// output shape is `indices[..<(q-1)] + data[(batch_dims + indices[q-1])...]`.
///
/// Cost: zero — data movement.
public struct GatherND: OpSchema {
    /// Leading dimensions shared by data and indices.
    public let batchDims: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        batchDims = try reader.int("batch_dims", default: 0)
        guard batchDims >= 0 else { throw reader.error("batch_dims must not be negative") }
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1]
        guard let shape = data?.shape, let indexShape = indices?.shape, let last = indexShape.dims.last else {
            return [ValueFact(dtype: data?.dtype, shape: nil)]
        }
        guard shape.rank > batchDims, indexShape.rank > batchDims else {
            throw reader.error("batch_dims \(batchDims) needs data and indices of higher rank")
        }
        guard let depth = last.value else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        guard depth >= 1, depth <= shape.rank - batchDims else {
            throw reader.error("indices address \(depth) axes of a rank-\(shape.rank) input after \(batchDims) batch axes")
        }
        let out = Shape(Array(indexShape.dims.dropLast()) + Array(shape.dims[(batchDims + depth)...]))
        return [ValueFact(dtype: data?.dtype, shape: out)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// How a scatter combines an update with the element it lands on.
public enum ScatterReduction: String, Sendable {
    case none, add, mul, max, min

    init(_ reader: AttributeReader) throws(ModelError) {
        let text = try reader.string("reduction", default: "none")
        guard let value = ScatterReduction(rawValue: text) else { throw reader.error("unknown reduction '\(text)'") }
        self = value
    }

    /// One FLOP per update element when updates are combined, none when they overwrite.
    func cost(updates: ValueFact?) -> OpCost? {
        if self == .none { return .zero }
        guard let count = updates?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }
}

/// `ScatterElements` (and the older `Scatter`): writes updates into a copy
/// of the data at indices along `axis`; the output has the data's shape.
///
/// Cost: zero when updates overwrite; one FLOP per update with a `reduction`.
public struct ScatterElements: OpSchema {
    /// How updates combine with existing elements (opset 16).
    public let reduction: ScatterReduction
    /// The scattering axis as written.
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        reduction = try ScatterReduction(reader)
        axis = try reader.int("axis", default: 0)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1], updates = inputs[input: 2]
        if let shape = data?.shape {
            _ = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
            if let rank = indices?.shape?.rank, rank != shape.rank { throw reader.error("data has rank \(shape.rank), indices \(rank)") }
        }
        if let a = indices?.shape, let b = updates?.shape, a.rank != b.rank { throw reader.error("indices and updates differ in rank") }
        return [ValueFact(dtype: data?.dtype ?? updates?.dtype, shape: data?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { reduction.cost(updates: inputs[input: 2]) }
}

/// `ScatterND`: writes update slices into a copy of the data at index tuples; the output has the data's shape.
///
/// Cost: zero when updates overwrite; one FLOP per update with a `reduction`.
public struct ScatterND: OpSchema {
    /// How updates combine with existing elements (opset 16).
    public let reduction: ScatterReduction
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        reduction = try ScatterReduction(reader)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0], indices = inputs[input: 1]
        if let shape = data?.shape, let depth = indices?.shape?.dims.last?.value, depth > shape.rank {
            throw reader.error("indices address \(depth) axes of a rank-\(shape.rank) input")
        }
        return [ValueFact(dtype: data?.dtype ?? inputs[input: 2]?.dtype, shape: data?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { reduction.cost(updates: inputs[input: 2]) }
}

/// `TensorScatter`: writes an update into a key/value cache along the
/// sequence `axis`; the output has the cache's shape.
///
/// Cost: zero — data movement.
public struct TensorScatter: OpSchema {
    /// The sequence axis as written (default −2).
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -2)
        let mode = try reader.string("mode", default: "linear")
        guard mode == "linear" || mode == "circular" else { throw reader.error("unknown mode '\(mode)'") }
        try reader.expectInputs(2...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let cache = inputs[input: 0], update = inputs[input: 1]
        if let shape = cache?.shape {
            guard try ShapeMath.axis(axis, rank: shape.rank, reader: reader) != 0 else { throw reader.error("axis cannot be the batch axis") }
            if let rank = update?.shape?.rank, rank != shape.rank { throw reader.error("cache has rank \(shape.rank), update \(rank)") }
        }
        return [ValueFact(dtype: cache?.dtype ?? update?.dtype, shape: cache?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Expand`: broadcasts the input to a shape given as input 1 (NumPy rules,
/// so a 1 in the target keeps the input's dimension).
///
/// Cost: zero — data movement.
public struct Expand: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        guard let target = inputs[input: 1]?.value?.integers else {
            guard let k = ShapeMath.length(inputs[input: 1]) else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
            // Input dimensions other than 1 survive broadcasting whatever the target says.
            let rank = max(k, shape.rank)
            let padded = Array(repeating: Dim.known(1), count: rank - shape.rank) + shape.dims
            return [ValueFact(dtype: data?.dtype, shape: Shape(padded.map { $0.value.map { $0 == 1 ? .unknown : .known($0) } ?? .unknown }))]
        }
        guard let out = try Broadcast.shape([shape, Shape(target)], node: reader) else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let offset = outDims.count - input.dims.count
            let strides = ShapeMath.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                var flat = 0
                for (axis, size) in input.dims.enumerated() where size != 1 { flat += index[axis + offset] * strides[axis] }
                return flat
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Tile`: repeats the input along every axis (`repeats`, input 1); opsets
/// 1–5 instead take a scalar `tiles` count and the `axis` as inputs 1 and 2.
///
/// Cost: zero — data movement.
public struct Tile: OpSchema {
    let legacy: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        legacy = opset < 6
        try reader.expectInputs(legacy ? 3...3 : 2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        var repeats = Array(repeating: Dim.known(1), count: shape.rank)
        if legacy {
            guard let tiles = ShapeMath.scalar(inputs[input: 1]), let axis = ShapeMath.scalar(inputs[input: 2])?.value else {
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))]
            }
            repeats[try ShapeMath.axis(axis, rank: shape.rank, reader: reader)] = tiles
        } else {
            guard let given = inputs[input: 1]?.value?.integers else {
                return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))]
            }
            guard given.count == shape.rank else { throw reader.error("repeats has \(given.count) elements for rank \(shape.rank)") }
            repeats = given
        }
        if repeats.contains(where: { ($0.value ?? 0) < 0 }) { throw reader.error("repeats must not be negative") }
        let out = Shape(zip(shape.dims, repeats).map { $0 * $1 })
        var value: KnownValue?
        if let input = ShapeMath.value(of: data), let outDims = out.values {
            let strides = ShapeMath.strides(input.dims)
            value = ShapeMath.mapping(input, to: outDims) { index in
                var flat = 0
                for (axis, i) in index.enumerated() { flat += (i % input.dims[axis]) * strides[axis] }
                return flat
            }
        }
        return [ValueFact(dtype: data?.dtype, shape: out, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Pad`: adds (or, with negative pads, removes) elements at both ends of
/// axes — pads as the `paddings`/`pads` attribute before opset 11, as input 1
/// from it, for the `axes` of input 3 from opset 18.
///
/// Cost: zero — data movement (the fill, reflect, edge and wrap modes copy values).
public struct Pad: OpSchema {
    /// Begin pads of every padded axis, then end pads, from the attribute (opsets 1–10).
    public let padsAttribute: [Int]?
    /// `constant`, `reflect`, `edge` or `wrap`.
    public let mode: String
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        mode = try reader.string("mode", default: "constant")
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw reader.error("unknown mode '\(mode)'") }
        if opset < 11 {
            guard let pads = try reader.ints(opset < 2 ? "paddings" : "pads") else { throw reader.error("Pad needs a 'pads' attribute before opset 11") }
            padsAttribute = pads
            try reader.expectInputs(1...1)
        } else {
            padsAttribute = nil
            try reader.expectInputs(2...4)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        var axes: [Int]?
        if let axesInput = inputs[input: 3] {
            axes = try axesInput.value?.knownIntegers.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) }
            if axes == nil { return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))] }
        }
        guard let pads = padsAttribute ?? inputs[input: 1]?.value?.knownIntegers else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(axes, of: shape))]
        }
        let padded = axes ?? Array(0..<shape.rank)
        guard pads.count == 2 * padded.count else { throw reader.error("pads has \(pads.count) elements for \(padded.count) axes") }
        var dims = shape.dims
        for (k, axis) in padded.enumerated() {
            let (extra, overflow) = pads[k].addingReportingOverflow(pads[k + padded.count])
            guard !overflow else { throw reader.error("pads overflow") }
            dims[axis] = dims[axis] + .known(extra)
            if let size = dims[axis].value, size < 0 { throw reader.error("pads leave axis \(axis) with size \(size)") }
        }
        return [ValueFact(dtype: data?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight; the pad value is a constant, not learned.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `CenterCropPad`: crops or zero-pads the listed axes (all by default) to the sizes of input 1, centred.
///
/// Cost: zero — data movement.
public struct CenterCropPad: OpSchema {
    /// The axes input 1 refers to, as written.
    public let axes: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axes = try reader.ints("axes")
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let data = inputs[input: 0]
        guard let shape = data?.shape else { return [ValueFact(dtype: data?.dtype, shape: nil)] }
        let resized = try axes.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) }
        guard let sizes = inputs[input: 1]?.value?.integers else {
            return [ValueFact(dtype: data?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))]
        }
        let targets = resized ?? Array(0..<shape.rank)
        guard sizes.count == targets.count else { throw reader.error("shape has \(sizes.count) elements for \(targets.count) axes") }
        var dims = shape.dims
        for (axis, size) in zip(targets, sizes) {
            if let v = size.value, v < 0 { throw reader.error("crop size \(v) is negative") }
            dims[axis] = size
        }
        return [ValueFact(dtype: data?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// How `Resize` and `Upsample` compute an output element from its neighbours.
public enum Interpolation: String, Sendable {
    case nearest, linear, cubic

    init(_ reader: AttributeReader) throws(ModelError) {
        let text = try reader.string("mode", default: "nearest")
        // Upsample of opset 1 spells linear "bilinear".
        guard let value = text == "bilinear" ? .linear : Interpolation(rawValue: text) else {
            throw reader.error("unknown mode '\(text)'")
        }
        self = value
    }

    /// FLOPs per output element: nearest copies (0); linear weighs the 2^k
    /// corners around the sample point and cubic the 4^k taps, 3 FLOPs each
    /// (weight, multiply, add), k being the number of axes whose size changes.
    /// Antialiasing's wider filters are not counted.
    func cost(input: Shape?, output: ValueFact?) -> OpCost? {
        if self == .nearest { return .zero }
        guard let count = output?.elementCount, let inDims = input?.values, let outDims = output?.shape?.values,
              inDims.count == outDims.count else { return nil }
        let resized = zip(inDims, outDims).filter { $0 != $1 }.count
        let tapsPerAxis = self == .linear ? 2 : 4
        guard let taps = Count.product(Array(repeating: tapsPerAxis, count: resized)), let perElement = Count.product(taps, 3) else { return nil }
        return .elementwise(count, perElement: perElement)
    }

    /// `size · factor` rounded down; a symbolic size survives whole factors only.
    static func scaled(_ size: Dim, by factor: Double) -> Dim {
        guard factor.isFinite, factor > 0 else { return .unknown }
        if let v = size.value { return ShapeMath.dim((Double(v) * factor).rounded(.down)) }
        guard factor == factor.rounded(), factor < 1e9 else { return .unknown }
        return size * .known(Int(factor))
    }
}

/// `Resize`: resamples the input to sizes given directly (`sizes`, input 3,
/// read through `keep_aspect_ratio_policy`) or as `scales` (input 1 in
/// opset 10, input 2 from 11): `floor(size · scale)`, times the region of
/// interest's extent for `tf_crop_and_resize`. Opset 18 adds `axes`.
///
/// Cost: see `Interpolation.cost` (nearest 0; linear 3·2^k and cubic 3·4^k
/// FLOPs per output element for k resized axes).
public struct Resize: OpSchema {
    /// How output elements are computed.
    public let mode: Interpolation
    /// The axes scales and sizes refer to, as written (opset 18).
    public let axes: [Int]?
    /// `stretch`, `not_larger` or `not_smaller` (opset 18).
    public let keepAspectRatioPolicy: String
    /// Whether the region of interest scales the output (`tf_crop_and_resize`).
    let cropsToRegion: Bool
    let scalesIndex: Int
    let sizesIndex: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        mode = try Interpolation(reader)
        axes = try reader.ints("axes")
        keepAspectRatioPolicy = try reader.string("keep_aspect_ratio_policy", default: "stretch")
        guard ["stretch", "not_larger", "not_smaller"].contains(keepAspectRatioPolicy) else {
            throw reader.error("unknown keep_aspect_ratio_policy '\(keepAspectRatioPolicy)'")
        }
        cropsToRegion = try reader.string("coordinate_transformation_mode", default: "half_pixel") == "tf_crop_and_resize"
        if opset < 11 {
            (scalesIndex, sizesIndex) = (1, nil)
            try reader.expectInputs(2...2)
        } else {
            (scalesIndex, sizesIndex) = (2, 3)
            try reader.expectInputs(1...4)
        }
    }

    /// The fact of an input that is present and not an empty placeholder
    /// (opset 11 needed an empty `scales` to reach `sizes`).
    private static func given(_ fact: ValueFact?) -> ValueFact? {
        ShapeMath.length(fact) == 0 ? nil : fact
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        let resized = try axes.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) } ?? Array(0..<shape.rank)
        var dims = shape.dims
        if let sizesFact = Self.given(sizesIndex.flatMap { inputs[input: $0] }) {
            guard let sizes = sizesFact.value?.integers else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))] }
            guard sizes.count == resized.count else { throw reader.error("sizes has \(sizes.count) elements for \(resized.count) axes") }
            if sizes.contains(where: { ($0.value ?? 0) < 0 }) { throw reader.error("sizes must not be negative") }
            if keepAspectRatioPolicy == "stretch" {
                for (axis, size) in zip(resized, sizes) { dims[axis] = size }
            } else {
                // One scale for every axis keeps the aspect ratio: the smallest (not_larger) or largest ratio.
                var ratios: [Double] = []
                for (axis, size) in zip(resized, sizes) {
                    guard let target = size.value, let current = shape.dims[axis].value, current > 0 else { ratios = []; break }
                    ratios.append(Double(target) / Double(current))
                }
                let scale = keepAspectRatioPolicy == "not_larger" ? ratios.min() : ratios.max()
                for axis in resized {
                    guard let scale, let current = shape.dims[axis].value else { dims[axis] = .unknown; continue }
                    dims[axis] = ShapeMath.dim((scale * Double(current) + 0.5).rounded(.down))
                }
            }
        } else if let scalesFact = Self.given(inputs[input: scalesIndex]) {
            guard var factors = scalesFact.value?.reals else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))] }
            guard factors.count == resized.count else { throw reader.error("scales has \(factors.count) elements for \(resized.count) axes") }
            if factors.contains(where: { $0.isFinite && $0 <= 0 }) { throw reader.error("scales must be positive") }
            if cropsToRegion {
                guard let roi = inputs[input: 1]?.value?.reals, roi.count == 2 * resized.count else {
                    return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))]
                }
                for i in factors.indices { factors[i] *= roi[i + resized.count] - roi[i] }
            }
            for (axis, factor) in zip(resized, factors) { dims[axis] = Interpolation.scaled(shape.dims[axis], by: factor) }
        } else {
            throw reader.error("Resize needs scales or sizes")
        }
        return [ValueFact(dtype: x?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        mode.cost(input: inputs[input: 0]?.shape, output: outputs.first)
    }

    /// Only the data can be a weight; the region of interest and scales are constants, not learned.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Upsample` (deprecated for Resize): `floor(size · scale)` per axis, with
/// scales from `height_scale`/`width_scale` (opset 1), the `scales`
/// attribute (opsets 7–8) or input 1 (opset 9).
///
/// Cost: as Resize (see `Interpolation.cost`).
public struct Upsample: OpSchema {
    /// How output elements are computed.
    public let mode: Interpolation
    /// Scales from the attributes (before opset 9).
    public let scalesAttribute: [Double]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        mode = try Interpolation(reader)
        if opset < 7 {
            let height = try reader.float("height_scale", default: 0), width = try reader.float("width_scale", default: 0)
            guard height > 0, width > 0 else { throw reader.error("Upsample needs positive 'height_scale' and 'width_scale'") }
            scalesAttribute = [1, 1, Double(height), Double(width)]
            try reader.expectInputs(1...1)
        } else if opset < 9 {
            guard let scales = try reader.floats("scales") else { throw reader.error("Upsample needs a 'scales' attribute before opset 9") }
            scalesAttribute = scales.map(Double.init)
            try reader.expectInputs(1...1)
        } else {
            scalesAttribute = nil
            try reader.expectInputs(2...2)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard let scales = scalesAttribute ?? inputs[input: 1]?.value?.reals else {
            return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))]
        }
        guard scales.count == shape.rank else { throw reader.error("scales has \(scales.count) elements for rank \(shape.rank)") }
        if scales.contains(where: { $0.isFinite && $0 <= 0 }) { throw reader.error("scales must be positive") }
        return [ValueFact(dtype: x?.dtype, shape: Shape(zip(shape.dims, scales).map { Interpolation.scaled($0, by: $1) }))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        mode.cost(input: inputs[input: 0]?.shape, output: outputs.first)
    }

    /// Only the data can be a weight; the scales are constants, not learned.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Shape`: the input's dimensions (from `start` to `end`, opset 15) as an
/// int64 vector whose contents are known, symbols included, whenever the
/// input's rank is.
///
/// Cost: zero — no arithmetic.
public struct ShapeOf: OpSchema {
    /// First dimension to report, as written.
    public let start: Int
    /// One past the last dimension to report, as written; `nil` for the last.
    public let end: Int?

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        start = try reader.int("start", default: 0)
        end = try reader.int("end")
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: .int64, shape: Shape([Dim.unknown]))] }
        let rank = shape.rank
        func clamp(_ i: Int) -> Int { min(max(i < 0 ? i + rank : i, 0), rank) }
        let first = clamp(start), last = clamp(end ?? rank)
        let dims = first < last ? Array(shape.dims[first..<last]) : []
        return [ValueFact(dtype: .int64, value: KnownValue(integers: dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the shape of the input is read, never its values.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `Size`: the input's element count as an int64 scalar (symbolic when a dimension is).
///
/// Cost: zero — no arithmetic on the data.
public struct SizeOf: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: .int64, shape: Shape([Dim]()))] }
        return [ValueFact(dtype: .int64, value: KnownValue(scalar: Dim.product(shape.dims)))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the shape of the input is read, never its values.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `ConstantOfShape`: a tensor of the shape input 1 holds, filled with the
/// one-element `value` attribute (float32 zero by default).
///
/// Cost: zero — a fill, no arithmetic.
public struct ConstantOfShape: OpSchema {
    /// The element type of the output.
    public let dtype: DType
    /// The fill element, when it is a number.
    let fill: KnownValue?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if let tensor = try reader.tensor("value") {
            guard tensor.elementCount == 1 else { throw reader.error("'value' must hold one element, it holds \(tensor.elementCount)") }
            dtype = tensor.dtype
            fill = KnownValue(tensor: tensor)
        } else {
            dtype = .float
            fill = KnownValue(dims: [], elements: .reals([0]))
        }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let dims = inputs[input: 0]?.value?.integers else {
            return [ValueFact(dtype: dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 0])))]
        }
        if let negative = dims.first(where: { ($0.value ?? 0) < 0 }) { throw reader.error("the shape holds the negative dimension \(negative)") }
        let shape = Shape(dims)
        var value: KnownValue?
        if let fill, let values = shape.values, let count = ShapeMath.smallCount(values) {
            value = ShapeMath.pick(fill, Array(repeating: 0, count: count), dims: values)
        }
        return [ValueFact(dtype: dtype, shape: shape, value: value)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Range`: `start, start + delta, …` up to `limit` (exclusive); there are
/// `max(ceil((limit − start) / delta), 0)` elements. A symbolic limit with
/// start 0 and a dividing delta keeps its symbol (`Range(0, seq, 1)` has `seq` elements).
///
/// Cost: zero — values are generated, counted like a fill.
public struct NumberRange: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs.lazy.compactMap { $0?.dtype }.first
        let operands = (0..<3).map { ShapeMath.value(of: inputs[input: $0]) }
        guard operands.allSatisfy({ $0?.count == 1 }) else { return [ValueFact(dtype: dtype, shape: Shape([Dim.unknown]))] }
        let known = operands.compactMap { $0 }
        if known.allSatisfy({ if case .integers = $0.elements { return true } else { return false } }) {
            return [try integerRange(known.map { $0.integers[0] }, dtype: dtype)]
        }
        let reals = known.map { $0.reals[0] }
        let (start, limit, delta) = (reals[0], reals[1], reals[2])
        guard delta != 0 else { throw reader.error("delta is zero") }
        let steps = ((limit - start) / delta).rounded(.up)
        // A limit behind the start (in the direction of delta) gives an empty range, however far behind.
        guard let count = steps <= 0 ? 0 : ShapeMath.dim(steps).value else { return [ValueFact(dtype: dtype, shape: Shape([Dim.unknown]))] }
        let value = count <= KnownValue.maxElements
            ? KnownValue(dims: [count], elements: .reals((0..<count).map { start + Double($0) * delta })) : nil
        return [ValueFact(dtype: dtype, shape: Shape([Dim.known(count)]), value: value)]
    }

    private func integerRange(_ operands: [Dim], dtype: DType?) throws(ModelError) -> ValueFact {
        let (start, limit, delta) = (operands[0], operands[1], operands[2])
        if delta == .known(0) { throw reader.error("delta is zero") }
        guard let a = start.value, let b = limit.value, let d = delta.value else {
            // Symbols stand for sizes, which are never negative: a positive multiple of them is a valid count.
            let count = (limit - start).dividedExactly(by: delta)
            guard case .symbol = count, let monomial = Monomial(count), monomial.coefficient > 0 else {
                return ValueFact(dtype: dtype, shape: Shape([Dim.unknown]))
            }
            return ValueFact(dtype: dtype, shape: Shape([count]))
        }
        let (span, overflow) = b.subtractingReportingOverflow(a)
        let (quotient, overflowDividing) = span.dividedReportingOverflow(by: d)
        guard !overflow, !overflowDividing else { return ValueFact(dtype: dtype, shape: Shape([Dim.unknown])) }
        var count = quotient
        if quotient * d != span && (span > 0) == (d > 0) { count += 1 }
        count = max(count, 0)
        let value = count <= KnownValue.maxElements ? KnownValue(integers: (0..<count).map { .known(a &+ $0 &* d) }) : nil
        return ValueFact(dtype: dtype, shape: Shape([Dim.known(count)]), value: value)
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Start, limit and delta are constants, not learned.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `Constant`: a tensor given by exactly one of the attributes `value`,
/// `sparse_value`, `value_float(s)`, `value_int(s)` or `value_string(s)`.
///
/// Cost: zero — no arithmetic.
public struct Constant: OpSchema {
    /// What the node produces.
    public let fact: ValueFact

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        try reader.expectInputs(0...0)
        var facts: [ValueFact] = []
        if let tensor = try reader.tensor("value") { facts.append(ValueFact(tensor: tensor)) }
        if case .sparseTensor(let sparse)? = node.attribute("sparse_value")?.value {
            var dims: [Int] = []
            for d in sparse.dims {
                guard let v = Int(exactly: d), v >= 0 else { throw reader.error("sparse_value has the invalid dimension \(d)") }
                dims.append(v)
            }
            facts.append(ValueFact(dtype: sparse.values.dtype, shape: Shape(dims)))
        }
        if node.attribute("value_float") != nil {
            facts.append(ValueFact(dtype: .float, value: KnownValue(dims: [], elements: .reals([Double(try reader.float("value_float", default: 0))]))))
        }
        if let floats = try reader.floats("value_floats") {
            facts.append(Self.vector(.float, count: floats.count, elements: .reals(floats.map(Double.init))))
        }
        if let int = try reader.int("value_int") {
            facts.append(ValueFact(dtype: .int64, value: KnownValue(scalar: .known(int))))
        }
        if let ints = try reader.ints("value_ints") {
            facts.append(Self.vector(.int64, count: ints.count, elements: .integers(ints.map(Dim.known))))
        }
        if node.attribute("value_string") != nil {
            _ = try reader.string("value_string", default: "")
            facts.append(ValueFact(dtype: .string, shape: Shape([Dim]())))
        }
        if let strings = try reader.strings("value_strings") {
            facts.append(ValueFact(dtype: .string, shape: Shape([strings.count])))
        }
        guard facts.count == 1, let fact = facts.first else {
            throw reader.error("Constant needs exactly one value attribute, this node has \(facts.count)")
        }
        self.fact = fact
    }

    /// A 1-D fact whose contents are kept when small enough.
    private static func vector(_ dtype: DType, count: Int, elements: KnownValue.Elements) -> ValueFact {
        let shape = Shape([count])
        return count <= KnownValue.maxElements
            ? ValueFact(dtype: dtype, shape: shape, value: KnownValue(dims: [count], elements: elements))
            : ValueFact(dtype: dtype, shape: shape)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] { [fact] }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `DepthToSpace`: moves channel blocks into `blocksize`² spatial positions, `[N, C/b², H·b, W·b]`.
///
/// Cost: zero — data movement.
public struct DepthToSpace: OpSchema {
    /// The spatial block edge `b`.
    public let blockSize: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let size = try reader.int("blocksize"), size > 0, size < 1 << 16 else { throw reader.error("blocksize must be a positive integer") }
        blockSize = size
        let mode = try reader.string("mode", default: "DCR")
        guard mode == "DCR" || mode == "CRD" else { throw reader.error("unknown mode '\(mode)'") }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: 4))] }
        guard shape.rank == 4 else { throw reader.error("DepthToSpace needs a 4-D input, got rank \(shape.rank)") }
        let area = blockSize * blockSize
        if let c = shape.dims[1].value, c % area != 0 { throw reader.error("\(c) channels do not divide into blocks of \(area)") }
        let b = Dim.known(blockSize), d = shape.dims
        return [ValueFact(dtype: x?.dtype, shape: Shape([d[0], d[1].dividedExactly(by: .known(area)), d[2] * b, d[3] * b]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `SpaceToDepth`: moves `blocksize`² spatial blocks into channels, `[N, C·b², H/b, W/b]`.
///
/// Cost: zero — data movement.
public struct SpaceToDepth: OpSchema {
    /// The spatial block edge `b`.
    public let blockSize: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let size = try reader.int("blocksize"), size > 0, size < 1 << 16 else { throw reader.error("blocksize must be a positive integer") }
        blockSize = size
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: 4))] }
        guard shape.rank == 4 else { throw reader.error("SpaceToDepth needs a 4-D input, got rank \(shape.rank)") }
        for axis in 2...3 {
            if let size = shape.dims[axis].value, size % blockSize != 0 { throw reader.error("size \(size) does not divide into blocks of \(blockSize)") }
        }
        let b = Dim.known(blockSize), d = shape.dims
        return [ValueFact(dtype: x?.dtype, shape: Shape([d[0], d[1] * b * b, d[2].dividedExactly(by: b), d[3].dividedExactly(by: b)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Col2Im`: sums column blocks `[N, C·∏block, L]` back into an image `[N, C, image_shape…]`.
///
/// Cost: one FLOP (an add into the image) per input element.
public struct Col2Im: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let image = inputs[input: 1]?.value?.integers, block = inputs[input: 2]?.value?.knownIntegers
        guard let shape = x?.shape else {
            return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 1]).map { $0 + 2 }))]
        }
        guard shape.rank == 3 else { throw reader.error("Col2Im needs a 3-D input, got rank \(shape.rank)") }
        guard let image else {
            return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 1]).map { $0 + 2 }))]
        }
        var channels = Dim.unknown
        if let block {
            guard block.count == image.count, block.allSatisfy({ $0 > 0 }), let area = Count.product(block) else {
                throw reader.error("block_shape must give a positive size for each of the \(image.count) image axes")
            }
            if let c = shape.dims[1].value, c % area != 0 { throw reader.error("\(c) rows do not divide into blocks of \(area)") }
            channels = shape.dims[1].dividedExactly(by: .known(area))
        }
        return [ValueFact(dtype: x?.dtype, shape: Shape([shape.dims[0], channels] + image))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }
}

/// `NonZero`: the indices of the non-zero elements, `[rank, count]`; the
/// count depends on the data, so it is unknown unless the contents are known.
///
/// Cost: zero — selection, no arithmetic.
public struct NonZero: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let rank: Dim = x?.shape.map { .known($0.rank) } ?? .unknown
        var count = Dim.unknown
        if let value = ShapeMath.value(of: x) {
            switch value.elements {
            case .reals(let v): count = .known(v.filter { $0 != 0 }.count)
            case .integers(let v): if v.allSatisfy({ $0.value != nil }) { count = .known(v.filter { $0 != .known(0) }.count) }
            }
        }
        return [ValueFact(dtype: .int64, shape: Shape([rank, count]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Compress`: keeps the slices along `axis` (or the elements of the
/// flattened input) where the condition is true; how many depends on the
/// condition, so the size is unknown unless its contents are known.
///
/// Cost: zero — selection, no arithmetic.
public struct Compress: OpSchema {
    /// The selecting axis as written; `nil` flattens the input first.
    public let axis: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis")
        try reader.expectInputs(2...2)
    }

    /// True entries of the condition among the first `size`.
    private static func kept(_ condition: [Int]?, size: Int?) -> Dim {
        guard let condition, let size else { return .unknown }
        return .known(condition.prefix(size).filter { $0 != 0 }.count)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let condition = ShapeMath.value(of: inputs[input: 1])?.knownIntegers
        guard let axis else {
            return [ValueFact(dtype: x?.dtype, shape: Shape([Self.kept(condition, size: x?.elementCount)]))]
        }
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        var dims = shape.dims
        dims[along] = Self.kept(condition, size: dims[along].value)
        return [ValueFact(dtype: x?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Unique`: the distinct elements (or slices along `axis`) with their first
/// indices, the inverse mapping and counts. How many are distinct depends on
/// the data, so it is unknown unless the contents are known; the inverse
/// mapping's size is always the input's (flattened or along the axis).
///
/// Cost: zero — sorting and matching, no arithmetic.
public struct Unique: OpSchema {
    /// The axis whose slices are compared, as written; `nil` compares single elements.
    public let axis: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis")
        _ = try reader.int("sorted", default: 1)
        try reader.expectInputs(1...1)
    }

    /// How many distinct elements (or slices along `axis`) `value` holds, when all are known numbers.
    static func distinctCount(_ value: KnownValue, axis: Int?) -> Int? {
        var keys: [UInt64] = []
        keys.reserveCapacity(value.count)
        switch value.elements {
        case .integers(let elements):
            for d in elements {
                guard let v = d.value else { return nil }
                keys.append(UInt64(UInt(bitPattern: v)))
            }
        case .reals(let elements):
            for v in elements {
                guard !v.isNaN else { return nil }
                // Adding zero turns -0.0 into 0.0, which compares equal to it.
                keys.append((v + 0).bitPattern)
            }
        }
        guard let axis else { return Set(keys).count }
        guard !keys.isEmpty, axis >= 0, axis < value.dims.count, let outer = Count.product(Array(value.dims[..<axis])),
              let inner = Count.product(Array(value.dims[(axis + 1)...])) else { return nil }
        let size = value.dims[axis]
        var slices = Set<[UInt64]>()
        for i in 0..<size {
            var slice: [UInt64] = []
            for o in 0..<outer {
                let base = (o * size + i) * inner
                slice += keys[base..<(base + inner)]
            }
            slices.insert(slice)
        }
        return slices.count
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let known = ShapeMath.value(of: x)
        var along: Int?
        if let axis, let shape = x?.shape { along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader) }
        let count: Dim = known.flatMap { Self.distinctCount($0, axis: along) }.map(Dim.known) ?? .unknown
        let distinct = Shape([count])
        var values: Shape? = distinct
        var inverse = Shape([Dim.unknown])
        if axis != nil {
            values = nil
            if let shape = x?.shape, let along {
                var dims = shape.dims
                dims[along] = count
                values = Shape(dims)
                inverse = Shape([shape.dims[along]])
            }
        } else if let shape = x?.shape {
            inverse = Shape([Dim.product(shape.dims)])
        }
        return [ValueFact(dtype: x?.dtype, shape: values), ValueFact(dtype: .int64, shape: distinct),
                ValueFact(dtype: .int64, shape: inverse), ValueFact(dtype: .int64, shape: distinct)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `OneHot`: a new axis of length `depth` (input 1) at `axis`, holding
/// `values[1]` where the index points and `values[0]` elsewhere.
///
/// Cost: zero — a fill, no arithmetic.
public struct OneHot: OpSchema {
    /// Where the new axis goes in the output, as written (default −1, last).
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -1)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 2]?.dtype
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: dtype, shape: nil)] }
        let depth = ShapeMath.scalar(inputs[input: 1]) ?? .unknown
        if let d = depth.value, d < 0 { throw reader.error("depth \(d) is negative") }
        let inserted = try ShapeMath.axis(axis, rank: shape.rank + 1, reader: reader)
        var dims = shape.dims
        dims.insert(depth, at: inserted)
        return [ValueFact(dtype: dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Indices, depth and the on/off values are not learned.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `Trilu`: keeps the upper or lower triangle of the last two axes, zeroing the rest; same shape.
///
/// Cost: zero — masking, no arithmetic.
public struct Trilu: OpSchema {
    /// Whether the upper triangle is kept.
    public let upper: Bool

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        upper = try reader.int("upper", default: 1) != 0
        try reader.expectInputs(1...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `ReverseSequence`: reverses each batch entry's first `sequence_lens` time steps; same shape.
///
/// Cost: zero — data movement.
public struct ReverseSequence: OpSchema {
    /// The batch axis (0 or 1).
    public let batchAxis: Int
    /// The time axis (0 or 1, not the batch axis).
    public let timeAxis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        batchAxis = try reader.int("batch_axis", default: 1)
        timeAxis = try reader.int("time_axis", default: 0)
        guard Set([batchAxis, timeAxis]) == [0, 1] else { throw reader.error("batch_axis and time_axis must be 0 and 1 in some order") }
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let rank = x?.shape?.rank, rank < 2 { throw reader.error("ReverseSequence needs rank 2 or more, got \(rank)") }
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `EyeLike`: a 2-D tensor of the input's shape with ones on the `k`-th
/// diagonal, of element type `dtype` (the input's by default).
///
/// Cost: zero — a fill, no arithmetic.
public struct EyeLike: OpSchema {
    /// The element type the attribute asks for; `nil` keeps the input's.
    public let dtype: DType?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if let code = try reader.int("dtype") {
            guard let raw = Int32(exactly: code), DType(rawValue: raw).isKnown else { throw reader.error("unknown dtype \(code)") }
            dtype = DType(rawValue: raw)
        } else {
            dtype = nil
        }
        _ = try reader.int("k", default: 0)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let rank = x?.shape?.rank, rank != 2 { throw reader.error("EyeLike needs a 2-D input, got rank \(rank)") }
        return [ValueFact(dtype: dtype ?? x?.dtype, shape: x?.shape ?? ShapeMath.unknownShape(rank: 2))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the input's shape and type are read.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `TopK`: the `k` largest (or smallest) entries along `axis` and their
/// int64 indices; `k` is an attribute before opset 10 and input 1 from it.
///
/// Cost: one comparison per input element (a selection pass); ordering the
/// `k` results is not counted.
public struct TopK: OpSchema {
    /// The selecting axis as written (default −1).
    public let axis: Int
    /// `k` from the attribute (before opset 10).
    public let kAttribute: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -1)
        if opset < 10 {
            guard let k = try reader.int("k"), k >= 0 else { throw reader.error("TopK needs a non-negative 'k' attribute before opset 10") }
            kAttribute = k
            try reader.expectInputs(1...1)
        } else {
            kAttribute = nil
            try reader.expectInputs(2...2)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil), ValueFact(dtype: .int64, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        let k = kAttribute.map(Dim.known) ?? ShapeMath.scalar(inputs[input: 1]) ?? .unknown
        if let v = k.value {
            guard v >= 0 else { throw reader.error("k \(v) is negative") }
            if let size = shape.dims[along].value, v > size { throw reader.error("k \(v) exceeds the axis size \(size)") }
        }
        var dims = shape.dims
        dims[along] = k
        return [ValueFact(dtype: x?.dtype, shape: Shape(dims)), ValueFact(dtype: .int64, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `ArgMax` and `ArgMin`: the int64 index of the extreme along `axis`, which is kept as size 1 unless `keepdims` is 0.
///
/// Cost: one comparison per input element.
public struct ArgExtreme: OpSchema {
    /// The searched axis as written.
    public let axis: Int
    /// Whether the searched axis stays as size 1.
    public let keepDims: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: 0)
        keepDims = try reader.int("keepdims", default: 1) != 0
        _ = try reader.int("select_last_index", default: 0)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let shape = inputs[input: 0]?.shape else { return [ValueFact(dtype: .int64, shape: nil)] }
        let along = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        var dims = shape.dims
        if keepDims { dims[along] = .known(1) } else { dims.remove(at: along) }
        return [ValueFact(dtype: .int64, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }
}

/// `CumSum` and `CumProd`: running sums or products along the axis given as input 1; same shape.
///
/// Cost: one FLOP per element.
public struct Cumulative: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        _ = try reader.int("exclusive", default: 0)
        _ = try reader.int("reverse", default: 0)
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let shape = x?.shape, let axis = ShapeMath.scalar(inputs[input: 1])?.value {
            _ = try ShapeMath.axis(axis, rank: shape.rank, reader: reader)
        }
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
