import ModelCore

/// How `modelinfo --group-by` gathers nodes.
public enum GroupingKey: String, Sendable, CaseIterable, Codable {
    /// By operator type.
    case op
    /// By stage: a prefix of the node's hierarchical name (`ModelAnalysis.stageKeys`),
    /// or, for models without such names, runs of nodes at one spatial resolution.
    case stage
    /// By the spatial size of the feature map a node computes (`ModelAnalysis.spatialSizes`).
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
    /// The nodes grouped by `key`. Ops come in order of first appearance;
    /// resolutions from the largest map to the smallest, then `not spatial`;
    /// stages in the order of their first named node. `stageDepth` fixes how
    /// many name components make a stage (default: see `stageKeys`), and
    /// `maximumStages` how many a name-based split may give.
    public func groups(by key: GroupingKey, stageDepth: Int? = nil, maximumStages: Int = Self.maximumStages) -> [NodeGroup] {
        let keys = groupKeys(by: key, stageDepth: stageDepth, maximumStages: maximumStages)
        var order: [String] = []
        var groups: [String: NodeGroup] = [:]
        var firstIndex: [String: Int] = [:]
        for (index, (node, key)) in zip(nodes, keys).enumerated() {
            if groups[key] == nil {
                order.append(key)
                firstIndex[key] = index
                groups[key] = NodeGroup(key: key, nodes: 0, params: 0, macs: 0, flops: 0, uncountedNodes: 0)
            }
            groups[key]!.nodes += 1
            groups[key]!.params += node.params
            groups[key]!.macs += node.macs
            groups[key]!.flops += node.flops
            if node.status != .counted { groups[key]!.uncountedNodes += 1 }
        }
        let sortKey: (String) -> Int
        switch key {
        case .op:
            sortKey = { firstIndex[$0]! }
        case .resolution:
            // Largest first: a squeeze-and-excitation block's 1×1 maps come after
            // the 7×7 ones, not where they first appear. `not spatial` last.
            sortKey = Self.resolutionSortKey
        case .stage:
            // By the first named node: exporters put the constants a stage reads
            // (and which join it) at the top of the graph.
            var firstNamed: [String: Int] = [:]
            for (index, (node, key)) in zip(nodes, keys).enumerated() where firstNamed[key] == nil {
                if Self.nameComponents(node.node.name).count >= 2 { firstNamed[key] = index }
            }
            sortKey = { firstNamed[$0] ?? firstIndex[$0]! }
        }
        order.sort { (sortKey($0), firstIndex[$0]!) < (sortKey($1), firstIndex[$1]!) }
        return order.map { groups[$0]! }
    }

    /// Orders resolution keys from the largest map to the smallest, with
    /// `not spatial` last: minus the points of a `56×56` key, `Int.max` for others.
    /// Each node's group under `key`, in node order.
    public func groupKeys(by key: GroupingKey, stageDepth: Int? = nil, maximumStages: Int = Self.maximumStages) -> [String] {
        switch key {
        case .op: nodes.map(\.op)
        case .resolution: spatialSizes().map { $0.map(Self.sizeText) ?? Self.notSpatial }
        case .stage: stageKeys(depth: stageDepth, maximumStages: maximumStages)
        }
    }

    public static func resolutionSortKey(_ key: String) -> Int {
        let sides = key.split(separator: "×").map { Int($0) }
        guard !sides.isEmpty, sides.allSatisfy({ $0 != nil }) else { return Int.max }
        return -sides.reduce(1) { $0.multipliedReportingOverflow(by: $1!).partialValue }
    }

    /// The resolution key of the nodes that compute no spatial feature map.
    static let notSpatial = "not spatial"

    /// `224×224`, `16000` (1-D), `8×56×56` (3-D).
    static func sizeText(_ size: [Int]) -> String { size.map(String.init).joined(separator: "×") }

    // MARK: - Resolution

    /// Operators that compute on feature maps laid out N×C×spatial…: their
    /// outputs are spatial maps whatever their neighbours.
    static let spatialOps: Set<String> = [
        "Conv", "ConvTranspose", "ConvInteger", "QLinearConv", "DeformConv", "MaxPool", "AveragePool", "LpPool",
        "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "MaxUnpool", "MaxRoiPool", "RoiAlign", "BatchNormalization",
        "InstanceNormalization", "LRN", "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "GridSample", "Col2Im",
    ]

