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
    /// For a counted node, how its count is an estimate (a control-flow node
    /// whose branch or trip count is not known); for an uncounted one, why,
    /// when the analysis knows more than its input shapes say.
    public let note: String?
    public let inputs: [ValueFact?]
    /// One per node output; `nil` for an omitted optional output.
    public let outputs: [ValueFact?]
    /// Stored tensors this node uses as learned parameters.
    public let parameters: [ParameterUse]

    /// `Conv`, or `com.microsoft.Gelu` outside the default domain.
    public var op: String { OpRegistry.key(domain: node.domain, opType: node.opType) }

    public var name: String { node.name.isEmpty ? "#\(index)" : node.name }

    /// Counted, but as an estimate (`note` says how).
    public var isEstimate: Bool { status == .counted && note != nil }

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
    /// Bytes of every node output, summed.
    public var activationBytes: Int
    /// The most activation bytes alive at once (`ModelAnalysis.peakActivation`); nil when a live value's size is unknown.
    public var peakActivationBytes: Int?
    /// The node after which the peak is reached (its name, or `#index`).
    public var peakActivationNode: String?
    public var bytesRead: Int
    public var bytesWritten: Int
    public var nodes: Int
    /// Nodes whose work is in `macs`/`flops`.
    public var countedNodes: Int
    /// Counted nodes whose count is an estimate (`NodeReport.note` says how):
    /// control flow whose branch or trip count is not known.
    public var estimatedNodes: Int
}

/// The analysis of a model: one report per node of the main graph, in topological order.
public struct ModelAnalysis: Sendable {
    public let nodes: [NodeReport]
    /// Facts about every value of the main graph.
    public let facts: [String: ValueFact]
    /// The main graph's runtime inputs and its outputs, by name.
    public let inputs: [String]
    public let outputs: [String]

    public var totals: AnalysisTotals {
        var unique: [String: Int] = [:]
        for node in nodes { for use in node.parameters { unique[use.source] = use.elements } }
        let peak = peakActivation
        return AnalysisTotals(
            params: nodes.reduce(0) { $0 + $1.params },
            paramsUnique: unique.values.reduce(0, +),
            macs: nodes.reduce(0) { $0 + $1.macs },
            flops: nodes.reduce(0) { $0 + $1.flops },
            weightBytes: nodes.reduce(0) { $0 + $1.weightBytes },
            activationBytes: nodes.reduce(0) { $0 + $1.activationBytes },
            peakActivationBytes: peak?.bytes,
            peakActivationNode: peak.map { nodes[$0.node].name },
            bytesRead: nodes.reduce(0) { $0 + $1.bytesRead },
            bytesWritten: nodes.reduce(0) { $0 + $1.bytesWritten },
            nodes: nodes.count,
            countedNodes: nodes.filter { $0.status == .counted }.count,
            estimatedNodes: nodes.filter { $0.isEstimate }.count)
    }

    /// The largest sum of activation bytes alive at once when the nodes run in
    /// order: a graph input lives from the start, a node's outputs from the
    /// node on, each value until its last consumer (a subgraph's use of an
    /// outer value counts), and graph outputs to the end. Constant outputs are
    /// weights, not activations. The peak is measured after a node has
    /// written its outputs and before its dead inputs are released, as the
    /// engine's plan measures it (`ExecutionPlan.LiveMemory`); `node` is the
    /// index of the first node at which it is reached. Nil when a live
    /// value's size is unknown.
    public var peakActivation: (bytes: Int, node: Int)? {
        var lastUse: [String: Int] = [:]
        for (index, report) in nodes.enumerated() {
            for name in report.node.inputs + report.node.capturedNames() where !name.isEmpty { lastUse[name] = index }
        }
        for name in outputs { lastUse[name] = nodes.count }
        var sizes: [String: Int] = [:]
        var live = 0
        for name in inputs {
            guard let bytes = facts[name]?.byteCount else { return nil }
            sizes[name] = bytes
            live += bytes
        }
        var peak = live, peakNode = 0
        for (index, report) in nodes.enumerated() {
            let node = report.node
            if !(node.opType == "Constant" && node.domain.isEmpty) {
                for name in node.outputs where !name.isEmpty {
                    guard let bytes = facts[name]?.byteCount else { return nil }
                    sizes[name] = bytes
                    live += bytes
                }
            }
            if live > peak { (peak, peakNode) = (live, index) }
            for name in node.inputs + node.capturedNames() + node.outputs {
                guard let bytes = sizes[name], (lastUse[name] ?? index) <= index else { continue }
                live -= bytes
                sizes[name] = nil
            }
        }
        return nodes.isEmpty ? nil : (peak, peakNode)
    }

    /// Operators without a schema, with how many nodes use each, most frequent first.
    public var unknownOperators: [(op: String, count: Int)] {
        var counts: [String: Int] = [:]
        for node in nodes where node.status == .unknownOperator { counts[node.op, default: 0] += 1 }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
