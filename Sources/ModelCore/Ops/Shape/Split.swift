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
                let strides = Shape.strides(input.dims)
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
