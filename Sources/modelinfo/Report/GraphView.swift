import ModelInfo

/// The graph of one model as a report draws it: nodes gathered into stages
/// that fold into one box, each stage laid out on its own and the stages
/// laid out as a graph of their own. Folding needs no layout in the browser:
/// an unfolded stage only pushes the stages to its right and below it
/// aside (`placement(unfolded:)`, mirrored by the page's script).
struct GraphView {
    /// One drawn node.
    struct Node {
        /// The node's index in the analysis.
        var index: Int
        var stage: Int
        /// Position inside its stage's unfolded box, below the stage's title bar.
        var box: LayeredLayout.Box
    }

    struct Stage {
        var key: String
        /// Indices into `nodes`.
        var members: [Int]
        /// Folded size and place in the graph of stages.
        var box: LayeredLayout.Box
        /// The stage's layer in the graph of stages.
        var layer: Int
        /// Size of the unfolded box (title bar and the members' layout).
        var unfoldedWidth: Double
        var unfoldedHeight: Double
        /// Edges between members, as indices into `nodes`.
        var routes: [LayeredLayout.Route]
    }

    var nodes: [Node]
    var stages: [Stage]
    /// Edges between stages.
    var stageEdges: [(from: Int, to: Int)]
    /// Where the graph of folded stages ends.
    var width: Double
    var height: Double

    static let nodeHeight = 34.0
    static let stageHeight = 40.0
    static let titleHeight = 26.0
    static let padding = 10.0
    /// A stage larger than this is cut into runs of nodes in execution
    /// order, so that unfolding one never draws thousands of nodes.
    static let largestStage = 240
    /// Stages a report may show: folded, many stages stay readable.
    static let maximumStages = 160

    /// Nodes that draw as part of their readers: constants are weights.
    static func isDrawn(_ node: NodeReport) -> Bool {
        !(node.node.opType == "Constant" && node.node.domain.isEmpty)
    }

    /// The box width a label of `characters` needs.
    static func textWidth(_ characters: Int) -> Double { Double(characters) * 6.6 + 16 }

    init(analysis: ModelAnalysis, stageKeys: [String]) {
        // Stages in order of their first drawn node, cut where too large.
        var stageOf: [String: Int] = [:]
        var stages: [(key: String, members: [Int])] = []
        var nodes: [Node] = []
        var drawnIndex: [Int: Int] = [:]
        for (report, key) in zip(analysis.nodes, stageKeys) where Self.isDrawn(report) {
            let s: Int
            if let existing = stageOf[key], stages[existing].members.count < Self.largestStage {
                s = existing
            } else {
                let part = stageOf[key].map { stages[$0].key }
                s = stages.count
                stages.append((key: part == nil ? key : "\(key) (from \(report.name))", members: []))
                stageOf[key] = s
            }
            drawnIndex[report.index] = nodes.count
            stages[s].members.append(nodes.count)
            nodes.append(Node(index: report.index, stage: s, box: LayeredLayout.Box(x: 0, y: 0, width: 0, height: 0)))
        }

        // Edges from each value's producer to its readers, among drawn nodes.
        var producer: [String: Int] = [:]
        var edges: [(Int, Int)] = []
        for report in analysis.nodes {
            guard let reader = drawnIndex[report.index] else { continue }
            for name in report.node.inputs + report.node.capturedNames() where !name.isEmpty {
                if let from = producer[name] { edges.append((from, reader)) }
            }
            for name in report.node.outputs where !name.isEmpty { producer[name] = reader }
        }

        // Each stage on its own.
        var made: [Stage] = []
        var local: [Int: Int] = [:]
        var inner = [[(Int, Int)]](repeating: [], count: stages.count)
        var between: [(Int, Int)] = []
        for (a, b) in edges {
            let (sa, sb) = (nodes[a].stage, nodes[b].stage)
            if sa == sb { inner[sa].append((a, b)) } else { between.append((sa, sb)) }
        }
        for (s, stage) in stages.enumerated() {
            for (i, member) in stage.members.enumerated() { local[member] = i }
            let sizes = stage.members.map { member -> LayeredLayout.Size in
                let report = analysis.nodes[nodes[member].index]
                return LayeredLayout.Size(width: Self.textWidth(max(report.op.count, Self.shapeLabel(report).count)),
                                          height: Self.nodeHeight)
            }
            let layout = LayeredLayout(sizes: sizes, edges: inner[s].map { (local[$0.0]!, local[$0.1]!) })
            for (i, member) in stage.members.enumerated() { nodes[member].box = layout.boxes[i] }
            let title = Self.textWidth(stage.key.count + 12)
            made.append(Stage(key: stage.key, members: stage.members,
                              box: LayeredLayout.Box(x: 0, y: 0, width: min(max(title, 120), 420), height: Self.stageHeight),
                              layer: 0, unfoldedWidth: max(layout.width, title) + 2 * Self.padding,
                              unfoldedHeight: layout.height + Self.titleHeight + Self.padding,
                              routes: layout.routes.map { route in
                                  LayeredLayout.Route(from: stage.members[route.from], to: stage.members[route.to], points: route.points)
                              }))
        }

        // The graph of stages.
        let outer = LayeredLayout(sizes: made.map { LayeredLayout.Size(width: $0.box.width, height: $0.box.height) }, edges: between)
        for s in made.indices {
            made[s].box = outer.boxes[s]
            made[s].layer = outer.layers[s]
        }
        self.nodes = nodes
        self.stages = made
        stageEdges = outer.routes.map { ($0.from, $0.to) }
        width = outer.width
        height = outer.height
    }

    /// `1×64×56×56`, the node's first output.
    static func shapeLabel(_ report: NodeReport) -> String {
        guard let first = report.outputs.first, let dims = first?.shape?.dims else { return "" }
        return ReportText.shapeText(dims.map(ModelSummary.ShapeDim.init))
    }

    /// Each stage's box when the stages in `unfolded` are open: an open stage
    /// grows to its unfolded size, pushing the stages right of it in its layer
    /// by its extra width and every lower layer by the largest extra height
    /// in the layers above. The page's script computes the same on each click.
    func placement(unfolded: Set<Int>) -> [LayeredLayout.Box] {
        let layerCount = (stages.map(\.layer).max() ?? -1) + 1
        var extraHeight = [Double](repeating: 0, count: layerCount)
        for s in unfolded where stages.indices.contains(s) {
            extraHeight[stages[s].layer] = max(extraHeight[stages[s].layer], stages[s].unfoldedHeight - stages[s].box.height)
        }
        var below = [Double](repeating: 0, count: layerCount + 1)
        for l in 0..<layerCount { below[l + 1] = below[l] + extraHeight[l] }
        var boxes = stages.map(\.box)
        var extraWidth = [Double](repeating: 0, count: layerCount)
        for s in stages.indices.sorted(by: { stages[$0].box.x < stages[$1].box.x }) {
            let l = stages[s].layer
            boxes[s].x += extraWidth[l]
            boxes[s].y += below[l]
            if unfolded.contains(s) {
                extraWidth[l] += stages[s].unfoldedWidth - stages[s].box.width
                boxes[s].width = stages[s].unfoldedWidth
                boxes[s].height = stages[s].unfoldedHeight
            }
        }
        return boxes
    }
}
