import ArgumentParser
import FoundationEssentials
import ModelInfo

/// Where the engine's inputs come from, shared by the commands that run a model.
struct InputArguments: ParsableArguments {
    @Option(name: .customLong("input"),
            help: ArgumentHelp("Feed an input from a tensor file: .npy, .npz or TensorProto .pb (repeatable).", valueName: "name=file"))
    var inputs: [String] = []

    @Option(help: "Seed of the random values for inputs not given with --input.")
    var seed: UInt64 = 0

    /// The tensors that --input names, by model input, and the file each came from.
    func given(for model: Model) throws -> (tensors: [String: Tensor], files: [String: String]) {
        var tensors: [String: Tensor] = [:], files: [String: String] = [:]
        let names = model.graph.runtimeInputs.map(\.name)
        for text in inputs {
            guard let equals = text.firstIndex(of: "=") else { throw ValidationError("--input wants NAME=FILE, got '\(text)'") }
            let name = String(text[..<equals]), path = String(text[text.index(after: equals)...])
            guard names.contains(name) else {
                throw ModelError(.usage, "--input names '\(name)', but the model's inputs are \(names.joined(separator: ", "))")
            }
            let all = try TensorFile.read(path: path)
            guard let tensor = all.count == 1 ? all.first : all.first(where: { $0.name == name }) else {
                throw ModelError(.usage, "\(path) holds \(all.count) tensors and none is named '\(name)'")
            }
            tensors[name] = tensor
            files[name] = path
        }
        return (tensors, files)
    }

    /// Feeds for every input of `model`, given or seeded random, and what each one was.
    func feeds(for model: Model, options: AnalysisOptions) throws -> (feeds: [String: EngineTensor], uses: [InputUse]) {
        let given = try given(for: model)
        let feeds = try ModelInputs.random(for: model, options: options, seed: seed, given: given.tensors)
        return (feeds, ModelInputs.describe(feeds, of: model, seed: seed, files: given.files))
    }
}

/// How the engine runs, shared by the commands that run a model.
struct EngineArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Threads for the engine (default: all cores).", valueName: "n"))
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// The engine's context; more threads than cores is allowed but said, since it only slows the run.
    func context() -> ExecutionContext {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let count = threads ?? cores
        if count > cores {
            writeStandardError("modelinfo: warning: --threads \(count) is more than the \(cores) cores of this machine\n")
        }
        return ExecutionContext(threads: count)
    }
}
