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
    /// The body's declared outputs: condition, carried values, scan outputs.
    public let declaredBodyOutputs: [ValueInfo]
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
        declaredBodyOutputs = body.outputs
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
