/// The training optimisers of `ai.onnx.preview.training`: `Momentum`, `Adam`
/// and `Adagrad`, updating n tensors at once.
///
/// Inputs are R, T, then n tensors X, their gradients and their state;
/// outputs are the new X and new states, shaped like them. Per element of X:
/// Momentum 7 FLOPs (Nesterov 9), Adam 15, Adagrad 9.
public struct Optimizer: OpSchema {
    /// The optimiser this node runs.
    public let op: String
    /// Tensors optimised (n).
    public let count: Int
    /// For each group of n outputs, the group of n inputs (after R and T) it is shaped like.
    let outputGroups: [Int]
    let flopsPerElement: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        let inputGroups: Int
        switch op {
        case "Momentum":
            let mode = try reader.string("mode", default: "")
            guard mode == "standard" || mode == "nesterov" else { throw reader.error("mode must be standard or nesterov, got '\(mode)'") }
            inputGroups = 3
            outputGroups = [0, 2]
            flopsPerElement = mode == "nesterov" ? 9 : 7
        case "Adam":
            inputGroups = 4
            outputGroups = [0, 2, 3]
            flopsPerElement = 15
        default:
            inputGroups = 3
            outputGroups = [0, 2]
            flopsPerElement = 9
        }
        let tensors = node.inputs.count - 2
        guard tensors > 0, tensors % inputGroups == 0 else {
            throw reader.error("\(op) takes R, T and \(inputGroups) tensors per optimised tensor, this node has \(node.inputs.count) inputs")
        }
        count = tensors / inputGroups
        guard node.outputs.count <= outputGroups.count * count else {
            throw reader.error("\(op) of \(count) tensors has at most \(outputGroups.count * count) outputs")
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        outputGroups.flatMap { group in
            (0..<count).map { j -> ValueFact in
                var fact = inputs[input: 2 + group * count + j] ?? .unknown
                fact.value = nil
                return fact
            }
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        let sizes = (0..<count).map { inputs[input: 2 + $0]?.elementCount }
        guard let elements = SequenceModels.total(sizes) else { return nil }
        return .elementwise(elements, perElement: flopsPerElement)
    }

    /// The optimised tensors are the parameters; rates, counts, gradients and states are not.
    public func holdsParameters(input index: Int) -> Bool { index >= 2 && index < 2 + count }
}
