/// `If`: runs one of two branches; its outputs are the branch's outputs.
///
/// When the condition is a known constant the taken branch's declared
/// outputs are the result; otherwise the two branches' are merged (equal
/// dims stay, differing become unknown).
///
/// Cost: the taken branch's when the condition is known; otherwise the
/// larger branch's (by FLOPs), marked as an estimate.
public struct If: RunsSubgraphs {
    let thenBranch: Graph
    let elseBranch: Graph
    let thenOutputs: [ValueFact]
    let elseOutputs: [ValueFact]
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let thenBranch = try reader.graph("then_branch"), let elseBranch = try reader.graph("else_branch") else {
            throw reader.error("If needs then_branch and else_branch")
        }
        (self.thenBranch, self.elseBranch) = (thenBranch, elseBranch)
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

    /// The branch a known condition selects, or `nil` when the condition is not known.
    private func taken(_ inputs: [ValueFact?]) -> Bool? {
        guard let value = inputs[input: 0]?.value, value.count == 1 else { return nil }
        switch value.elements {
        case .integers(let v): return v[0].value.map { $0 != 0 }
        case .reals(let v): return v[0].isNaN ? nil : v[0] != 0
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        if let count = inputs[input: 0]?.elementCount, count != 1 {
            throw reader.error("the condition must hold one element, it has \(count)")
        }
        let taken = taken(inputs)
        return (0..<outputCount).map { i in
            switch taken {
            case true?: thenOutputs[i]
            case false?: elseOutputs[i]
            case nil: ControlFlow.either(thenOutputs[i], elseOutputs[i])
            }
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }

    public func bodies(_ inputs: [ValueFact?]) -> [SubgraphCall] {
        [SubgraphCall(attribute: "then_branch", graph: thenBranch, inputs: []),
         SubgraphCall(attribute: "else_branch", graph: elseBranch, inputs: [])]
    }

    public func cost(_ inputs: [ValueFact?], bodies: [OpCost]) -> SubgraphCost? {
        let (then, otherwise) = (bodies[0], bodies[1])
        switch taken(inputs) {
        case true?: return SubgraphCost(then)
        case false?: return SubgraphCost(otherwise)
        case nil:
            let thenIsLarger = (then.flops, then.macs) >= (otherwise.flops, otherwise.macs)
            return SubgraphCost(thenIsLarger ? then : otherwise,
                                estimate: "the larger branch (\(thenIsLarger ? "then_branch" : "else_branch")); the condition is not known")
        }
    }
}
