/// Control flow (`If`, `Loop`, `Scan`, `SequenceMap`) and the operators on sequence and optional values.
///
/// Analysis tracks tensors only: a sequence or optional value gets a fact
/// with neither element type nor shape. Subgraphs are not analysed; what the
/// node's outputs look like comes from the types the subgraphs declare for
/// their outputs. Counting rule (docs/COUNTING.md): a node that runs a
/// subgraph is left uncounted (`cost` is `nil`), so that it is listed rather
/// than counted as zero, because how often a body runs and what its nodes
/// cost is not analysed; the sequence and optional operators only move or
/// wrap values and count zero.
public enum ControlFlow {
    static let registrations: [String: any OpSchema.Type] = [
        "If": If.self, "Loop": Loop.self, "Scan": Scan.self, "SequenceMap": SequenceMap.self,
        "SequenceEmpty": SequenceOperator.self, "SequenceConstruct": SequenceOperator.self,
        "SequenceInsert": SequenceOperator.self, "SequenceErase": SequenceOperator.self,
        "SequenceAt": SequenceOperator.self, "SequenceLength": SequenceOperator.self,
        "SplitToSequence": SequenceOperator.self, "ConcatFromSequence": SequenceOperator.self,
        "Optional": OptionalOperator.self, "OptionalHasElement": OptionalOperator.self,
        "OptionalGetElement": OptionalOperator.self,
    ]

    /// What a subgraph's declared output type says; nothing for a sequence, optional or undeclared value.
    static func declared(_ info: ValueInfo) -> ValueFact {
        guard case .tensor(let dtype, let shape)? = info.type else { return .unknown }
        return ValueFact(dtype: dtype == .undefined ? nil : dtype, shape: shape)
    }

    /// A value that is one of two facts: equal dims stay, differing dims
    /// become unknown, and differing ranks leave the rank unknown.
    static func either(_ a: ValueFact, _ b: ValueFact) -> ValueFact {
        let dtype = a.dtype == b.dtype || b.dtype == nil ? a.dtype : (a.dtype == nil ? b.dtype : nil)
        guard let x = a.shape, let y = b.shape, x.rank == y.rank else { return ValueFact(dtype: dtype, shape: nil) }
        return ValueFact(dtype: dtype, shape: Shape(zip(x.dims, y.dims).map { $0 == $1 ? $0 : .unknown }))
    }
}

