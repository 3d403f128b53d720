import FoundationEssentials
import ModelInfo

/// One model of a report: its analysis, the groupings the figures show, its
/// graph, and what a profile or a precision check adds.
struct ReportModel {
    /// The short name the figures use (`vgg19`, `resnet34`).
    var name: String
    var summary: ModelSummary
    var analysis: ModelAnalysis
    /// The nodes the per-layer chart lists: the counted ones, less the bookkeeping ops.
    var rows: [NodeReport]
    var resolutionGroups: [NodeGroup]
    var stageGroups: [NodeGroup]
    var opGroups: [NodeGroup]
    var graph: GraphView
    var profile: ProfileRecord?
    /// Time per node index, from `profile`: a fused step's time goes to its first node.
    var milliseconds: [Int: Double]
    var precision: PrecisionRecord?

    init(_ loaded: LoadedModel, name: String, analysis: ModelAnalysis, profile: ProfileRecord? = nil, precision: PrecisionRecord? = nil) {
        self.name = name
        self.analysis = analysis
        summary = ModelSummary(loaded, totals: analysis.totals)
        let stageKeys = analysis.stageKeys(maximumStages: GraphView.maximumStages)
        var times: [Int: Double] = [:]
        if let profile {
            let byName = Dictionary(analysis.nodes.map { ($0.name, $0.index) }, uniquingKeysWith: { first, _ in first })
            for step in profile.nodes { if let index = byName[step.name] { times[index, default: 0] += step.ms } }
        }
        milliseconds = times
        rows = analysis.nodes.filter { $0.status == .counted && !ReportText.bookkeepingOps.contains($0.node.opType) }
        resolutionGroups = analysis.groups(by: .resolution)
        stageGroups = analysis.groups(by: .stage, maximumStages: GraphView.maximumStages)
        opGroups = analysis.groups(by: .op).sorted { ($0.macs, $1.nodes) > ($1.macs, $0.nodes) }
        graph = GraphView(analysis: analysis, stageKeys: stageKeys)
        self.profile = profile
        self.precision = precision
    }
}

/// What a report reads of `modelinfo bench --profile --json`.
struct ProfileRecord: Decodable {
    struct Step: Decodable {
        var name: String
        var ms: Double
    }

    var medianMs: Double
    var threads: Int
    var nodes: [Step]
}

/// What a report reads of `modelinfo verify --reference --json`.
struct PrecisionRecord: Decodable {
    struct Value: Decodable {
        var name: String
        var op: String
        var maxAbsError: Double
        var withinTolerance: Bool
    }

    struct Divergence: Decodable {
        var node: String
        var op: String
        var maxAbsError: Double
    }

    var atol: Double
    var rtol: Double
    var firstDivergence: Divergence?
    var nodes: [Value]
}

/// The JSON files a report reads.
enum RecordFile {
    /// Reads a JSON file written by one of the commands, naming the file and what it lacks when it is not that JSON.
    static func read<T: Decodable>(_ type: T.Type, path: String, writtenBy command: String) throws(ModelError) -> T {
        let file = try MappedFile(path: path)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(T.self, from: Data(file.bytes))
        } catch {
            throw ModelError(.malformed, "\(path): not the JSON of '\(command)' (\(Self.describe(error)))")
        }
    }

    /// The decoding error in one line: the missing key or wrong type, and where.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
            return keys.isEmpty ? "at the top" : "at " + String(keys.drop { $0 == "." })
        }
        switch error {
        case .keyNotFound(let key, let context): return "no key '\(key.stringValue)' \(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type \(path(context))"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "not JSON" : "bad value \(path(context))"
        @unknown default: return "unreadable JSON"
        }
    }
}
