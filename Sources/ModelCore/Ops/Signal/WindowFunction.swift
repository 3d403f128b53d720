/// `HannWindow`, `HammingWindow` and `BlackmanWindow`: a window of the length input 0 holds.
///
/// Per element: 4 FLOPs for Hann and Hamming (a − b · cos(2πn/N)), 8 for
/// Blackman (two cosine terms).
public struct WindowFunction: OpSchema {
    /// `output_datatype` (default float).
    public let dtype: DType
    /// The cosine-sum coefficients a₀, a₁, a₂ of a₀ − a₁·cos(2πn/N) + a₂·cos(4πn/N).
    public let coefficients: [Double]
    /// `periodic` (default 1): N is the size (a period of a longer window), else the size − 1 (symmetric).
    public let periodic: Bool
    let flopsPerElement: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        dtype = try Miscellaneous.dtype("output_datatype", default: .float, reader) ?? .float
        let periodic = try reader.int("periodic", default: 1)
        guard periodic == 0 || periodic == 1 else { throw reader.error("periodic must be 0 or 1") }
        self.periodic = periodic == 1
        switch node.opType {
        case "HannWindow": coefficients = [0.5, 0.5, 0]
        case "HammingWindow": coefficients = [25.0 / 46, 21.0 / 46, 0]
        default: coefficients = [0.42, 0.5, 0.08]
        }
        flopsPerElement = node.opType == "BlackmanWindow" ? 8 : 4
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: dtype, shape: Shape([try Miscellaneous.size(inputs[input: 0], "the window size", reader)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: flopsPerElement)
    }
}

/// `MelWeightMatrix`: the [dft_length / 2 + 1, num_mel_bins] matrix of triangular mel filters.
///
/// 3 FLOPs per element (a linear ramp: subtract, divide, clamp).
public struct MelWeightMatrix: OpSchema {
    /// `output_datatype` (default float).
    public let dtype: DType
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        dtype = try Miscellaneous.dtype("output_datatype", default: .float, reader) ?? .float
        try reader.expectInputs(5...5)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let bins = try Miscellaneous.size(inputs[input: 1], "dft_length", reader).flooredDivision(by: .known(2)) + .known(1)
        return [ValueFact(dtype: dtype, shape: Shape([bins, try Miscellaneous.size(inputs[input: 0], "num_mel_bins", reader)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: 3)
    }
}
