#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

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
        largest = schema.largest
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
        let a = try ShapeKernels.axis(axis, rank: x.shape.count)
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

extension TopK: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try TopKKernel(self, setup) }
}
