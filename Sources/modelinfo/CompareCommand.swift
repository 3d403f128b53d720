import ArgumentParser
import ModelInfo

/// `modelinfo compare A B`: two models' totals side by side, and where their work happens.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two models: totals with ratios, MACs and parameters by resolution and by stage.",
        discussion: "Either model may be zoo:NAME, e.g. 'modelinfo compare zoo:vgg19 zoo:resnet34 --group-by resolution'."
    )

    @Argument(help: "The first model (.onnx or zoo:NAME).")
    var first: String

    @Argument(help: "The second model.")
    var second: String

    @Flag var format: OutputFormat = .text

    @Option(name: .customLong("group-by"), help: "Show only this grouping (default: resolution and stage).")
    var groupBy: GroupingKey?

    @OptionGroup var analysisArguments: AnalysisArguments

    func run() throws {
        let options = try analysisArguments.options()
        let sides = try [first, second].map { path in
            let loaded = try Model.load(path: path)
            return (name: path, analysis: try Analyzer.analyze(loaded.model, options: options))
        }
        let comparison = Comparison(first: (sides[0].name, sides[0].analysis), second: (sides[1].name, sides[1].analysis),
                                    groupings: groupBy.map { [$0] } ?? [.resolution, .stage])
        switch format {
        case .json:
            print(try JSONText.encode(comparison))
        case .csv:
            print(comparison.tables(raw: true).map { $0.table.csv() }.joined(separator: "\n"), terminator: "")
        case .markdown:
            print(comparison.tables(raw: false).map { "## \($0.title)\n\n" + $0.table.markdown() }.joined(separator: "\n"), terminator: "")
        case .text:
            print(comparison.tables(raw: false).map { "\($0.title)\n" + $0.table.text() }.joined(separator: "\n"), terminator: "")
        }
    }
}

/// Two analyses side by side; encodes to the JSON documented in the README.
struct Comparison: Encodable {
    struct Side: Encodable {
        var model: String
        var totals: AnalysisTotals
        var unknownOps: [String]
    }

    struct Grouping: Encodable {
        var groupBy: GroupingKey
        var first: [NodeGroup]
        var second: [NodeGroup]
    }

    var first: Side
    var second: Side
    var groupings: [Grouping]

    init(first: (String, ModelAnalysis), second: (String, ModelAnalysis), groupings keys: [GroupingKey]) {
        self.first = Side(model: first.0, totals: first.1.totals, unknownOps: first.1.unknownOperators.map(\.op))
        self.second = Side(model: second.0, totals: second.1.totals, unknownOps: second.1.unknownOperators.map(\.op))
        groupings = keys.map { Grouping(groupBy: $0, first: first.1.groups(by: $0), second: second.1.groups(by: $0)) }
    }

    /// The totals table, then one table per grouping with both models' MACs and params.
    func tables(raw: Bool) -> [(title: String, table: Table)] {
        func number(_ v: Int) -> String { raw ? String(v) : Units.scaled(v) }
        func bytes(_ v: Int) -> String { raw ? String(v) : Units.bytes(v) }
        func ratio(_ a: Int, _ b: Int) -> String { a > 0 ? Units.fixed(Double(b) / Double(a), digits: 2) + (raw ? "" : "×") : "—" }
        let a = first.totals, b = second.totals
        var totals = Table([("", .left), (first.model, .right), (second.model, .right), ("ratio", .right)])
        totals.rows = [
            ["params", number(a.params), number(b.params), ratio(a.params, b.params)],
            ["params (unique)", number(a.paramsUnique), number(b.paramsUnique), ratio(a.paramsUnique, b.paramsUnique)],
            ["MACs", number(a.macs), number(b.macs), ratio(a.macs, b.macs)],
            ["FLOPs", number(a.flops), number(b.flops), ratio(a.flops, b.flops)],
            ["weights", bytes(a.weightBytes), bytes(b.weightBytes), ratio(a.weightBytes, b.weightBytes)],
            ["activations", bytes(a.activationBytes), bytes(b.activationBytes), ratio(a.activationBytes, b.activationBytes)],
            ["nodes", String(a.nodes), String(b.nodes), ratio(a.nodes, b.nodes)],
            ["nodes counted", String(a.countedNodes), String(b.countedNodes), ""],
        ]
        var result = [(title: "Totals", table: totals)]
        for grouping in groupings {
            // Rows in order of first appearance in either model.
            var keys = grouping.first.map(\.key)
            for g in grouping.second where !keys.contains(g.key) { keys.append(g.key) }
            let x = Dictionary(grouping.first.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let y = Dictionary(grouping.second.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            var table = Table([(grouping.groupBy.rawValue, .left),
                               ("MACs " + first.model, .right), ("MACs " + second.model, .right),
                               ("params " + first.model, .right), ("params " + second.model, .right)])
            table.rows = keys.map { key in
                [key, x[key].map { number($0.macs) } ?? "—", y[key].map { number($0.macs) } ?? "—",
                 x[key].map { number($0.params) } ?? "—", y[key].map { number($0.params) } ?? "—"]
            }
            result.append((title: "By \(grouping.groupBy.rawValue)", table: table))
        }
        let unknown = (first.unknownOps.map { "\(first.model): \($0)" } + second.unknownOps.map { "\(second.model): \($0)" })
        if !unknown.isEmpty {
            result.append((title: "Not counted, unknown operators", table: Table([("operator", .left)], rows: unknown.map { [$0] })))
        }
        return result
    }
}
