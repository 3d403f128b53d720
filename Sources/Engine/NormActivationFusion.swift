import ModelCore

/// A BatchNormalization in inference form (its parameters stored float32
/// tensors, as ConvFusion folds) whose output only a Relu or a Clip reads,
/// where no Conv comes before it to fold into: DenseNet's and
/// pre-activation ResNets' BatchNorm → Relu ahead of each convolution. The
/// pair runs as one pass over the activation, at the BatchNorm.
struct NormActivationFusion: Sendable {
    /// The Relu or Clip as a clamp.
    let bounds: (low: Float, high: Float)
    /// The activation node, run inside the BatchNorm's step.
    let absorbed: Int
    /// The activation's output: the value the step produces.
    let output: String

    /// The fusions of `graph`, by the index of their BatchNormalization; nodes in `excluded` are left alone.
    static func find(in graph: Graph, opsets: [String: Int], excluding excluded: Set<Int>) -> [Int: NormActivationFusion] {
        let readers = SoleReaders(graph), known = GraphConstants(graph)
        func soleConsumer(of value: String, op: String) -> Int? { readers.of(value, op: op, excluding: excluded) }
        var fusions: [Int: NormActivationFusion] = [:]
        for (index, node) in graph.nodes.enumerated()
        where node.opType == "BatchNormalization" && node.domain.isEmpty && !excluded.contains(index) {
            guard node.inputs.count == 5, let y = node.outputs.first, !y.isEmpty, node.outputs.dropFirst().allSatisfy(\.isEmpty),
                  let schema = try? BatchNormalization(node: node, opset: opsets[""] ?? 1), !schema.trainingMode,
                  node.inputs.dropFirst().allSatisfy({ known.storedFloat($0) != nil }),
                  let found = ConvFusion.activation(after: y, in: graph, opsets: opsets, known: known, soleConsumer: soleConsumer),
                  let bounds = found.activation.bounds
            else { continue }
            fusions[index] = NormActivationFusion(bounds: bounds, absorbed: found.node, output: found.output)
        }
        return fusions
    }
}
