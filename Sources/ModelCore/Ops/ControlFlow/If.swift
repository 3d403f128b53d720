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
