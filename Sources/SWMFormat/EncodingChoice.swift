import ModelCore

/// The stored encoding picked for one tensor of a conversion.
struct EncodingChoice: Equatable {
    var encoding: StoredEncoding
    /// The int8 scales' channel axis.
    var axis: Int

    static let raw = EncodingChoice(encoding: .raw, axis: 0)

    /// One choice per tensor of the tensor table; `valueNames` says which
    /// main-graph value each tensor is (`ModelEncoder.valueNames`).
    static func choose(for tensors: [Tensor], valueNames: [String?], graph: Graph, weights: WeightEncoding) -> [EncodingChoice] {
        switch weights {
        case .f32:
            return tensors.map { _ in .raw }
        case .f16, .bf16:
            // Rank ≥ 2 is a weight matrix or kernel; biases, scalars and
            // epsilons are tiny and keep full precision (an epsilon of 1e-12
            // would become 0 in half precision).
            let encoding: StoredEncoding = weights == .f16 ? .float16 : .bfloat16
            return tensors.map { $0.dtype == .float && $0.dims.count >= 2 ? EncodingChoice(encoding: encoding, axis: 0) : .raw }
        case .int8:
            let axes = int8Axes(in: graph)
            return zip(tensors, valueNames).map { tensor, name in
                guard let name, tensor.dtype == .float, tensor.dims.count >= 2, let axis = axes[name] ?? nil else { return .raw }
                return EncodingChoice(encoding: .int8, axis: axis)
            }
        }
    }

    /// For each stored main-graph value (an initializer, or the output of a
    /// `Constant` node, where some exporters keep their weights) used as a
    /// Conv, Gemm or MatMul weight, the axis of its output channels; `nil`
    /// when its uses disagree or it is also used elsewhere (then it stays float32).
    static func int8Axes(in graph: Graph) -> [String: Int?] {
        var ranks: [String: Int] = [:]
        for tensor in graph.initializers { ranks[tensor.name] = tensor.dims.count }
        for node in graph.nodes where node.opType == "Constant" && node.domain.isEmpty {
            if let output = node.outputs.first, case .tensor(let value)? = node.attribute("value")?.value {
                ranks[output] = value.dims.count
            }
        }
        var axes: [String: Int?] = [:]
        func use(_ name: String, axis: Int?) {
            if let existing = axes[name], existing != axis { axes[name] = .some(nil) } else { axes[name] = .some(axis) }
        }
        for node in graph.nodes where node.domain.isEmpty {
            for (slot, name) in node.inputs.enumerated() where ranks[name] != nil {
                switch (node.opType, slot) {
                case ("Conv", 1):
                    use(name, axis: 0)                           // [M, C/group, kH, kW]: M outputs
                case ("Gemm", 1):
                    var transposed = false
                    if case .int(let v)? = node.attribute("transB")?.value { transposed = v != 0 }
                    use(name, axis: transposed ? 0 : 1)     // B is [K, N], or [N, K] when transposed
                case ("MatMul", 1):
                    use(name, axis: ranks[name] == 2 ? 1 : nil)  // [K, N]; a batched weight stays float32
                default:
                    use(name, axis: nil)
                }
            }
        }
        // A subgraph reading one of these names as anything but a weight keeps it float32.
        func scan(_ subgraph: Graph) {
            for node in subgraph.nodes {
                for name in node.inputs where ranks[name] != nil { use(name, axis: nil) }
                node.subgraphs.forEach(scan)
            }
        }
        graph.nodes.flatMap(\.subgraphs).forEach(scan)
        return axes
    }
}
