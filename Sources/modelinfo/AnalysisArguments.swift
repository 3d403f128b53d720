import ArgumentParser
import ModelInfo

/// Options that fix what a model file leaves open, shared by the report commands.
struct AnalysisArguments: ParsableArguments {
    @Option(name: .customLong("input-shape"),
            help: ArgumentHelp("Fix an input's shape, e.g. input=1x3x224x224 (repeatable).", valueName: "name=shape"))
    var inputShapes: [String] = []

    @Option(name: .customLong("symbol"),
            help: ArgumentHelp("Give symbolic input dimensions values, e.g. seq=2048,past=0 (repeatable).", valueName: "name=n,…"))
    var symbols: [String] = []

    @Option(help: ArgumentHelp("The first dimension of every input whose batch size is open (default: 1).", valueName: "n"))
    var batch: Int?

    /// The inputs of `model` whose open first dimension takes the default
    /// batch of 1: neither `--batch`, `--symbol` nor `--input-shape` gives it.
    func inputsTakingTheDefaultBatch(of model: Model) throws -> [String] {
        guard batch == nil else { return [] }
        let options = try options()
        return model.graph.runtimeInputs.compactMap { info in
            guard options.inputShapes[info.name] == nil, case .tensor(_, let shape?)? = info.type, let first = shape.dims.first,
                  first.substituting(options.symbols).value == nil else { return nil }
            return info.name
        }
    }

    func options() throws -> AnalysisOptions {
        var shapes: [String: [Int]] = [:]
        for text in inputShapes {
            guard let equals = text.lastIndex(of: "=") else {
                throw ValidationError("--input-shape wants NAME=DIMS, e.g. input=1x3x224x224, got '\(text)'")
            }
            let name = String(text[..<equals])
            let dims = text[text.index(after: equals)...].split(whereSeparator: { $0 == "x" || $0 == "×" || $0 == "," })
            let values = dims.compactMap { Int($0) }
            guard !name.isEmpty, values.count == dims.count, values.allSatisfy({ $0 >= 0 }) else {
                throw ValidationError("--input-shape wants NAME=DIMS with non-negative numbers, e.g. input=1x3x224x224, got '\(text)'")
            }
            shapes[name] = values
        }
        var values: [String: Int] = [:]
        for text in symbols.flatMap({ $0.split(separator: ",") }) {
            let parts = text.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let value = Int(parts[1]), value >= 0 else {
                throw ValidationError("--symbol wants NAME=N with a non-negative number, e.g. seq=128, got '\(text)'")
            }
            values[String(parts[0])] = value
        }
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
        // An open batch is 1 unless said otherwise, in every command; the
        // summary says so. No other open dimension has a default.
        return AnalysisOptions(inputShapes: shapes, batch: batch ?? 1, symbols: values)
    }
}
