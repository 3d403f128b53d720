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

    @Option(name: .customLong("keep-f32"), help: ArgumentHelp("Stored tensors to keep in float32 whatever --weights says, comma-separated.",
                                                              valueName: "names"))
    var keepF32: String?

    @Option(name: .customLong("min-cosine"), help: "After a lossy conversion: below this cosine similarity of an output, find the layer that diverges first.")
    var minCosine = 0.9999

    @Flag(name: .customLong("no-verify"), help: "Skip running both models after a lossy conversion.")
    var noVerify = false

    @Option(help: "Inputs to compare on after a lossy conversion (seeds --seed, --seed+1, …; one when --input gives every input).")
    var samples = 4

    @OptionGroup var inputArguments: InputArguments

    @OptionGroup var analysisArguments: AnalysisArguments

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
        let kept = keptNames
        let storedNames = Set(loaded.model.graph.initializers.map(\.name)).union(loaded.model.graph.nodes.filter { $0.opType == "Constant" }.flatMap(\.outputs))
        if let missing = kept.sorted().first(where: { !storedNames.contains($0) }) {
            throw ModelError(.usage, "--keep-f32 names '\(missing)', which is not a stored tensor of the model")
        }
        let bar = ProgressBar(label: "converting")
        let writer = SWMWriter(weights: weights, compress: compress, keepFloat32: kept)
        let report = try Conversion.convert(loaded, to: output, target: target, writer: writer,
                                            optionsText: optionsText, progress: bar.update)
        bar.finish()
        print(Self.closingLine(report, output: output))

        guard weights != .f32 else { return }
        if let stored = report.swm, stored.encodings.keys.allSatisfy({ $0 == .raw }) {
            print("nothing was stored as \(weights.rawValue): " + (weights == .int8
                ? "int8 applies to float32 Conv, Gemm and MatMul weights (initializers or Constant nodes of the main graph), and this model has none"
                : "\(weights.rawValue) applies to float32 tensors of rank 2 or more, and this model has none"))
            return
        }
        guard !noVerify else { return }
        let converted = try Model.load(path: output)
        let given = try inputArguments.givenTensors(for: loaded.model)
        let options = try analysisArguments.options()
        let runs = given.tensors.count == loaded.model.graph.runtimeInputs.count ? 1 : samples
        let shapes = try ModelInputs.shapes(of: loaded.model, options: options, given: given.tensors)
        let agreements = try ConversionCheck.compare(original: loaded.model, converted: converted.model, options: options,
                                                     given: given.tensors, samples: runs, seed: inputArguments.seed,
                                                     threads: ProcessInfo.processInfo.activeProcessorCount)
        let seeds = runs == 1 ? "seed \(inputArguments.seed)" : "seeds \(inputArguments.seed)…\(inputArguments.seed + UInt64(runs - 1))"
        print("compared with the original on \(runs) input\(runs == 1 ? "" : "s"):")
        for info in loaded.model.graph.runtimeInputs {
            var dtype = "?"
            if case .tensor(let type, _)? = info.type { dtype = type.description }
            let use = InputUse(name: info.name, dtype: dtype, shape: shapes[info.name] ?? [],
                               source: given.files[info.name] ?? "random, \(seeds)")
            print("  input   \(use.text)")
        }
        for a in agreements {
            // Cosine and top-1 say whether the model still computes the same thing; the
            // absolute error is read against the output's spread; the relative error comes
            // last because it is large wherever the original's value is near zero.
            var verdict = "cosine \(Units.fixed(a.minCosineSimilarity, digits: 7))"
            if let agreeing = a.top1Agreements, let rows = a.top1Rows { verdict += ", top-1 agreement \(agreeing)/\(rows)" }
            var absolute = "max abs \(Units.significant(a.maxAbsoluteError))"
            if a.referenceRange > 0 {
                absolute += " (\(Units.significant(a.maxAbsoluteError / a.referenceRange * 100))% of the output's range \(Units.significant(a.referenceRange)))"
            }
            let indent = String(repeating: " ", count: 10)
            print("  output  \(a.name): \(verdict)\n\(indent)\(absolute)\n\(indent)max rel \(Units.significant(a.maxRelativeError)) (large where the original is near 0)")
        }
        let failing = agreements.filter { $0.minCosineSimilarity < minCosine || ($0.top1Agreements ?? 0) < ($0.top1Rows ?? 0) }
        guard !failing.isEmpty else { return }
        try pointAtCulprit(original: loaded.model, converted: converted.model, given: given.tensors, options: options)
    }

    /// An output fell below --min-cosine or lost top-1 agreement: both models
    /// run once more, value by value. The first layer whose output falls below
    /// the cosine says where the error shows; the layer that loses the most
    /// similarity against its own inputs says where it is made, and its
    /// weights are the ones to keep in float32.
    func pointAtCulprit(original: Model, converted: Model, given: [String: Tensor], options: AnalysisOptions) throws {
        let threshold = Units.fixed(minCosine, digits: 7)
        print("an output is below cosine \(threshold) or lost top-1 agreement: comparing every layer")
        let feeds = try ModelInputs.values(for: converted, options: options, seed: inputArguments.seed, given: given.mapValues(StoredValue.tensor))
        let comparison = try ReferenceComparison(model: converted, reference: original, feeds: feeds, atol: 0, rtol: 0, minCosine: minCosine,
                                                 context: ExecutionContext(threads: ProcessInfo.processInfo.activeProcessorCount))
        func cosine(_ value: Double?) -> String { value.map { Units.fixed($0, digits: 7) } ?? "-" }
        if let first = comparison.firstDivergence {
            print("  first layer below cosine \(threshold): \(first.node) (\(first.op)), cosine \(cosine(first.cosine))")
        }
        guard let culprit = comparison.largestAddedError else {
            print("  no layer loses similarity against its inputs")
            return
        }
        print("  most similarity lost: \(culprit.name) (\(culprit.op)), cosine \(cosine(culprit.cosine)) where its inputs' are higher")
        guard !culprit.weights.isEmpty else { return }
        let keep = keptNames.union(culprit.weights).sorted()
        print("  to keep its weights in float32: --keep-f32 \(keep.joined(separator: ","))")
    }

    /// The tensors --keep-f32 names.
    private var keptNames: Set<String> { Set((keepF32 ?? "").split(separator: ",").map(String.init)) }

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
