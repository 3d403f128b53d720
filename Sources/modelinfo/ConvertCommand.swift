import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelInfo

/// `modelinfo convert IN -o OUT`: between ONNX and the native `.swm` format.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a model between ONNX and the native .swm format.",
        discussion: """
            The output format follows OUT's extension (.swm or .onnx) unless --to names it. After a lossy \
            conversion (--weights f16, bf16 or int8) both models run on seeded inputs and the output error is printed.
            """
    )

    @Argument(help: "The model to convert (.onnx or .swm, told apart by content), or zoo:NAME.")
    var input: String

    @Option(name: [.short, .customLong("output")], help: "The file to write.")
    var output: String

    @Option(help: "The output format (default: from the output's extension).")
    var to: ConversionTarget?

    @Option(help: "How .swm stores float32 weights: f32 (as they are), f16, bf16, or int8 (per-channel, Conv/Gemm/MatMul weights).")
    var weights: WeightEncoding = .f32

    @Flag(help: "Byte-shuffle and deflate each .swm tensor where that makes it smaller.")
    var compress = false

    @Flag(name: .customLong("no-verify"), help: "Skip running both models after a lossy conversion.")
    var noVerify = false

    @Option(help: "Seeded inputs to compare on after a lossy conversion.")
    var samples = 4

    @Option(help: "Seed of the first comparison input.")
    var seed: UInt64 = 0

    func validate() throws {
        if to == nil && ConversionTarget(path: output) == nil {
            throw ValidationError("cannot tell the output format from '\(output)': name it .swm or .onnx, or pass --to swm|onnx")
        }
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
    }

    func run() throws {
        let target = to ?? ConversionTarget(path: output)!
        if target == .onnx && (weights != .f32 || compress) {
            throw ValidationError("--weights and --compress apply to .swm output only")
        }
        let loaded = try Model.load(path: input)
        let bar = ProgressBar(label: "converting")
        let report = try Conversion.convert(loaded, to: output, target: target, writer: SWMWriter(weights: weights, compress: compress),
                                            optionsText: optionsText, progress: bar.update)
        bar.finish()
        print(Self.closingLine(report, output: output))

        guard weights != .f32, !noVerify else { return }
        let converted = try Model.load(path: output)
        let agreements = try ConversionCheck.compare(original: loaded.model, converted: converted.model, samples: samples, seed: seed,
                                                     threads: ProcessInfo.processInfo.activeProcessorCount)
        print("output error of the \(weights.rawValue) model against the original, \(samples) seeded input\(samples == 1 ? "" : "s"):")
        for a in agreements {
            var parts = ["max abs \(Units.significant(a.maxAbsoluteError))", "max rel \(Units.significant(a.maxRelativeError))",
                         "cosine \(Units.fixed(a.minCosineSimilarity, digits: 7))"]
            if let agreeing = a.top1Agreements, let rows = a.top1Rows { parts.append("top-1 agreement \(agreeing)/\(rows)") }
            print("  \(a.name)  " + parts.joined(separator: ", "))
        }
    }

    /// The options as they would be typed, for the provenance record.
    private var optionsText: String {
        var parts = ["--weights \(weights.rawValue)"]
        if compress { parts.append("--compress") }
        return parts.joined(separator: " ")
    }

    static func closingLine(_ report: ConversionReport, output: String) -> String {
        let ratio = report.inputBytes > 0 ? Double(report.outputBytes) / Double(report.inputBytes) * 100 : 0
        let rate = report.seconds > 0 ? Double(report.inputBytes) / report.seconds / 1e9 : 0
        return "wrote \(output): \(Units.bytes(report.inputBytes)) → \(Units.bytes(report.outputBytes)) "
            + "(\(Units.fixed(ratio, digits: 1))%) in \(Units.fixed(report.seconds, digits: 2)) s (\(Units.fixed(rate, digits: 2)) GB/s)"
    }
}

extension ConversionTarget: ExpressibleByArgument {}
extension WeightEncoding: ExpressibleByArgument {}

/// A one-line progress bar on standard error, drawn only when it is a terminal.
final class ProgressBar {
    private let label: String
    private let enabled = isatty(STDERR_FILENO) == 1
    private var shownPercent = -1

    init(label: String) { self.label = label }

    func update(done: Int, total: Int) {
        guard enabled, total > 0 else { return }
        let percent = done * 100 / total
        guard percent != shownPercent else { return }
        shownPercent = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        writeStandardError("\r\(label) \(bar) \(percent)% of \(Units.bytes(total))")
    }

    /// Clears the bar's line.
    func finish() {
        guard enabled, shownPercent >= 0 else { return }
        writeStandardError("\r\u{1B}[K")
    }
}
