import ModelCore

/// A Conv followed by any of BatchNormalization, a residual Add and Relu,
/// Clip or SiLU, in that order, that run as one kernel: the BatchNorm folds
/// into the convolution's weights and bias when the plan is built, the Add
/// and a Relu or Clip into the GEMM's epilogue, and a SiLU runs over each
/// piece of the output as soon as it is computed, while it is in cache; so
/// their passes over the activation disappear. (A ResNet block ends Conv →
/// BatchNorm → Add → Relu; MobileNetV2's layers Conv → BatchNorm → Clip(0, 6);
/// EfficientNet's Conv → BatchNorm → x·Sigmoid(x).)
struct ConvFusion: Sendable {
    /// Per-channel BatchNorm parameters and epsilon, when one is folded.
    struct BatchNorm: Sendable {
        let scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor
        let epsilon: Float
    }

    /// The activation applied last.
    enum Activation: Sendable, Equatable {
        case relu
        /// min(max(x, low), high), with constant bounds.
        case clip(low: Float, high: Float)
        /// x·sigmoid(x), as exporters write it: Sigmoid(x) and Mul(x, Sigmoid(x)).
        case silu
    }

    let batchNorm: BatchNorm?
    /// The Add's other operand, when an Add is fused: the kernel reads it as input 3.
    let residual: String?
    let activation: Activation?
    /// The value the fused kernel produces: the last fused node's output.
    let output: String
    /// Indices of the nodes folded into the Conv, in graph order.
    let absorbed: [Int]

    /// Where the fused kernel runs: at its last node, since the Add's other
    /// operand may be computed after the Conv (a projection shortcut is).
    func position(conv: Int) -> Int { absorbed.last ?? conv }

    /// The fusions of `graph`, by the index of their Conv node. A node is
    /// fused only when its input is read by nothing else and is not a graph
    /// output, and the weights and BatchNorm parameters are stored float32
    /// tensors, as are Clip's bounds (or Constant outputs). The Add may
    /// broadcast; the kernel checks shapes when it runs.
    static func find(in graph: Graph, opsets: [String: Int]) -> [Int: ConvFusion] {
        let readers = SoleReaders(graph)
        var claimed = Set<Int>()
        /// The node of type `op`, not yet fused into another Conv, that alone reads `value`.
        /// (Both branches of a residual block end at the same Add.)
        func soleConsumer(of value: String, op: String) -> Int? {
            readers.of(value, op: op, excluding: claimed)
        }
        let known = GraphConstants(graph)
        var fusions: [Int: ConvFusion] = [:]
        for (index, node) in graph.nodes.enumerated() where node.opType == "Conv" && node.domain.isEmpty {
            guard node.inputs.count >= 2, known.storedFloat(node.inputs[1]) != nil, node.inputs.count < 3 || node.inputs[2].isEmpty || known.storedFloat(node.inputs[2]) != nil,
                  var last = node.outputs.first else { continue }
            var absorbed: [Int] = []
            var batchNorm: BatchNorm?
            if let j = soleConsumer(of: last, op: "BatchNormalization") {
                let bn = graph.nodes[j]
                if bn.inputs.count == 5, bn.inputs[0] == last, bn.outputs.filter({ !$0.isEmpty }).count == 1,
                   let schema = try? BatchNormalization(node: bn, opset: opsets[""] ?? 1), !schema.trainingMode,
                   let scale = known.storedFloat(bn.inputs[1]), let bias = known.storedFloat(bn.inputs[2]),
                   let mean = known.storedFloat(bn.inputs[3]), let variance = known.storedFloat(bn.inputs[4]) {
                    batchNorm = BatchNorm(scale: scale, bias: bias, mean: mean, variance: variance, epsilon: schema.epsilon)
                    absorbed.append(j)
                    last = bn.outputs[0]
                }
            }
            var residual: String?
            if let j = soleConsumer(of: last, op: "Add") {
                // Add(x, x) doubles x: not a residual.
                let add = graph.nodes[j], others = add.inputs.filter { $0 != last }
                if add.inputs.count == 2, others.count == 1, !others[0].isEmpty, let sum = add.outputs.first, !sum.isEmpty {
                    residual = others[0]
                    absorbed.append(j)
                    last = sum
                }
            }
            var activation: Activation?
            if let found = Self.activation(after: last, in: graph, opsets: opsets, known: known, soleConsumer: soleConsumer) {
                activation = found.activation
                absorbed.append(found.node)
                last = found.output
            } else if let pair = readers.silu(of: last, excluding: claimed) {
                activation = .silu
                absorbed += [pair.sigmoid, pair.mul]
                last = graph.nodes[pair.mul].outputs[0]
            }
            if !absorbed.isEmpty {
                claimed.formUnion(absorbed)
                fusions[index] = ConvFusion(batchNorm: batchNorm, residual: residual, activation: activation,
                                            output: last, absorbed: absorbed)
            }
        }
        return fusions
    }