    /// Operators that rearrange or contract a tensor, so that their output is no
    /// longer laid out as the feature map they read (a ViT's patch embedding is
    /// spatial; the attention after its Reshape is not).
    static let layoutChangingOps: Set<String> = [
        "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "MatMul", "Gemm", "Einsum", "Gather", "GatherElements",
        "GatherND", "Shape", "Size", "Tile", "Expand", "TopK", "ArgMax", "ArgMin", "NonZero", "CumSum", "Range",
    ]

    /// How a feature map lays out its channels.
    enum MapLayout {
        /// N×C×spatial…, as ONNX's Conv and pooling write it.
        case channelsFirst
        /// N×spatial…×C, as a ConvNeXt block computes between its Transposes.
        case channelsLast

        func size(of dims: [Dim]) -> [Int]? {
            let spatial = self == .channelsFirst ? dims.dropFirst(2) : dims.dropFirst().dropLast()
            let values = spatial.compactMap(\.value)
            return values.count == spatial.count ? Array(values) : nil
        }
    }

    /// For each node, the spatial size of the feature map it computes, or nil
    /// when it does not compute one. A node computes a feature map when it is a
    /// spatial operator with an N×C×spatial… output (rank 3 to 5), or when it
    /// reads one and writes a tensor of the same rank without changing the
    /// layout (activations, residual Adds, concatenation along channels, pads).
    /// A Transpose that moves the channels last (or back first) keeps a map, and
    /// a MatMul of a channels-last map by a matrix is a 1×1 convolution at its
    /// resolution. Attention tensors of rank 4 are therefore not resolutions.
    public func spatialSizes() -> [[Int]?] {
        var maps: [String: MapLayout] = [:]
        var result: [[Int]?] = []
        for report in nodes {
            let node = report.node
            guard let dims = report.outputs.first??.shape?.dims, (3...5).contains(dims.count) else {
                result.append(nil)
                continue
            }
            let domainOp = node.domain.isEmpty || node.domain == "ai.onnx"
            // The layout of the first same-rank map this node reads.
            let read = node.inputs.enumerated().lazy.compactMap { i, name -> MapLayout? in
                report.inputs[i]?.shape?.rank == dims.count ? maps[name] : nil
            }.first
            let layout: MapLayout?
            if domainOp && Self.spatialOps.contains(node.opType) {
                layout = .channelsFirst
            } else if domainOp && node.opType == "Transpose" {
                layout = read.flatMap { Self.transposedLayout($0, perm: node.attribute("perm")?.value, rank: dims.count) }
            } else if domainOp && node.opType == "MatMul" {
                let weight = node.inputs.count > 1 ? report.inputs[1]?.shape?.rank : nil
                layout = read == .channelsLast && maps[node.inputs[0]] != nil && weight == 2 ? .channelsLast : nil
            } else if !(domainOp && Self.layoutChangingOps.contains(node.opType)) {
                layout = read
            } else {
                layout = nil
            }
            guard let layout, let size = layout.size(of: dims) else {
                result.append(nil)
                continue
            }
            for output in node.outputs where !output.isEmpty { maps[output] = layout }
            result.append(size)
        }
        return result
    }

    /// The layout after a Transpose of a `layout` map: the channels moved last
    /// (0, 2, 3, …, 1) or first (0, r−1, 1, …); nil for any other permutation.
    static func transposedLayout(_ layout: MapLayout, perm: AttributeValue?, rank: Int) -> MapLayout? {
        guard case .ints(let values)? = perm else { return nil }
        let toLast = [0] + Array(2..<rank) + [1], toFirst = [0, rank - 1] + Array(1..<(rank - 1))
        switch layout {
        case .channelsFirst: return values == toLast.map(Int64.init) ? .channelsLast : nil
        case .channelsLast: return values == toFirst.map(Int64.init) ? .channelsFirst : nil
        }
    }

    // MARK: - Stage

