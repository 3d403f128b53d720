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
            return Comparison.Side(loaded, analysis: try Analyzer.analyze(loaded.model, options: options))
        }
        let comparison = Comparison(first: sides[0], second: sides[1], groupings: groupBy.map { [$0] } ?? [.resolution, .stage])
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
        /// The path as given.
        var model: String
        /// The short name the tables use (`Comparison.shortNames`).
        var name: String
        var format: ModelFormat
        /// Nil for a `zoo:NAME` model, which has no file.
        var fileBytes: Int?
        var totals: AnalysisTotals
        var unknownOps: [String]
        fileprivate var analysis: ModelAnalysis

        init(_ loaded: LoadedModel, analysis: ModelAnalysis) {
            model = loaded.path
            name = loaded.path
            format = loaded.format
            fileBytes = loaded.format == .zoo ? nil : loaded.fileBytes
            totals = analysis.totals
            unknownOps = analysis.unknownOperators.map(\.op)
            self.analysis = analysis
        }

        enum CodingKeys: String, CodingKey {
            case model, name, format, fileBytes, totals, unknownOps
        }
    }

    struct Grouping: Encodable {
        var groupBy: GroupingKey
        var first: [NodeGroup]
        var second: [NodeGroup]
    }

    var first: Side
    var second: Side
    var groupings: [Grouping]

    init(first: Side, second: Side, groupings keys: [GroupingKey]) {
        (self.first, self.second) = (first, second)
        (self.first.name, self.second.name) = Self.shortNames(first.model, second.model)
        groupings = keys.map { Grouping(groupBy: $0, first: first.analysis.groups(by: $0), second: second.analysis.groups(by: $0)) }
    }

    /// Column headers for two paths: the file names without folder and
    /// extension (`zoo:vgg19` → `vgg19`, `/models/resnet34.onnx` → `resnet34`),
    /// with the extension when that alone tells them apart, otherwise `A` and `B`.
    static func shortNames(_ a: String, _ b: String) -> (String, String) {
        let (x, y) = (fileName(a), fileName(b))
        if stem(x) != stem(y) && !stem(x).isEmpty && !stem(y).isEmpty { return (stem(x), stem(y)) }
        if x != y && !x.isEmpty && !y.isEmpty { return (x, y) }
        return ("A", "B")
    }

    /// One model's short name: its file name without folder and extension,
    /// cut to fit a column, or `model`.
    static func shortName(_ path: String) -> String {
        let name = stem(fileName(path))
        return name.isEmpty ? "model" : name
    }

    /// `vgg19` for `zoo:vgg19`, `resnet34.onnx` for `/models/resnet34.onnx`, whole.
    static func baseName(_ path: String) -> String {
        path.hasPrefix("zoo:") ? String(path.dropFirst(4)) : String(path.split(separator: "/").last ?? "")
    }

    private static func fileName(_ path: String) -> String { Units.shortened(baseName(path), limit: 24) }

    static func stem(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return name }
        return String(name[..<dot])
    }

    /// Which file each short name stands for, then the totals table, then
    /// one table per grouping with both models' MACs and params.
    func tables(raw: Bool) -> [(title: String, table: Table)] {
        func number(_ v: Int) -> String { raw ? String(v) : Units.scaled(v) }
        func bytes(_ v: Int) -> String { raw ? String(v) : Units.bytes(v) }
        func ratio(_ a: Int, _ b: Int) -> String {
            guard a > 0 else { return "—" }
            let value = Double(b) / Double(a)
            return raw ? String(value) : (value >= 0.1 ? Units.fixed(value, digits: 2) : Units.significant(value)) + "×"
        }
        func optional(_ a: Int?, _ b: Int?, _ text: (Int) -> String) -> [String] {
            [a.map(text) ?? "—", b.map(text) ?? "—", a.flatMap { a in b.map { ratio(a, $0) } } ?? ""]
        }
        let legend = Table([("name", .left), ("model", .left), ("format", .left)],
                           rows: [first, second].map { [$0.name, $0.model, $0.format.rawValue] })
        let a = first.totals, b = second.totals
        var totals = Table([("", .left), (first.name, .right), (second.name, .right), ("ratio", .right)])
        totals.rows = [
            ["params", number(a.params), number(b.params), ratio(a.params, b.params)],
            ["params (unique)", number(a.paramsUnique), number(b.paramsUnique), ratio(a.paramsUnique, b.paramsUnique)],
            ["MACs", number(a.macs), number(b.macs), ratio(a.macs, b.macs)],
            ["FLOPs", number(a.flops), number(b.flops), ratio(a.flops, b.flops)],
            ["weights", bytes(a.weightBytes), bytes(b.weightBytes), ratio(a.weightBytes, b.weightBytes)],
            ["peak activations"] + optional(a.peakActivationBytes, b.peakActivationBytes, bytes),
            ["activations", bytes(a.activationBytes), bytes(b.activationBytes), ratio(a.activationBytes, b.activationBytes)],
            ["nodes", String(a.nodes), String(b.nodes), ratio(a.nodes, b.nodes)],
            ["nodes counted", String(a.countedNodes), String(b.countedNodes), ""],
        ]
        if first.fileBytes != nil || second.fileBytes != nil {
            totals.rows.insert(["file size"] + optional(first.fileBytes, second.fileBytes, bytes), at: 0)
        }
        var result = [(title: "Models", table: legend), (title: "Totals", table: totals)]
        for grouping in groupings {
            // Rows in the first model's order, then the second's new ones;
            // resolutions from the largest map down, as each model lists them.
            var keys = grouping.first.map(\.key)
            for g in grouping.second where !keys.contains(g.key) { keys.append(g.key) }
            if grouping.groupBy == .resolution {
                keys = keys.enumerated().sorted {
                    (ModelAnalysis.resolutionSortKey($0.element), $0.offset) < (ModelAnalysis.resolutionSortKey($1.element), $1.offset)
                }.map(\.element)
            }
            let x = Dictionary(grouping.first.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            let y = Dictionary(grouping.second.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            var table = Table([(grouping.groupBy.rawValue, .left),
                               ("MACs " + first.name, .right), ("MACs " + second.name, .right),
                               ("params " + first.name, .right), ("params " + second.name, .right)])
            table.rows = keys.map { key in
                [key, x[key].map { number($0.macs) } ?? "—", y[key].map { number($0.macs) } ?? "—",
                 x[key].map { number($0.params) } ?? "—", y[key].map { number($0.params) } ?? "—"]
            }
            result.append((title: "By \(grouping.groupBy.rawValue)", table: table))
        }
        let unknown = (first.unknownOps.map { "\(first.name): \($0)" } + second.unknownOps.map { "\(second.name): \($0)" })
        if !unknown.isEmpty {
            result.append((title: "Not counted, unknown operators", table: Table([("operator", .left)], rows: unknown.map { [$0] })))
        }
        return result
    }
}
