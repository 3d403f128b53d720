import ModelCore

/// Whether a node's work could be counted.
public enum NodeStatus: Sendable, Equatable {
    /// Shapes known, cost counted.
    case counted
    /// The project has no schema for this operator: listed, not counted.
    case unknownOperator
    /// A known operator whose input shapes are not known well enough to count.
    case uncounted
    /// The node's attributes or input shapes break the operator's rules.
    case invalid(String)
}

/// Analysis of one node: output facts, parameters and cost.
public struct NodeReport: Sendable {
    public let index: Int
    public let node: Node
    public let status: NodeStatus
    /// `nil` unless `status == .counted`.
    public let cost: OpCost?
    public let inputs: [ValueFact?]
    /// One per node output; `nil` for an omitted optional output.
    public let outputs: [ValueFact?]
    /// Stored tensors this node uses as learned parameters.
    public let parameters: [ParameterUse]

    /// `Conv`, or `com.microsoft.Gelu` outside the default domain.
    public var op: String { OpRegistry.key(domain: node.domain, opType: node.opType) }

    public var name: String { node.name.isEmpty ? "#\(index)" : node.name }

    public var macs: Int { cost?.macs ?? 0 }
    public var flops: Int { cost?.flops ?? 0 }
    /// Parameter elements this node uses (a tensor shared by two nodes counts for each).
    public var params: Int { parameters.reduce(0) { $0 + $1.elements } }
    public var weightBytes: Int { parameters.reduce(0) { $0 + $1.bytes } }

    /// Bytes of the outputs, when their shapes are known.
    public var activationBytes: Int { outputs.reduce(0) { $0 + ($1?.byteCount ?? 0) } }
    /// Bytes read from all inputs (weights included) and written to all outputs.
    public var bytesRead: Int { inputs.reduce(0) { $0 + ($1?.byteCount ?? 0) } }
    public var bytesWritten: Int { activationBytes }

    /// FLOPs per byte of memory traffic, when both are known.
    public var arithmeticIntensity: Double? {
        let traffic = bytesRead + bytesWritten
        guard cost != nil, traffic > 0 else { return nil }
        return Double(flops) / Double(traffic)
    }

    /// Height × width of the first output, for 4-D (NCHW) outputs.
    public var resolution: (height: Int, width: Int)? {
        guard let dims = outputs.first??.shape?.dims, dims.count == 4,
              let h = dims[2].value, let w = dims[3].value else { return nil }
        return (h, w)
    }
}

/// Totals over a graph.
public struct AnalysisTotals: Sendable, Equatable, Codable {
    /// Parameters per consuming layer: what summing a framework's `numel()` over its layers gives.
    public var params: Int
    /// Distinct stored parameter tensors, each counted once.
    public var paramsUnique: Int
    public var macs: Int
    public var flops: Int
    /// Bytes of parameters per consuming layer.
    public var weightBytes: Int
    /// Bytes of every node output.
    public var activationBytes: Int
    public var bytesRead: Int
    public var bytesWritten: Int
    public var nodes: Int
    /// Nodes whose work is in `macs`/`flops`.
    public var countedNodes: Int
}

/// The analysis of a model: one report per node of the main graph, in topological order.
public struct ModelAnalysis: Sendable {
    public let nodes: [NodeReport]
    /// Facts about every value of the main graph.
    public let facts: [String: ValueFact]

    public var totals: AnalysisTotals {
        var unique: [String: Int] = [:]
        for node in nodes { for use in node.parameters { unique[use.source] = use.elements } }
        return AnalysisTotals(
            params: nodes.reduce(0) { $0 + $1.params },
            paramsUnique: unique.values.reduce(0, +),
            macs: nodes.reduce(0) { $0 + $1.macs },
            flops: nodes.reduce(0) { $0 + $1.flops },
            weightBytes: nodes.reduce(0) { $0 + $1.weightBytes },
            activationBytes: nodes.reduce(0) { $0 + $1.activationBytes },
            bytesRead: nodes.reduce(0) { $0 + $1.bytesRead },
            bytesWritten: nodes.reduce(0) { $0 + $1.bytesWritten },
            nodes: nodes.count,
            countedNodes: nodes.filter { $0.status == .counted }.count)
    }

    /// Operators without a schema, with how many nodes use each, most frequent first.
    public var unknownOperators: [(op: String, count: Int)] {
        var counts: [String: Int] = [:]
        for node in nodes where node.status == .unknownOperator { counts[node.op, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
