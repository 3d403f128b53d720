/// `ReverseSequence`: reverses each batch entry's first `sequence_lens` time steps; same shape.
///
/// Cost: zero — data movement.
public struct ReverseSequence: OpSchema {
    /// The batch axis (0 or 1).
    public let batchAxis: Int
    /// The time axis (0 or 1, not the batch axis).
    public let timeAxis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        batchAxis = try reader.int("batch_axis", default: 1)
        timeAxis = try reader.int("time_axis", default: 0)
        guard Set([batchAxis, timeAxis]) == [0, 1] else { throw reader.error("batch_axis and time_axis must be 0 and 1 in some order") }
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let rank = x?.shape?.rank, rank < 2 { throw reader.error("ReverseSequence needs rank 2 or more, got \(rank)") }
        return [ValueFact(dtype: x?.dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Only the data can be a weight.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
