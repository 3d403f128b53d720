/// One dimension of a shape: a number, a named symbol such as `N`, or unknown.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case known(Int)
    case symbol(String)
    case unknown

    public var value: Int? {
        if case .known(let v) = self { return v }
        return nil
    }

    public var description: String {
        switch self {
        case .known(let v): return String(v)
        case .symbol(let s): return s
        case .unknown: return "?"
        }
    }
}

/// A tensor shape whose rank is known; each dimension may be symbolic.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Dim]

    public init(_ dims: [Dim]) { self.dims = dims }
    public init(_ values: [Int]) { self.dims = values.map(Dim.known) }
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    public var rank: Int { dims.count }

    /// The dimensions as numbers, when all are known.
    public var values: [Int]? {
        var out: [Int] = []
        out.reserveCapacity(dims.count)
        for d in dims {
            guard let v = d.value else { return nil }
            out.append(v)
        }
        return out
    }

    /// Product of the dimensions, when all are known and it fits in `Int`.
    public var elementCount: Int? {
        guard let values else { return nil }
        return Shape.product(values)
    }

    /// `N×3×224×224`; a scalar prints as `scalar`.
    public var description: String {
        dims.isEmpty ? "scalar" : dims.map(\.description).joined(separator: "×")
    }

    /// Row-major strides of `dims`, in elements. Meaningful only for dims
    /// whose product is known not to overflow (`product`).
    @inlinable
    public static func strides(_ dims: [Int]) -> [Int] {
        var strides = Array(repeating: 1, count: dims.count)
        var running = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            strides[i] = running
            running &*= dims[i]
        }
        return strides
    }

    /// Steps `index` to the next multi-index of `dims` in row-major order
    /// (after the last one it wraps to all zeros).
    @inlinable
    public static func advance(_ index: inout [Int], in dims: [Int]) {
        var axis = dims.count - 1
        while axis >= 0 {
            index[axis] += 1
            if index[axis] < dims[axis] { return }
            index[axis] = 0
            axis -= 1
        }
    }

    /// Overflow-checked product of non-negative dimensions; `nil` on overflow or a negative value.
    public static func product(_ values: [Int]) -> Int? {
        var total = 1
        for v in values {
            guard v >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: v)
            if overflow { return nil }
            total = p
        }
        return total
    }
}
