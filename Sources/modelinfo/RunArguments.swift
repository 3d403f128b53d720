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

    /// The values that --input names, by model input, and the file each came
    /// from. A sequence or optional input is read from a `SequenceProto` or
    /// `OptionalProto` `.pb` file, as in ONNX test data.
    func given(for model: Model) throws -> (values: [String: StoredValue], files: [String: String]) {
        var values: [String: StoredValue] = [:], files: [String: String] = [:]
        let inputs = model.graph.runtimeInputs
        for text in self.inputs {
            guard let equals = text.firstIndex(of: "=") else { throw ValidationError("--input wants NAME=FILE, got '\(text)'") }
            let name = String(text[..<equals]), path = String(text[text.index(after: equals)...])
            guard let info = inputs.first(where: { $0.name == name }) else {
                throw ModelError(.usage, "--input names '\(name)', but the model's inputs are \(inputs.map(\.name).joined(separator: ", "))")
            }
            if let value = try TestDataFiles.readValue(path: path, type: info.type) {
                values[name] = value
            } else {
                let all = try TensorFile.read(path: path)
                guard let tensor = all.count == 1 ? all.first : all.first(where: { $0.name == name }) else {
                    throw ModelError(.usage, "\(path) holds \(all.count) tensors and none is named '\(name)'")
                }
                values[name] = .tensor(tensor)
            }
            files[name] = path
        }
        return (values, files)
    }

    /// The given tensors only, for the commands that take tensor inputs alone.
    func givenTensors(for model: Model) throws -> (tensors: [String: Tensor], files: [String: String]) {
        let given = try given(for: model)
        var tensors: [String: Tensor] = [:]
        for (name, value) in given.values {
            guard case .tensor(let tensor) = value else { throw ModelError(.usage, "input '\(name)' is \(value.kind); this command takes tensors") }
            tensors[name] = tensor
        }
        return (tensors, given.files)
    }

    /// Feeds for every input of `model`, given or seeded random, and what each one was.
    func feeds(for model: Model, options: AnalysisOptions) throws -> (feeds: [String: EngineValue], uses: [InputUse]) {
        let given = try given(for: model)
        let feeds = try ModelInputs.values(for: model, options: options, seed: seed, given: given.values)
        return (feeds, ModelInputs.describe(feeds, of: model, seed: seed, files: given.files))
    }
}

/// How the engine runs, shared by the commands that run a model.
struct EngineArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Threads for the engine (default: all cores).", valueName: "n"))
    var threads: Int?

    @Option(help: ArgumentHelp("The most memory the engine's tensors may hold at once, e.g. 8G or 512M "
                               + "(default: three quarters of this machine's memory, or half of a ulimit -v or -d limit if that is less).",
                               valueName: "size"))
    var maxMemory: String?

    @Option(help: ArgumentHelp("The most iterations a Loop may run.", valueName: "n"))
    var maxLoopIterations = ExecutionContext.defaultLoopIterations

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let maxMemory, Self.bytes(maxMemory) == nil {
            throw ValidationError("--max-memory wants a size such as 8G, 512M or 1000000, got '\(maxMemory)'")
        }
        if maxLoopIterations < 0 { throw ValidationError("--max-loop-iterations must not be negative") }
    }

    /// `8G`, `512M`, `64K` (powers of 1024) or plain bytes.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        let unit = text.last.flatMap { units[Character($0.uppercased())] }
        guard let number = Int(unit == nil ? text : String(text.dropLast())), number >= 0 else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: unit ?? 1)
        return overflow ? nil : bytes
    }

    /// The engine's context, with the memory limit set; more threads than
    /// cores is allowed but said, since it only slows the run.
    func context() -> ExecutionContext {
        if let limit = maxMemory.flatMap(Self.bytes) { EngineMemory.limit = limit }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let count = threads ?? cores
        if count > cores {
            writeStandardError("modelinfo: warning: --threads \(count) is more than the \(cores) cores of this machine\n")
        }
        return ExecutionContext(threads: count, maximumLoopIterations: maxLoopIterations)
    }
}
