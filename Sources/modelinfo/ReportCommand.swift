import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo report MODEL`: one self-contained HTML page with the model's
/// cost per layer, per resolution, per stage and per op, and its graph.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write an HTML report: per-layer cost, resolution profile, stage and op breakdowns, and the graph.",
        discussion: """
            The page is one file with nothing to fetch. With --compare, both models side by side, e.g. \
            'modelinfo report zoo:vgg19 --compare zoo:resnet34 -o vgg-vs-resnet.html'. \
            --profile colours the graph by measured time ('modelinfo bench MODEL --profile --json > profile.json'); \
            --precision adds the per-node error of 'modelinfo verify MODEL --reference OTHER --json > check.json'.
            """
    )

    @Argument(help: "The model file (.onnx, .swm), or zoo:NAME.")
    var model: String

    @Option(help: ArgumentHelp("A second model to show side by side.", valueName: "other"))
    var compare: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Where to write the page (default: MODEL's name + .html).", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Also write each figure as a standalone SVG into this folder.", valueName: "dir"))
    var svg: String?

    @Option(help: ArgumentHelp("The JSON of 'bench --profile --json' for MODEL: colour its graph by measured time.", valueName: "file"))
    var profile: String?

    @Option(help: ArgumentHelp("The JSON of 'verify --reference --json' for MODEL: show the per-node error.", valueName: "file"))
    var precision: String?

    @OptionGroup var analysisArguments: AnalysisArguments

    func run() throws {
        let options = try analysisArguments.options()
        let paths = [model] + (compare.map { [$0] } ?? [])
        let names = compare.map { Comparison.shortNames(model, $0) }.map { [$0.0, $0.1] } ?? [Comparison.shortName(model)]
        let profileRecord = try profile.map { try RecordFile.read(ProfileRecord.self, path: $0, writtenBy: "modelinfo bench --profile --json") }
        let precisionRecord = try precision.map { try RecordFile.read(PrecisionRecord.self, path: $0, writtenBy: "modelinfo verify --reference --json") }
        var models: [ReportModel] = []
        for (k, path) in paths.enumerated() {
            let loaded = try Model.load(path: path)
            let analysis = try Analyzer.analyze(loaded.model, options: options)
            models.append(ReportModel(loaded, name: names[k], analysis: analysis,
                                      profile: k == 0 ? profileRecord : nil, precision: k == 0 ? precisionRecord : nil))
        }
        let page = ReportPage(models: models)
        let target = output ?? Self.defaultOutput(for: model)
        try Self.write(page.html(), to: target)
        print("wrote \(target)")
        if let svg {
            do {
                try FileManager.default.createDirectory(atPath: svg, withIntermediateDirectories: true)
            } catch {
                throw ModelError(.io, "cannot create the folder for --svg", file: svg)
            }
            let figures = page.figures
            for figure in figures { try Self.write(figure.svg, to: svg + "/" + figure.file) }
            print("wrote \(figures.count) figures into \(svg)")
        }
    }

    /// `resnet34.html` for `zoo:resnet34` or `/models/resnet34.onnx`, in the
    /// current folder; the name is never cut, unlike a column header.
    static func defaultOutput(for path: String) -> String {
        let stem = Comparison.stem(Comparison.baseName(path))
        return (stem.isEmpty ? "model" : stem) + ".html"
    }

    /// Writes `text` whole or not at all (a temporary file renamed over the target).
    static func write(_ text: String, to path: String) throws(ModelError) {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ModelError(.io, "cannot write the file", file: path)
        }
    }
}
