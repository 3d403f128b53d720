/// `NonMaxSuppression`: the boxes kept per batch and class, as [selected, 3] indices.
///
/// How many boxes survive, and how many overlaps are computed, depends on
/// the scores: the count of selected boxes is unknown and the node uncounted.
public struct NonMaxSuppression: OpSchema {
    /// `center_point_box`: boxes are (x centre, y centre, width, height), else two corners (y1, x1, y2, x2).
    public let centerPointBox: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let format = try reader.int("center_point_box", default: 0)
        guard format == 0 || format == 1 else { throw reader.error("center_point_box must be 0 or 1, got \(format)") }
        centerPointBox = format == 1
        try reader.expectInputs(2...5)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        if let boxes = inputs[input: 0]?.shape {
            guard boxes.rank == 3 else { throw reader.error("boxes must have rank 3, got \(boxes.rank)") }
            _ = try SequenceModels.same(boxes.dims[2], .known(4), "box size", reader)
        }
        if let scores = inputs[input: 1]?.shape, scores.rank != 3 {
            throw reader.error("scores must have rank 3, got \(scores.rank)")
        }
        return [ValueFact(dtype: .int64, shape: Shape([.unknown, .known(3)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}
