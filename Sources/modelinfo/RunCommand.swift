import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo run MODEL`: runs the model on the built-in engine.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on the built-in CPU engine and save its outputs as .npy files.",
        discussion: "Inputs come from --input NAME=FILE (.npy, .npz or TensorProto .pb) or, for the others, seeded random data: floats uniform in [-1, 1), integers in [0, 10)."
    )

    @Argument(help: "The model file (.onnx), or zoo:NAME.")
    var model: String

    @Option(name: .customLong("input"), help: ArgumentHelp("An input from a tensor file (repeatable).", valueName: "name=file"))
    var inputs: [String] = []

    @Option(help: "Seed of the random inputs.")
    var seed: UInt64 = 0

    @Option(name: .customLong("output-dir"), help: "Where to write <output name>.npy (default: the current folder).")
    var outputDirectory: String = "."

    @Option(help: "Threads for the engine (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var analysisArguments: AnalysisArguments

    func run() throws {
        let loaded = try Model.load(path: model)
        let plan = try ExecutionPlan(model: loaded.model)
        let feeds = try Feeds.make(for: loaded.model, inputs: inputs, options: try analysisArguments.options(), seed: seed)
        let outputs = try plan.run(feeds, context: ExecutionContext(threads: threads))
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        for name in plan.outputNames {
            guard let tensor = outputs[name] else { continue }
            let path = outputDirectory + "/" + Feeds.fileName(for: name) + ".npy"
            try TensorFile.write(try tensor.stored(name: name), to: path, format: .npy)
            print("\(name)  \(tensor.dtype)  \(tensor.shape.map(String.init).joined(separator: "×"))  \(Statistics(tensor).text)  → \(path)")
        }
    }
}

/// Building the inputs of a run from files and seeded random data.
enum Feeds {
    static func make(for model: Model, inputs: [String], options: AnalysisOptions, seed: UInt64) throws -> [String: EngineTensor] {
        var feeds = try ModelInputs.random(for: model, options: options, seed: seed)
        let names = Set(model.graph.runtimeInputs.map(\.name))
        for text in inputs {
            guard let equals = text.firstIndex(of: "=") else { throw ValidationError("--input wants NAME=FILE, got '\(text)'") }
            let name = String(text[..<equals]), path = String(text[text.index(after: equals)...])
            guard names.contains(name) else {
                throw ModelError(.usage, "--input names '\(name)', but the model's inputs are \(names.sorted().joined(separator: ", "))")
            }
            let tensors = try TensorFile.read(path: path)
            guard let tensor = tensors.count == 1 ? tensors.first : tensors.first(where: { $0.name == name }) else {
                throw ModelError(.usage, "\(path) holds \(tensors.count) tensors and none is named '\(name)'")
            }
            feeds[name] = try EngineTensor(tensor)
        }
        return feeds
    }

    /// The output's name with every character other than letters, digits, `.`, `-` and `_` replaced by `_`.
    static func fileName(for name: String) -> String {
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") ? $0 : "_" })
        return safe.isEmpty || safe == "." || safe == ".." ? "_" + safe : safe
    }
}

/// A few numbers that tell whether an output looks sane.
struct Statistics {
    let text: String

    init(_ tensor: EngineTensor) {
        guard let values = try? tensor.stored(name: "").doubleValues(), !values.isEmpty else {
            text = ""
            return
        }
        let finite = values.filter(\.isFinite)
        let mean = finite.reduce(0, +) / Double(max(finite.count, 1))
        let spread = (finite.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(finite.count, 1))).squareRoot()
        var parts = ["min \(Units.significant(finite.min() ?? .nan))", "max \(Units.significant(finite.max() ?? .nan))",
                     "mean \(Units.significant(mean))", "std \(Units.significant(spread))"]
        if finite.count < values.count { parts.append("\(values.count - finite.count) not finite") }
        // For a classifier's [1, classes] output, the top class.
        if tensor.shape.count == 2, tensor.shape[0] == 1, let top = values.indices.max(by: { values[$0] < values[$1] }) {
            parts.append("argmax \(top)")
        }
        text = parts.joined(separator: ", ")
    }
}
