/// `ai.onnx.ml.ArrayFeatureExtractor`: selects entries of the last axis, [..., F] → [..., k] for k indices.
///
/// A gather: zero FLOPs.
public struct ArrayFeatureExtractor: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let s = x?.shape, s.rank >= 1 else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        let selected: Dim = inputs[input: 1]?.elementCount.map(Dim.known) ?? .unknown
        return [ValueFact(dtype: x?.dtype, shape: Shape(Array(s.dims.dropLast()) + [selected]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `ai.onnx.ml.LabelEncoder`: maps each element through a key → value table; the output type is the values'.
///
/// A lookup: zero FLOPs.
public struct LabelEncoder: OpSchema {
    /// The type of the values the table maps to.
    public let dtype: DType

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        var types: [DType] = []
        if try reader.ints("values_int64s") != nil { types.append(.int64) }
        if try reader.floats("values_floats") != nil { types.append(.float) }
        if try reader.strings("values_strings") != nil { types.append(.string) }
        if let tensor = try reader.tensor("values_tensor") { types.append(tensor.dtype) }
        guard types.count == 1 else { throw reader.error("exactly one values_* attribute must be set, found \(types.count)") }
        dtype = types[0]
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: dtype, shape: inputs[input: 0]?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `ai.onnx.ml.TreeEnsemble`: sums of leaf weights from decision trees, [N, F] → [N, n_targets].
///
/// The path through each tree depends on the data: uncounted.
public struct TreeEnsemble: OpSchema {
    /// `n_targets`; `nil` leaves the output width unknown.
    public let targets: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        targets = try reader.int("n_targets")
        if let targets, targets <= 0 { throw reader.error("n_targets must be positive, got \(targets)") }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let s = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard s.rank == 2 else { throw reader.error("the input must have rank 2, got \(s.rank)") }
        return [ValueFact(dtype: x?.dtype, shape: Shape([s.dims[0], targets.map(Dim.known) ?? .unknown]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}