    /// The Relu, or Clip with constant bounds, that `soleConsumer` finds
    /// alone reading `value`: the activation a fused step applies last.
    static func activation(after value: String, in graph: Graph, opsets: [String: Int], known: GraphConstants,
                           soleConsumer: (String, String) -> Int?) -> (activation: Activation, node: Int, output: String)? {
        if let k = soleConsumer(value, "Relu"), let output = graph.nodes[k].outputs.first {
            return (.relu, k, output)
        }
        guard let k = soleConsumer(value, "Clip"), graph.nodes[k].inputs.first == value, let output = graph.nodes[k].outputs.first,
              let bounds = clipBounds(graph.nodes[k], opsets: opsets, known: known) else { return nil }
        return (.clip(low: bounds.low, high: bounds.high), k, output)
    }

    /// Clip's bounds: constant inputs (opset 11 on; an omitted one is no
    /// bound), or the attributes of earlier opsets.
    private static func clipBounds(_ clip: Node, opsets: [String: Int], known: GraphConstants) -> (low: Float, high: Float)? {
        if clip.inputs.count > 1 {
            var bounds: [Float] = [-.infinity, .infinity]
            for (i, name) in clip.inputs.dropFirst().prefix(2).enumerated() where !name.isEmpty {
                guard let value = known.scalar(name) else { return nil }
                bounds[i] = value
            }
            return (bounds[0], bounds[1])
        }
        guard clip.attribute("min") != nil || clip.attribute("max") != nil,
              let bounds = (try? Unary(node: clip, opset: opsets[""] ?? 1))?.clipBounds else { return nil }
        return (bounds.min, bounds.max)
    }
}

/// The node that alone reads a value, as a fusion absorbs it.
struct SoleReaders {
    let graph: Graph
    let topology: GraphTopology
    let outputs: Set<String>

    init(_ graph: Graph) {
        self.graph = graph
        topology = graph.topology()
        outputs = Set(graph.outputs.map(\.name))
    }

    /// The Sigmoid(value) and Mul(value, Sigmoid(value)) that alone read
    /// `value`, the Sigmoid's output read only by the Mul: a SiLU. Neither
    /// `value` nor the Sigmoid's output may be a graph output, and neither
    /// node may be in `excluded`.
    func silu(of value: String, excluding excluded: Set<Int>) -> (sigmoid: Int, mul: Int)? {
        guard !outputs.contains(value), let readers = topology.consumers[value], readers.count == 2,
              let sigmoid = readers.first(where: { graph.nodes[$0].opType == "Sigmoid" }),
              graph.nodes[sigmoid].inputs == [value], let s = graph.nodes[sigmoid].outputs.first, !s.isEmpty,
              let mul = of(s, op: "Mul", excluding: excluded), readers.contains(mul), !excluded.contains(sigmoid),
              graph.nodes[sigmoid].domain.isEmpty, Set(graph.nodes[mul].inputs) == [value, s], graph.nodes[mul].inputs.count == 2,
              let product = graph.nodes[mul].outputs.first, !product.isEmpty else { return nil }
        return (sigmoid, mul)
    }

    /// The default-domain node of type `op` that alone reads `value`, unless
    /// `value` is a graph output or the node is in `excluded`.
    func of(_ value: String, op: String, excluding excluded: Set<Int>) -> Int? {
        guard !outputs.contains(value), let readers = topology.consumers[value], readers.count == 1,
              !excluded.contains(readers[0]) else { return nil }
        let node = graph.nodes[readers[0]]
        guard node.opType == op, node.domain.isEmpty, node.inputs.contains(value) else { return nil }
        return readers[0]
    }
}

extension ConvFusion.Activation {
    /// The activation as a clamp, min(max(x, low), high): Relu is (0, ∞);
    /// nil for SiLU, which is not one.
    var bounds: (low: Float, high: Float)? {
        switch self {
        case .relu: (0, .infinity)
        case .clip(let low, let high): (low, high)
        case .silu: nil
        }
    }
}
