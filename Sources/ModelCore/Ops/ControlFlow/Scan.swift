/// `Scan`: runs its body once per slice of the scan inputs along their scan axes.
///
/// Final states keep their initial shapes (the operator requires it). Each
/// scan output inserts the sequence length at its scan output axis into the
/// body's declared per-iteration shape. Opset 8's form has a leading
/// `sequence_lens` input and batched tensors (batch axis 0, scan axis 1).
///
/// Cost: the body's times the sequence length (times the batch in opset 8's
/// form, whose body sees one batch entry at a time) when those are known,
/// else one iteration's work, marked "per iteration".
public struct Scan: RunsSubgraphs {
    let body: Graph
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
    /// Which scan inputs and outputs run from the end (`scan_input_directions`,
    /// `directions` in opset 8, `scan_output_directions`).
    public let reverseInputs: [Bool], reverseOutputs: [Bool]
    let bodyOutputs: [ValueFact]
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        batched = opset < 9
        guard let body = try reader.graph("body") else { throw reader.error("Scan needs a body") }
        self.body = body
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
        var reversed: [[Bool]] = []
        for (name, count) in [(directionsName, m), ("scan_output_directions", scanOutputCount)] {
            let flags = try reader.ints(name) ?? Array(repeating: 0, count: count)
            guard flags.count == count, flags.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw reader.error("\(name) must hold \(count) flags of 0 or 1")
            }
            reversed.append(flags.map { $0 == 1 })
        }
        (reverseInputs, reverseOutputs) = (reversed[0], reversed[1])
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

    /// Each state as the node receives it, then each scan input without its
    /// scan axis (and, in opset 8's form, without its batch axis).
    public func bodies(_ inputs: [ValueFact?]) -> [SubgraphCall] {
        let first = batched ? 1 : 0
        var facts: [ValueFact] = (0..<stateCount).map { i in
            var state = inputs[input: first + i] ?? .unknown
            state.value = nil
            if batched, let dims = state.shape?.dims, !dims.isEmpty { state.shape = Shape(Array(dims.dropFirst())) }
            return state
        }
        for j in 0..<scanInputCount {
            var slice = inputs[input: first + stateCount + j] ?? .unknown
            slice.value = nil
            if var dims = slice.shape?.dims, let axis = try? reader.axis(inputAxes[j], rank: dims.count) {
                dims.remove(at: axis)
                if batched { dims.removeFirst() }
                slice.shape = Shape(dims)
            } else {
                slice.shape = nil
            }
            facts.append(slice)
        }
        return [SubgraphCall(attribute: "body", graph: body, inputs: facts)]
    }

    public func cost(_ inputs: [ValueFact?], bodies: [OpCost]) -> SubgraphCost? {
        let first = batched ? 1 : 0
        guard let scanned = inputs[input: first + stateCount]?.shape,
              let axis = try? reader.axis(inputAxes[0], rank: scanned.rank), let length = scanned.dims[axis].value,
              let runs = batched ? scanned.dims[0].value.flatMap({ Count.product($0, length) }) : length else {
            return SubgraphCost(bodies[0], estimate: "per iteration: the sequence length is not known")
        }
        return bodies[0].repeated(runs).map { SubgraphCost($0) }
    }
}