    /// The components of a hierarchical node name: `/encoder/layer.0/attention/MatMul`
    /// gives `encoder`, `layer.0`, `attention`, `MatMul`; a name without `/` is split at dots.
    static func nameComponents(_ name: String) -> [String] {
        name.split(separator: nameSeparator(name)).map(String.init)
    }

    static func nameSeparator(_ name: String) -> Character { name.contains("/") ? "/" : "." }

    /// A stage's key: the first `depth` components of the node's name (less its
    /// last, the node's own name), where a component that merely extends the one
    /// before it (`layer1` → `layer1.0`) replaces it.
    static func stageKey(_ name: String, depth: Int) -> String {
        let components = nameComponents(name).dropLast()
        guard !components.isEmpty else { return "(top level)" }
        var key: [String] = []
        for component in components.prefix(depth) {
            if let last = key.last, component.hasPrefix(last + ".") { key.removeLast() }
            key.append(component)
        }
        return key.joined(separator: String(nameSeparator(name)))
    }

    /// Most stages a name-based split may give before it stops being a
    /// summary in a table; a report's graph, whose stages fold, takes more.
    public static let maximumStages = 24

    /// The stage of each node. With `depth`, the name prefix of that many
    /// components. Without, stages follow the name hierarchy: start with the
    /// first component, and while one stage holds more than half of the nodes,
    /// split that stage by the next component, so that a ResNet gives
    /// `layer1`…`layer4` and a ViT or BERT, whose layers all sit under one
    /// `encoder`, gives its layers. When the names are flat, or splitting would
    /// give more than `maximumStages` (VGG's `features.N` are single layers), a
    /// new stage starts wherever the spatial resolution changes.
    public func stageKeys(depth: Int? = nil, maximumStages: Int = Self.maximumStages) -> [String] {
        if let depth { return joiningConsumers(nodes.map { Self.stageKey($0.node.name, depth: max(1, depth)) }) }
        let named = nodes.filter { Self.nameComponents($0.node.name).count >= 2 }.count
        if !nodes.isEmpty && named * 2 >= nodes.count, let keys = hierarchicalStageKeys(limit: maximumStages) {
            return joiningConsumers(keys)
        }
        var keys: [String] = []
        var stage = 0
        var current: String?
        for size in spatialSizes() {
            if let size, Self.sizeText(size) != current {
                stage += 1
                current = Self.sizeText(size)
            }
            keys.append(stage == 0 ? "stem" : "stage \(stage) (\(current!))")
        }
        return keys
    }

    /// `keys` with each node that has no hierarchical name (`Constant_12`,
    /// `Identity_3`: exporters give those to the constants and weight
    /// aliases they add) moved to the stage of the first node that reads
    /// its output; one that nothing reads stays at the top level.
    func joiningConsumers(_ keys: [String]) -> [String] {
        var firstReader: [String: Int] = [:]
        for (index, report) in nodes.enumerated().reversed() {
            for name in report.node.inputs + report.node.capturedNames() where !name.isEmpty { firstReader[name] = index }
        }
        var result = keys
        for index in nodes.indices.reversed() where Self.nameComponents(nodes[index].node.name).count < 2 {
            let readers = nodes[index].node.outputs.compactMap { firstReader[$0] }.filter { $0 > index }
            if let reader = readers.min() { result[index] = result[reader] }
        }
        return result
    }

    /// Stages by name, splitting the dominant stage one component deeper at a
    /// time; nil when that would give more than `limit`.
    func hierarchicalStageKeys(limit: Int) -> [String]? {
        var depths = [Int](repeating: 1, count: nodes.count)
        var keys = nodes.map { Self.stageKey($0.node.name, depth: 1) }
        while true {
            var counts: [String: Int] = [:]
            for key in keys { counts[key, default: 0] += 1 }
            guard let (dominant, count) = counts.max(by: { $0.value < $1.value }), count * 2 > nodes.count else { return keys }
            var split = keys, deeper = depths
            for i in nodes.indices where keys[i] == dominant {
                deeper[i] += 1
                split[i] = Self.stageKey(nodes[i].node.name, depth: deeper[i])
            }
            if split == keys { return keys }    // the dominant stage's names go no deeper
            if Set(split).count > limit { return nil }
            keys = split
            depths = deeper
        }
    }
}
