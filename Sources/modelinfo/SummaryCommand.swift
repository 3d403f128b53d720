import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelInfo

/// `modelinfo FILE`: what is in a model and what it costs to run, per node.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's summary and its per-node shapes, parameters and MACs.",
        discussion: "FILE may be zoo:NAME to build a standard architecture in memory (see 'modelinfo zoo list')."
    )

    @Argument(help: "The model file (.onnx), or zoo:NAME.")
    var file: String

    @Flag var format: OutputFormat = .text

    @Option(help: "Show only the N nodes with the most MACs.")
    var top: Int?

    @Option(name: .customLong("group-by"), help: "Show totals per op, stage or resolution instead of per node.")
    var groupBy: GroupingKey?

    @Option(name: .customLong("stage-depth"),
            help: ArgumentHelp("With --group-by stage: make a stage of the first N name components, instead of choosing.", valueName: "n"))
    var stageDepth: Int?

    @Flag(help: "Print full names and shapes, however wide the table gets.")
    var wide = false

    @Flag(name: .customLong("all-nodes"), help: "List Identity and Constant nodes too, instead of counting them in one line.")
    var allNodes = false

    @Flag(name: .customLong("no-bars"), help: "Leave out the bar of MACs that a wide terminal shows beside each row.")
    var noBars = false

    @Flag(help: "For a .swm file: check every tensor's checksum now, not on first use.")
    var verify = false

    @OptionGroup var analysisArguments: AnalysisArguments

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if let stageDepth, stageDepth < 1 { throw ValidationError("--stage-depth must be at least 1") }
    }

    func run() throws {
        let options = try analysisArguments.options()
        let loaded = try Model.load(path: file, verify: verify)
        let analysis = try Analyzer.analyze(loaded.model, options: options)
        var report = AnalysisReport(summary: ModelSummary(loaded, totals: analysis.totals), analysis: analysis,
                                    groupBy: groupBy, stageDepth: stageDepth)
        report.languageModel = try LanguageModelFigures.measure(loaded.model, analysis: analysis, options: options)
        if let top { report.keepTopNodes(top) }
        let columns = Terminal.columns()
        let layout = ReportText.Layout(top: top, wide: wide, allNodes: allNodes,
                                       defaultBatchInputs: try analysisArguments.inputsTakingTheDefaultBatch(of: loaded.model),
                                       batch: options.batch ?? 1, columns: max(columns, ReportText.terminalWidth),
                                       bars: !noBars && ReportText.fitsBars(columns: columns))
        switch format {
        case .json: print(try JSONText.encode(report))
        case .text: print(ReportText.text(report, analysis: analysis, layout: layout), terminator: "")
        case .markdown: print(ReportText.markdown(report, analysis: analysis, layout: layout), terminator: "")
        case .csv: print(ReportText.table(report, nodes: report.nodes, raw: true, wide: true).csv(), terminator: "")
        }
    }
}

extension GroupingKey: ExpressibleByArgument {}

/// JSON output shared by the commands: pretty-printed, sorted keys.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// The terminal standard output writes to.
enum Terminal {
    /// Its width in columns: the terminal's own when standard output is one,
    /// else `COLUMNS` when set, else the default width the text is made for.
    static func columns() -> Int {
        var size = winsize()
        if isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let text = getenv("COLUMNS"), let value = Int(String(cString: text)), value > 0 { return value }
        return ReportText.terminalWidth
    }
}
