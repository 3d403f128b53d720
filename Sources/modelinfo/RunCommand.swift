import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo run MODEL`: runs the model on the built-in engine.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on the built-in CPU engine and save its outputs as .npy files.",
        discussion: """
            Inputs come from --input NAME=FILE or, for the others, seeded random data: floats uniform in [-1, 1), \
            integers in [0, 10). An open input dimension takes its value from --input-shape, --batch or the given \
            file; the first one defaults to 1. The folder that run writes is one that verify --test-data reads.
            """
    )

    @Argument(help: "The model file (.onnx or .swm), or zoo:NAME.")
    var model: String

    @OptionGroup var inputArguments: InputArguments

    @Option(name: [.short, .customLong("output-dir")], help: "The folder to write <output name>.npy to.")
    var outputDirectory: String = "."

    @OptionGroup var engineArguments: EngineArguments

    @OptionGroup var analysisArguments: AnalysisArguments

    func run() throws {
        // First: the context sets the engine's memory limit, which planning and inputs already count against.
        let context = engineArguments.context()
        let loaded = try Model.load(path: model)
        let plan = try ExecutionPlan(model: loaded.model)
        let (feeds, uses) = try inputArguments.feeds(for: loaded.model, options: try analysisArguments.options())
        for use in uses { print("input   \(use.text)") }
        let outputs = try plan.run(values: feeds, context: context)
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        for name in plan.outputNames {
            guard let value = outputs[name] else { continue }
            let path = try OutputFiles.write(try value.stored(name: name), name: name, in: outputDirectory)
            switch value {
            case .tensor(let tensor):
                print("output  \(name)  \(tensor.dtype)  \(tensor.shape.map(String.init).joined(separator: "×"))  \(Statistics(tensor).text)  → \(path)")
            case .sequence(let sequence):
                print("output  \(name)  sequence of \(sequence.elements.count) \(sequence.elementType) tensors  → \(path)")
            case .optional(let content):
                print("output  \(name)  \(content.map { "optional holding \($0.kind)" } ?? "empty optional")  → \(path)")
            }
        }
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
