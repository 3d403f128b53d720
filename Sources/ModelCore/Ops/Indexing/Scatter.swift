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
    /// `mode` "circular": write positions wrap round the cache's length instead of running past it.
    public let circular: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        axis = try reader.int("axis", default: -2)
        let mode = try reader.string("mode", default: "linear")
        guard mode == "linear" || mode == "circular" else { throw reader.error("unknown mode '\(mode)'") }
        circular = mode == "circular"
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
