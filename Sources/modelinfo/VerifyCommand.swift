import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo verify MODEL --test-data DIR`: runs the model and compares with reference outputs.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run a model on the engine and compare its outputs with reference tensors.",
        discussion: """
        DIR is ONNX's test-data layout (test_data_set_N/input_K.pb and output_K.pb, or .npy), one such folder, \
        or a folder that 'modelinfo run -o DIR' wrote (<name>.npy). An input with no file in a set gets the \
        seeded random values that run would give it (--seed). An element passes when \
        |actual − expected| ≤ atol + rtol·|expected|; an output whose shape or element type differs from its \
        reference fails as such. Exit status 0 when every output of every set passes, 1 otherwise.
        """
    )

    @Argument(help: "The model file (.onnx or .swm), or zoo:NAME.")
    var model: String

    @Option(name: .customLong("test-data"), help: ArgumentHelp("The folder with test_data_set_N folders, or one of them.", valueName: "dir"))
    var testData: String

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-4

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-3

    @Option(help: "Seed of the random values for inputs that have no file in a set.")
    var seed: UInt64 = 0

    @OptionGroup var engineArguments: EngineArguments

    @OptionGroup var analysisArguments: AnalysisArguments

    @Flag var format: OutputFormat = .text

    func run() throws {
        // First: the context sets the engine's memory limit, which planning and inputs already count against.
        let context = engineArguments.context()
        let loaded = try Model.load(path: model)
        let plan = try ExecutionPlan(model: loaded.model)
        let options = try analysisArguments.options()
        guard FileManager.default.fileExists(atPath: testData) else { throw ModelError(.io, "no such folder", file: testData) }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: testData) else {
            throw ModelError(.io, "is not a folder that can be read", file: testData)
        }
        // Paths stay as the user typed them, so that what is printed is what was given.
        let root = testData.hasSuffix("/") && testData.count > 1 ? String(testData.dropLast()) : testData
        var sets = entries.filter { $0.hasPrefix("test_data_set_") }.sorted().map { root + "/" + $0 }
        if sets.isEmpty { sets = [root] }

        let results = try sets.map { set in
            try TestDataVerification(model: loaded.model, plan: plan, folder: set, atol: atol, rtol: rtol, seed: seed,
                                     options: options, context: context)
        }
        switch format {
        case .json: print(try JSONText.encode(results))
        case .text: print(Self.text(results), terminator: "")
        case .csv: print(Self.table(results, raw: true).csv(), terminator: "")
        case .markdown: print(Self.table(results, raw: false).markdown(), terminator: "")
        }
        let failures = results.flatMap(\.outputs).filter { !$0.passed }
        if !failures.isEmpty {
            var seen = Set<String>()
            let names = failures.filter { seen.insert($0.name).inserted }.map { failure in
                failure.problem.map { "\(failure.name) (\($0))" } ?? failure.name
            }
            writeStandardError("modelinfo: outputs that do not match their references: \(names.joined(separator: ", "))\n")
            throw ExitCode(1)
        }
    }

    static func text(_ results: [TestDataVerification]) -> String {
        var text = ""
        for result in results {
            for use in result.inputs { text += "input  \(result.set)  \(use.text)\n" }
            for c in result.outputs { text += line(set: result.set, c) + "\n" }
        }
        return text
    }

    static func line(set: String, _ c: OutputComparison) -> String {
        let verdict = c.passed ? "pass" : "FAIL"
        if let problem = c.problem { return "\(verdict)   \(set)  \(c.name): \(problem)" }
        var text = "\(verdict)   \(set)  \(c.name): max abs \(Units.significant(c.maxAbsoluteError)), max rel \(Units.significant(c.maxRelativeError))"
        text += ", \(c.mismatches) of \(c.elements) outside tolerance"
        if let first = c.firstMismatch { text += " (first at \(first))" }
        if let cosine = c.cosineSimilarity { text += ", cosine \(Units.fixed(cosine, digits: 6))" }
        return text
    }

    /// One row per output of each set; `raw` keeps full-precision numbers (CSV).
    static func table(_ results: [TestDataVerification], raw: Bool) -> Table {
        func number(_ value: Double?) -> String {
            guard let value else { return "" }
            return raw ? String(value) : Units.significant(value)
        }
        var table = Table([("set", .left), ("output", .left), ("result", .left), ("max abs", .right), ("max rel", .right),
                           ("outside tolerance", .right), ("elements", .right), ("cosine", .right), ("problem", .left)])
        for result in results {
            for c in result.outputs {
                let counted = c.problem == nil
                table.rows.append([result.set, c.name, c.passed ? "pass" : "fail",
                                   counted ? number(c.maxAbsoluteError) : "", counted ? number(c.maxRelativeError) : "",
                                   counted ? String(c.mismatches) : "", String(c.elements), number(c.cosineSimilarity), c.problem ?? ""])
            }
        }
        return table
    }
}
