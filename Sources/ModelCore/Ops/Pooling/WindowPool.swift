/// MaxPool, AveragePool and LpPool over a sliding window.
///
/// Counting rule: MaxPool one comparison per window element of each output
/// element; AveragePool one addition per window element plus one division;
/// LpPool a power, an addition per window element, plus one root.
public struct WindowPool: OpSchema {
    public let op: String
    public let window: Window
    /// Whether AveragePool divides by the whole window, padding included (`count_include_pad`).
    public let countIncludePad: Bool
    /// LpPool's exponent `p`.
    public let p: Int
    /// Whether MaxPool's indices count the spatial axes column-major (`storage_order` 1).
    public let columnMajorIndices: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        guard let kernel = try reader.ints("kernel_shape") else { throw reader.error("\(op) needs kernel_shape") }
        window = try Window(kernel: kernel, reader: reader, ceilMode: try reader.int("ceil_mode", default: 0) != 0)
        countIncludePad = try reader.int("count_include_pad", default: 0) != 0
        p = try reader.int("p", default: 2)
        columnMajorIndices = try reader.int("storage_order", default: 0) != 0
        guard p > 0 else { throw reader.error("p must be positive, got \(p)") }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        guard let shape = x.shape else {
            return op == "MaxPool" ? [ValueFact(dtype: x.dtype, shape: nil), ValueFact(dtype: .int64, shape: nil)]
                                   : [ValueFact(dtype: x.dtype, shape: nil)]
        }
        guard shape.rank == window.kernel.count + 2 else {
            throw reader.error("a \(window.kernel.count)-D window needs a rank-\(window.kernel.count + 2) input, got rank \(shape.rank)")
        }
        let out = Shape(Array(shape.dims.prefix(2)) + window.outputSpatial(Array(shape.dims.dropFirst(2))))
        let y = ValueFact(dtype: x.dtype, shape: out)
        // MaxPool's optional second output holds the flat indices of the maxima.
        return op == "MaxPool" ? [y, ValueFact(dtype: .int64, shape: out)] : [y]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount, let size = Count.product(window.kernel), size < 1 << 40 else { return nil }
        switch op {
        case "MaxPool": return .elementwise(count, perElement: size)
        case "AveragePool": return .elementwise(count, perElement: size + 1)
        default: return .elementwise(count, perElement: 2 * size + 1)
        }
    }
}
