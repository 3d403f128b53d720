/// What analysis knows about a value without running the model: its element
/// type, its shape (dimensions may be symbolic), and for small tensors its
/// contents — enough to follow the `Shape → Gather → Concat → Reshape` chains
/// that exporters emit.
public struct ValueFact: Sendable, Equatable {
    public var dtype: DType?
    /// `nil` when even the rank is unknown.
    public var shape: Shape?
    /// The contents, when known.
    public var value: KnownValue?

    public init(dtype: DType?, shape: Shape?, value: KnownValue? = nil) {
        self.dtype = dtype
        self.shape = shape
        self.value = value
    }

    /// Nothing known.
    public static let unknown = ValueFact(dtype: nil, shape: nil)

    /// A fact with fully known contents; the shape follows from `value.dims`.
    public init(dtype: DType, value: KnownValue) {
        self.init(dtype: dtype, shape: Shape(value.dims), value: value)
    }

    /// The fact for a stored tensor; contents are kept for small tensors only.
    public init(tensor: Tensor) {
        self.init(dtype: tensor.dtype, shape: tensor.shape, value: KnownValue(tensor: tensor))
    }

    /// The number of elements, when every dimension is a known number.
    public var elementCount: Int? { shape?.elementCount }

    /// Bytes the value occupies, when its size and element type are known.
    public var byteCount: Int? {
        guard let count = elementCount, let dtype else { return nil }
        return dtype.byteCount(elements: count)
    }
}

/// The contents of a small tensor known during analysis.
///
/// Integer elements are `Dim`s so that a shape read with `Shape` keeps its
/// symbols (`[N, 3, 224, 224]`) through the integer arithmetic that follows.
public struct KnownValue: Sendable, Equatable {
    public enum Elements: Sendable, Equatable {
        case integers([Dim])
        case reals([Double])
    }

    public var dims: [Int]
    public var elements: Elements

    /// The largest tensor whose contents analysis tracks; weights are never materialised.
    public static let maxElements = 1 << 16

    public init(dims: [Int], elements: Elements) {
        self.dims = dims
        self.elements = elements
    }

    /// A 1-D integer tensor.
    public init(integers: [Dim]) {
        self.init(dims: [integers.count], elements: .integers(integers))
    }

    /// A scalar integer.
    public init(scalar: Dim) {
        self.init(dims: [], elements: .integers([scalar]))
    }

    /// The contents of `tensor` when it is small and numeric; `nil` otherwise.
    public init?(tensor: Tensor) {
        guard tensor.elementCount <= 1024, let kind = tensor.dtype.kind else { return nil }
        switch kind {
        case .signedInteger, .unsignedInteger, .bool:
            guard let values = try? tensor.int64Values() else { return nil }
            self.init(dims: tensor.dims, elements: .integers(values.map { .known(Int($0)) }))
        case .float:
            guard let values = try? tensor.doubleValues() else { return nil }
            self.init(dims: tensor.dims, elements: .reals(values))
        default:
            return nil
        }
    }

    public var count: Int {
        switch elements {
        case .integers(let v): return v.count
        case .reals(let v): return v.count
        }
    }

    /// Integer elements (reals truncated when they are whole numbers).
    public var integers: [Dim] {
        switch elements {
        case .integers(let v): return v
        case .reals(let v): return v.map { $0.isFinite && $0 == $0.rounded() && abs($0) < 9e15 ? .known(Int($0)) : .unknown }
        }
    }

    /// Integer elements when all are known numbers.
    public var knownIntegers: [Int]? {
        var out: [Int] = []
        out.reserveCapacity(count)
        for d in integers {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    /// Elements as reals (symbolic integers become NaN).
    public var reals: [Double] {
        switch elements {
        case .integers(let v): return v.map { $0.value.map(Double.init) ?? .nan }
        case .reals(let v): return v
        }
    }
}
