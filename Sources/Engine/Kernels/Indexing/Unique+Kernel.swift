import ModelCore

/// Unique: the distinct elements of the flattened input, or the distinct
/// slices along `axis`, with the index of each one's first occurrence, the
/// distinct item every input item maps to, and how often each occurs.
///
/// Items are sorted by a total order (slices lexicographically, element by
/// element in row-major order; NaN above every number and equal to NaN;
/// strings by bytes), ties broken by position, so each run of equal items
/// starts with its first occurrence. Without `sorted` the runs are put back
/// in the order they first occur.
struct UniqueKernel: Kernel {
    let axis: Int?
    let sorted: Bool

    /// The distinct items: each one's first position, its count, and each input item's distinct item.
    struct Distinct {
        var first: [Int] = []
        var counts: [Int] = []
        var inverse: [Int]
    }

    /// How element `i` compares with element `j` of one tensor: −1, 0 or 1.
    typealias Comparison = (Int, Int) -> Int

    /// The comparison of a numeric tensor's elements.
    struct Compare: NumberVisitor {
        let x: EngineTensor
        let split: AxisSplit
        let sorted: Bool

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> Distinct {
            let e = x.elements(T.self)
            return UniqueKernel.distinct(split, sorted: sorted) { i, j in
                let (u, v) = (e[i], e[j])
                if u == v { return 0 }
                let (uNaN, vNaN) = (u != u, v != v)
                if uNaN || vNaN { return uNaN && vNaN ? 0 : uNaN ? 1 : -1 }
                return u < v ? -1 : 1
            }
        }
    }

    /// The distinct items of the `split.length` items along the split's axis, given how elements compare.
    static func distinct(_ split: AxisSplit, sorted: Bool, _ compare: Comparison) -> Distinct {
        // With no items nothing is compared; with some, outer · length · inner elements exist, so this cannot overflow.
        let lines = split.length == 0 ? 0 : split.outer * split.inner
        func compareItems(_ p: Int, _ q: Int) -> Int {
            for line in 0..<lines {
                let c = compare(split.index(line: line, p), split.index(line: line, q))
                if c != 0 { return c }
            }
            return 0
        }
        var order = Array(0..<split.length)
        order.sort { p, q in
            let c = compareItems(p, q)
            return c != 0 ? c < 0 : p < q
        }
        var result = Distinct(inverse: Array(repeating: 0, count: split.length))
        for (k, item) in order.enumerated() {
            if k == 0 || compareItems(order[k - 1], item) != 0 {
                result.first.append(item)
                result.counts.append(0)
            }
            result.counts[result.counts.count - 1] += 1
            result.inverse[item] = result.first.count - 1
        }
        if sorted { return result }
        let byOccurrence = result.first.indices.sorted { result.first[$0] < result.first[$1] }
        var position = Array(repeating: 0, count: byOccurrence.count)
        for (p, group) in byOccurrence.enumerated() { position[group] = p }
        return Distinct(first: byOccurrence.map { result.first[$0] }, counts: byOccurrence.map { result.counts[$0] },
                        inverse: result.inverse.map { position[$0] })
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var x = try requiredInput(inputs, 0, "Unique input X")
        var a = 0
        if let axis {
            a = try ShapeKernels.axis(axis, rank: x.shape.count)
        } else {
            x = x.reshaped([x.count])
        }
        let split = AxisSplit(x.shape, axis: a)
        let found: Distinct
        if x.dtype == .string {
            let strings = ShapeKernels.strings(of: x)
            found = Self.distinct(split, sorted: sorted) { i, j in
                strings[i] == strings[j] ? 0 : strings[i].lexicographicallyPrecedes(strings[j]) ? -1 : 1
            }
        } else {
            found = try ElementTypes.visit(x.dtype, Compare(x: x, split: split, sorted: sorted), bool: true, "Unique")
        }
        let strides = Shape.strides(x.shape)
        var dims = x.shape
        dims[a] = found.first.count
        let values = try ShapeKernels.tableCopy(x, dims: dims, context: context) { k in
            k == a ? found.first.map { $0 * strides[a] } : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }
        let distinct = [found.first.count]
        return [values, try ShapeKernels.int64Tensor(found.first, shape: distinct),
                try ShapeKernels.int64Tensor(found.inverse, shape: [split.length]),
                try ShapeKernels.int64Tensor(found.counts, shape: distinct)]
    }
}

extension Unique: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { UniqueKernel(axis: axis, sorted: sorted) }
}
