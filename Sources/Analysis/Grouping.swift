import ModelCore

/// How `modelinfo --group-by` gathers nodes.
public enum GroupingKey: String, Sendable, CaseIterable, Codable {
    /// By operator type.
    case op
    /// By stage: the first component of the node's hierarchical name
    /// (`/layer1/layer1.0/conv1/Conv` is in `layer1`), or, for models without
    /// such names, runs of nodes at one spatial resolution.
    case stage
    /// By the spatial size (height × width) of the node's first output.
    case resolution
}

/// Nodes gathered under one key, with their summed counts.
public struct NodeGroup: Sendable, Equatable, Codable {
    public var key: String
    public var nodes: Int
    public var params: Int
    public var macs: Int
    public var flops: Int
    /// Nodes of the group whose cost is not in `macs`/`flops`.
    public var uncountedNodes: Int
}

extension ModelAnalysis {
    /// The nodes grouped by `key`, in order of first appearance.
    public func groups(by key: GroupingKey) -> [NodeGroup] {
        let keys: [String]
        switch key {
        case .op: keys = nodes.map(\.op)
        case .resolution: keys = nodes.map(Self.resolutionKey)
        case .stage: keys = stageKeys()
        }
        var order: [String] = []
        var groups: [String: NodeGroup] = [:]
        for (node, key) in zip(nodes, keys) {
            if groups[key] == nil {
                order.append(key)
                groups[key] = NodeGroup(key: key, nodes: 0, params: 0, macs: 0, flops: 0, uncountedNodes: 0)
            }
            groups[key]!.nodes += 1
            groups[key]!.params += node.params
            groups[key]!.macs += node.macs
            groups[key]!.flops += node.flops
            if node.status != .counted { groups[key]!.uncountedNodes += 1 }
        }
        return order.map { groups[$0]! }
    }

    /// `224×224` for a 4-D output, `non-spatial` for anything else.
    static func resolutionKey(_ node: NodeReport) -> String {
        guard let r = node.resolution else { return nonSpatial }
        return "\(r.height)×\(r.width)"
    }

    static let nonSpatial = "non-spatial"

    /// Stage of each node, following the rule documented on `GroupingKey.stage`.
    func stageKeys() -> [String] {
        let prefixes = nodes.map { Self.firstNameComponent($0.node.name) }
        if prefixes.filter({ $0 != nil }).count * 2 >= nodes.count {
            return prefixes.map { $0 ?? "(unnamed)" }
        }
        // Without hierarchical names, a new stage starts where the resolution changes.
        var keys: [String] = []
        var stage = 0
        var current: String?
        for node in nodes {
            let resolution = Self.resolutionKey(node)
            if resolution != Self.nonSpatial && resolution != current {
                stage += 1
                current = resolution
            }
            keys.append(stage == 0 ? "stem" : "stage \(stage) (\(current!))")
        }
        return keys
    }

    /// `layer1` for `/layer1/layer1.0/conv1/Conv` or `layer1.0.conv1`; `nil` for a flat name.
    static func firstNameComponent(_ name: String) -> String? {
        let parts = name.split(whereSeparator: { $0 == "/" || $0 == "." })
        guard parts.count >= 2 else { return nil }
        return String(parts[0])
    }
}
