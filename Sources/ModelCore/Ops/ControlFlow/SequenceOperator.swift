/// `SequenceMap`: applies its body to each element of the input sequences; the outputs are sequences.
///
/// Uncounted: the body is not analysed.
public struct SequenceMap: OpSchema {
    let outputCount: Int
    /// The body's declared outputs, for the element type of an output sequence when the input is empty.
    public let declaredBodyOutputs: [ValueInfo]

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        guard let body = try reader.graph("body") else { throw reader.error("SequenceMap needs a body") }
        guard body.inputs.count == node.inputs.count, body.outputs.count == node.outputs.count else {
            throw reader.error("the body's \(body.inputs.count) inputs and \(body.outputs.count) outputs "
                + "must match the node's \(node.inputs.count) and \(node.outputs.count)")
        }
        outputCount = node.outputs.count
        declaredBodyOutputs = body.outputs
        try reader.expectInputs(1...Int.max)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        Array(repeating: .unknown, count: outputCount)
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}

/// The operators that build, edit and read tensor sequences.
///
/// Sequences are not tracked, so a sequence output and a tensor taken from
/// one (`SequenceAt`, `ConcatFromSequence`) are unknown; `SequenceLength` is
/// an int64 scalar. They move data: zero FLOPs.
public struct SequenceOperator: OpSchema {
    /// The operator this node is.
    public let op: String
    /// The axis of `SplitToSequence` (checked against the input's rank) and of `ConcatFromSequence`.
    public let axis: Int?
    /// `SplitToSequence`: whether parts of length 1 (no `split` input) keep the split axis.
    public let keepDims: Bool
    /// `ConcatFromSequence`: whether the elements are stacked along a new axis instead of joined.
    public let newAxis: Bool
    /// `SequenceEmpty`'s element type (float unless the `dtype` attribute says otherwise).
    public let elementType: DType
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        keepDims = try reader.int("keepdims", default: 1) != 0
        newAxis = try reader.int("new_axis", default: 0) != 0
        elementType = try reader.int("dtype").flatMap { Int32(exactly: $0).map(DType.init(rawValue:)) } ?? .float
        switch op {
        case "SplitToSequence":
            axis = try reader.int("axis", default: 0)
            let keepdims = try reader.int("keepdims", default: 1)
            guard keepdims == 0 || keepdims == 1 else { throw reader.error("keepdims must be 0 or 1") }
        case "ConcatFromSequence":
            guard let given = try reader.int("axis") else { throw reader.error("ConcatFromSequence needs an axis") }
            axis = given
            let newAxis = try reader.int("new_axis", default: 0)
            guard newAxis == 0 || newAxis == 1 else { throw reader.error("new_axis must be 0 or 1") }
        case "SequenceEmpty":
            axis = nil
            if let code = try reader.int("dtype"), Int32(exactly: code).map({ DType(rawValue: $0).isKnown }) != true {
                throw reader.error("unknown dtype \(code)")
            }
        default:
            axis = nil
        }
        let inputs: ClosedRange<Int> = switch op {
        case "SequenceEmpty": 0...0
        case "SequenceConstruct": 1...Int.max
        case "SequenceInsert": 2...3
        case "SequenceAt": 2...2
        case "SequenceErase", "SplitToSequence": 1...2
        default: 1...1
        }
        try reader.expectInputs(inputs)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        if op == "SplitToSequence", let axis, let rank = inputs[input: 0]?.shape?.rank {
            _ = try reader.axis(axis, rank: rank)
        }
        if op == "SequenceLength" { return [ValueFact(dtype: .int64, shape: Shape([Dim]()))] }
        return [.unknown]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
