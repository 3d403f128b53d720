/// `Loop`: runs its body up to a trip count M while a condition holds.
///
/// Final loop-carried values are the initial value merged with the body's
/// declared output (no iteration leaves the initial value). Scan outputs
/// stack the body's per-iteration output: the leading dim is M when M is
/// known and no condition input can end the loop early, else unknown.
///
/// Cost: the body's times the trip count M when M is known and no condition
/// input can end the loop early; with a condition input, M iterations as an
/// upper bound (an estimate); without a known M, one iteration's work,
/// marked "per iteration".
public struct Loop: RunsSubgraphs {
    let body: Graph
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
        self.body = body
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

    /// The trip count input's value when it is known: a count below zero runs no iteration.
    private func maximumTrips(_ inputs: [ValueFact?]) -> Dim {
        guard let m = inputs[input: 0]?.value, m.count == 1 else { return .unknown }
        return m.integers[0].value.map { .known(max(0, $0)) } ?? m.integers[0]
    }

    /// Loop-carried value `i` as any iteration may see it: the initial value
    /// merged with the body's declared output.
    private func carriedValue(_ i: Int, _ inputs: [ValueFact?]) -> ValueFact {
        var initial = inputs[input: 2 + i] ?? .unknown
        initial.value = nil
        return ControlFlow.either(initial, bodyOutputs[i])
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        // An absent condition input means the body's condition output is ignored.
        let tripCount = inputs[input: 1] == nil ? maximumTrips(inputs) : .unknown
        return (0..<outputCount).map { i in
            if i < carried {
                return carriedValue(i, inputs)
            }
            let element = bodyOutputs[i]
            return ValueFact(dtype: element.dtype, shape: element.shape.map { Shape([tripCount] + $0.dims) })
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }

    public func bodies(_ inputs: [ValueFact?]) -> [SubgraphCall] {
        let iteration = ValueFact(dtype: .int64, shape: Shape([Int]()))
        let condition = ValueFact(dtype: .bool, shape: Shape([Int]()))
        return [SubgraphCall(attribute: "body", graph: body,
                             inputs: [iteration, condition] + (0..<carried).map { carriedValue($0, inputs) })]
    }

    public func cost(_ inputs: [ValueFact?], bodies: [OpCost]) -> SubgraphCost? {
        guard let trips = maximumTrips(inputs).value else {
            return SubgraphCost(bodies[0], estimate: "per iteration: the trip count is not known")
        }
        guard let total = bodies[0].repeated(trips) else { return nil }
        return inputs[input: 1] == nil ? SubgraphCost(total)
            : SubgraphCost(total, estimate: "at most \(trips) iterations: the condition can end the loop early")
    }
}
