/// Index arithmetic and known-contents helpers shared by the shape and reduction families.
enum ShapeMath {
    /// The element count of `dims` when it is small enough to hold as a known value.
    static func smallCount(_ dims: [Int]) -> Int? {
        guard let count = Count.product(dims), count <= KnownValue.maxElements else { return nil }
        return count
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
            Shape.advance(&index, in: dims)
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
