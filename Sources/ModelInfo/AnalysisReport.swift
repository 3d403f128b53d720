@_exported import Analysis

/// What `modelinfo FILE --json` prints: the summary, the totals, every node
/// and the operators that could not be counted. Keys are documented in the README.
public struct AnalysisReport: Sendable, Encodable {
    /// One node of the main graph.
    public struct Node: Sendable, Encodable {
        public var index: Int
        public var name: String
        public var op: String
        /// One per output; `null` for an omitted optional output or an unknown rank.
        public var outputShapes: [[ModelSummary.ShapeDim]?]
        public var params: Int
        public var macs: Int
        public var flops: Int
        public var weightBytes: Int
        public var activationBytes: Int
        public var bytesRead: Int
        public var bytesWritten: Int
        public var arithmeticIntensity: Double?
        /// `counted`, `unknownOperator`, `uncounted` (shapes unknown) or `invalid`.
        public var status: String
        /// Why a node is invalid, or why a control-flow node is not counted.
        public var problem: String?
        /// How a counted node's figures are an estimate: a control-flow
        /// node whose branch or trip count is not known.
        public var estimate: String?
    }

    /// An operator without a schema and how many nodes use it.
    public struct UnknownOp: Sendable, Encodable {
        public var op: String
        public var count: Int
    }

    public var summary: ModelSummary
    public var totals: AnalysisTotals
    public var nodes: [Node]
    public var unknownOps: [UnknownOp]
    /// Per-token cost, KV cache and parameters by kind, for a decoder-only language model.
    public var languageModel: LanguageModelFigures?
    /// Present with `--group-by`.
    public var groups: [NodeGroup]?
    public var groupBy: GroupingKey?

    /// `stageDepth` fixes the name components of a stage with `groupBy == .stage`.
    public init(summary: ModelSummary, analysis: ModelAnalysis, groupBy: GroupingKey? = nil, stageDepth: Int? = nil) {
        self.summary = summary
        totals = analysis.totals
        nodes = analysis.nodes.map(Node.init)
        unknownOps = analysis.unknownOperators.map { UnknownOp(op: $0.op, count: $0.count) }
        self.groupBy = groupBy
        groups = groupBy.map { analysis.groups(by: $0, stageDepth: stageDepth) }
    }

    /// Keeps only the `count` nodes with the most MACs, most first (ties in
    /// execution order); the totals still cover every node.
    public mutating func keepTopNodes(_ count: Int) {
        nodes = Array(nodes.sorted { ($0.macs, $1.index) > ($1.macs, $0.index) }.prefix(max(0, count)))
    }

    enum CodingKeys: String, CodingKey {
        case totals, nodes, unknownOps, languageModel, groups, groupBy
    }

    /// The summary's keys at the top level, next to the analysis keys.
    public func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(totals, forKey: .totals)
        try container.encode(nodes, forKey: .nodes)
        try container.encode(unknownOps, forKey: .unknownOps)
        try container.encodeIfPresent(languageModel, forKey: .languageModel)
        try container.encodeIfPresent(groups, forKey: .groups)
        try container.encodeIfPresent(groupBy, forKey: .groupBy)
    }
}

extension AnalysisReport.Node {
    init(_ report: NodeReport) {
        index = report.index
        name = report.name
        op = report.op
        outputShapes = report.outputs.map { fact in fact?.shape.map { $0.dims.map(ModelSummary.ShapeDim.init) } }
        params = report.params
        macs = report.macs
        flops = report.flops
        weightBytes = report.weightBytes
        activationBytes = report.activationBytes
        bytesRead = report.bytesRead
        bytesWritten = report.bytesWritten
        arithmeticIntensity = report.arithmeticIntensity
        switch report.status {
        case .counted: status = "counted"; estimate = report.note
        case .unknownOperator: status = "unknownOperator"
        case .uncounted: status = "uncounted"; problem = report.note
        case .invalid(let why): status = "invalid"; problem = why
        }
    }
}

extension ModelSummary.ShapeDim {
    public init(_ dim: Dim) {
        switch dim {
        case .known(let v): self = .known(v)
        case .symbol(let s): self = .symbol(s)
        case .unknown: self = .unknown
        }
    }
}