/// `If`: runs one of two branches; its outputs are the branch's outputs.
///
/// When the condition is a known constant the taken branch's declared
/// outputs are the result; otherwise the two branches' are merged (equal
/// dims stay, differing become unknown). Uncounted: branches are not analysed.
public struct If: OpSchema {
    let thenOutputs: [ValueFact]
    let elseOutputs: [ValueFact]
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let thenBranch = try reader.graph("then_branch"), let elseBranch = try reader.graph("else_branch") else {
            throw reader.error("If needs then_branch and else_branch")
        }
        guard thenBranch.outputs.count == elseBranch.outputs.count else {
            throw reader.error("then_branch has \(thenBranch.outputs.count) outputs, else_branch \(elseBranch.outputs.count)")
        }
        outputCount = node.outputs.count
        guard outputCount <= thenBranch.outputs.count else {
            throw reader.error("the node has \(outputCount) outputs, its branches \(thenBranch.outputs.count)")
        }
        thenOutputs = thenBranch.outputs.map(ControlFlow.declared)
        elseOutputs = elseBranch.outputs.map(ControlFlow.declared)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let condition = inputs[input: 0]
        if let count = condition?.elementCount, count != 1 {
            throw reader.error("the condition must hold one element, it has \(count)")
        }
        var taken: Bool?
        if let value = condition?.value, value.count == 1 {
            switch value.elements {
            case .integers(let v): taken = v[0].value.map { $0 != 0 }
            case .reals(let v): taken = v[0].isNaN ? nil : v[0] != 0
            }
        }
        return (0..<outputCount).map { i in
            switch taken {
            case true?: thenOutputs[i]
            case false?: elseOutputs[i]
            case nil: ControlFlow.either(thenOutputs[i], elseOutputs[i])
            }
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}

/// `Loop`: runs its body up to a trip count M while a condition holds.
///
/// Final loop-carried values are the initial value merged with the body's
/// declared output (no iteration leaves the initial value). Scan outputs
/// stack the body's per-iteration output: the leading dim is M when M is
/// known and no condition input can end the loop early, else unknown.
/// Uncounted: the body is not analysed and the trip count is data-dependent.
public struct Loop: OpSchema {
    /// Loop-carried values (N).
    let carried: Int
    /// The body's outputs after the condition: N carried values, then the scan outputs.
    let bodyOutputs: [ValueFact]
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let body = try reader.graph("body") else { throw reader.error("Loop needs a body") }
        carried = max(0, node.inputs.count - 2)
        guard body.inputs.count == carried + 2 else {
            throw reader.error("the body takes \(body.inputs.count) inputs, the node passes \(carried) loop-carried values plus 2")
        }
        guard body.outputs.count >= carried + 1 else {
            throw reader.error("the body has \(body.outputs.count) outputs, fewer than the condition and \(carried) loop-carried values")
        }
        bodyOutputs = body.outputs.dropFirst().map(ControlFlow.declared)
        outputCount = node.outputs.count
        guard outputCount <= bodyOutputs.count else {
            throw reader.error("the node has \(outputCount) outputs, its body \(bodyOutputs.count) after the condition")
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var tripCount = Dim.unknown
        // An absent condition input means the body's condition output is ignored.
        if inputs[input: 1] == nil, let m = inputs[input: 0]?.value, m.count == 1 {
            // A trip count below zero runs no iteration.
            tripCount = m.integers[0].value.map { .known(max(0, $0)) } ?? m.integers[0]
        }
        return (0..<outputCount).map { i in
            if i < carried {
                var initial = inputs[input: 2 + i] ?? .unknown
                initial.value = nil
                return ControlFlow.either(initial, bodyOutputs[i])
            }
            let element = bodyOutputs[i]
            return ValueFact(dtype: element.dtype, shape: element.shape.map { Shape([tripCount] + $0.dims) })
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}

/// `Scan`: runs its body once per slice of the scan inputs along their scan axes.
///
/// Final states keep their initial shapes (the operator requires it). Each
/// scan output inserts the sequence length at its scan output axis into the
/// body's declared per-iteration shape. Opset 8's form has a leading
/// `sequence_lens` input and batched tensors (batch axis 0, scan axis 1).
/// Uncounted: the body is not analysed.
public struct Scan: OpSchema {
    /// Opset 8: batched inputs and a `sequence_lens` input first.
    public let batched: Bool
    /// Loop state variables (N).
    public let stateCount: Int
    /// Scan inputs (M, `num_scan_inputs`).
    public let scanInputCount: Int
    /// The axis each scan input is sliced along, as written.
    public let inputAxes: [Int]
    /// The axis each scan output stacks along, as written.
    public let outputAxes: [Int]
    /// The body's outputs: the states, then the per-iteration scan output elements.
    let bodyOutputs: [ValueFact]
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        batched = opset < 9
        guard let body = try reader.graph("body") else { throw reader.error("Scan needs a body") }
        guard let m = try reader.int("num_scan_inputs"), m > 0 else { throw reader.error("num_scan_inputs must be positive") }
        scanInputCount = m
        let tensors = node.inputs.count - (batched ? 1 : 0)
        stateCount = tensors - m
        guard stateCount >= 0 else { throw reader.error("num_scan_inputs is \(m) but the node has \(tensors) state and scan inputs") }
        guard body.inputs.count == tensors else {
            throw reader.error("the body takes \(body.inputs.count) inputs, the node passes \(tensors)")
        }
        guard body.outputs.count >= stateCount else {
            throw reader.error("the body has \(body.outputs.count) outputs, fewer than its \(stateCount) states")
        }
        let scanOutputCount = body.outputs.count - stateCount
        let directionsName = batched ? "directions" : "scan_input_directions"
        for (name, count) in [(directionsName, m), ("scan_output_directions", scanOutputCount)] {
            guard let flags = try reader.ints(name) else { continue }
            guard flags.count == count, flags.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw reader.error("\(name) must hold \(count) flags of 0 or 1")
            }
        }
        inputAxes = batched ? Array(repeating: 1, count: m) : try reader.ints("scan_input_axes") ?? Array(repeating: 0, count: m)
        outputAxes = batched ? Array(repeating: 1, count: scanOutputCount)
            : try reader.ints("scan_output_axes") ?? Array(repeating: 0, count: scanOutputCount)
        guard inputAxes.count == m, outputAxes.count == scanOutputCount else {
            throw reader.error("scan_input_axes needs \(m) axes and scan_output_axes \(scanOutputCount)")
        }
        bodyOutputs = body.outputs.map(ControlFlow.declared)
        outputCount = node.outputs.count
        guard outputCount <= body.outputs.count else {
            throw reader.error("the node has \(outputCount) outputs, its body \(body.outputs.count)")
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let first = batched ? 1 : 0
        var length = Dim.unknown, batch = Dim.unknown
        for j in 0..<scanInputCount {
            guard let shape = inputs[input: first + stateCount + j]?.shape else { continue }
            guard shape.rank >= 1 + first else { throw reader.error("scan input \(j) has rank \(shape.rank), too low to scan") }
            let axis = try reader.axis(inputAxes[j], rank: shape.rank)
            length = try SequenceModels.same(length, shape.dims[axis], "sequence length", reader)
            if batched { batch = try SequenceModels.same(batch, shape.dims[0], "batch size", reader) }
        }
        var outputs: [ValueFact] = []
        for i in 0..<outputCount {
            if i < stateCount {
                var state = inputs[input: first + i] ?? .unknown
                state.value = nil
                // A state must keep its shape, so the body's declaration only fills gaps.
                if state.shape == nil { state.shape = batched ? nil : bodyOutputs[i].shape }
                if state.dtype == nil { state.dtype = bodyOutputs[i].dtype }
                outputs.append(state)
                continue
            }
            let element = bodyOutputs[i]
            guard let dims = element.shape?.dims else { outputs.append(ValueFact(dtype: element.dtype, shape: nil)); continue }
            if batched {
                outputs.append(ValueFact(dtype: element.dtype, shape: Shape([batch, length] + dims)))
                continue
            }
            let axis = try reader.axis(outputAxes[i - stateCount], rank: dims.count + 1)
            var stacked = dims
            stacked.insert(length, at: axis)
            outputs.append(ValueFact(dtype: element.dtype, shape: Shape(stacked)))
        }
        return outputs
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}

/// `SequenceMap`: applies its body to each element of the input sequences; the outputs are sequences.
///
/// Uncounted: the body is not analysed.
public struct SequenceMap: OpSchema {
    let outputCount: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        guard let body = try reader.graph("body") else { throw reader.error("SequenceMap needs a body") }
        guard body.inputs.count == node.inputs.count, body.outputs.count == node.outputs.count else {
            throw reader.error("the body's \(body.inputs.count) inputs and \(body.outputs.count) outputs "
                + "must match the node's \(node.inputs.count) and \(node.outputs.count)")
        }
        outputCount = node.outputs.count
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
    /// `SplitToSequence`'s axis, checked against the input's rank.
    let axis: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        switch op {
        case "SplitToSequence":
            axis = try reader.int("axis", default: 0)
            let keepdims = try reader.int("keepdims", default: 1)
            guard keepdims == 0 || keepdims == 1 else { throw reader.error("keepdims must be 0 or 1") }
        case "ConcatFromSequence":
            axis = nil
            guard try reader.int("axis") != nil else { throw reader.error("ConcatFromSequence needs an axis") }
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
        if let axis, let rank = inputs[input: 0]?.shape?.rank {
            _ = try reader.axis(axis, rank: rank)
        }
        if op == "SequenceLength" { return [ValueFact(dtype: .int64, shape: Shape([Dim]()))] }
        return [.unknown]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `Optional`, `OptionalHasElement` and `OptionalGetElement`: wrapping a value that may be absent.
///
/// An optional value is not tracked. `OptionalHasElement` is known false for
/// an omitted input and true for a tensor; `OptionalGetElement` passes a
/// tensor through. Zero FLOPs.
public struct OptionalOperator: OpSchema {
    /// The operator this node is.
    public let op: String

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        if op == "Optional", let type = node.attribute("type") {
            guard case .type = type.value else { throw reader.error("attribute 'type' should be a type") }
        }
        try reader.expectInputs(op == "OptionalGetElement" ? 1...1 : 0...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let input = inputs[input: 0]
        // Containers never get an element type or shape, so a fact with either is a tensor.
        let isTensor = input.map { $0.dtype != nil || $0.shape != nil } ?? false
        switch op {
        case "OptionalHasElement":
            var fact = ValueFact(dtype: .bool, shape: Shape([Dim]()))
            if input == nil || isTensor { fact.value = KnownValue(scalar: .known(isTensor ? 1 : 0)) }
            return [fact]
        case "OptionalGetElement":
            return [isTensor ? input ?? .unknown : .unknown]
        default:
            return [.unknown]
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
