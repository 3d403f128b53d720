import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo verify MODEL --test-data DIR`: runs the model and compares with reference outputs;
/// `modelinfo verify MODEL --reference OTHER`: runs both and compares every value they share.
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

        With --reference OTHER (the same model in another format, a lossy conversion, a rewritten graph), both \
        models run on the same seeded inputs (--seed) and every value both make is compared as soon as both \
        exist, matched by name or by the node that makes it and its output position: per node the op, max abs \
        and rel error, cosine similarity and whether it is within tolerance, and the first node outside \
        tolerance with how its inputs compared. A group of nodes the engine fuses (Conv+BatchNormalization+Relu) \
        is compared at its output and named by its first node. Exit status 0 when every value is within \
        tolerance, 1 otherwise.

        With --intermediates DIR the same comparison runs against values another runtime saved: \
        DIR/<value name>.npy (or .pb), any character of the name other than a letter, digit, '.', '-' or '_' \
        written as '_', for any subset of the values; the model's inputs come from DIR/inputs/<input name>.npy \
        where present. Tools/dump-intermediates writes such a folder with onnxruntime.
        """
    )

    @Argument(help: "The model file (.onnx or .swm), or zoo:NAME.")
    var model: String

    @Option(name: .customLong("test-data"), help: ArgumentHelp("The folder with test_data_set_N folders, or one of them.", valueName: "dir"))
    var testData: String?

    @Option(help: ArgumentHelp("Another model to compare with, value by value.", valueName: "other"))
    var reference: String?

    @Option(help: ArgumentHelp("A folder of intermediate values another runtime saved, to compare with value by value.",
                               valueName: "dir"))
    var intermediates: String?

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-4

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-3

    @Option(help: "Seed of the random values for inputs that have no file in a set.")
    var seed: UInt64 = 0

    @OptionGroup var engineArguments: EngineArguments

    @OptionGroup var analysisArguments: AnalysisArguments

    @Flag var format: OutputFormat = .text

    func validate() throws {
        guard [testData, reference, intermediates].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give one of --test-data DIR, --reference OTHER and --intermediates DIR")
        }
    }

    func run() throws {
        // First: the context sets the engine's memory limit, which planning and inputs already count against.
        let context = engineArguments.context()
        let loaded = try Model.load(path: model)
        let options = try analysisArguments.options()
        if let reference {
            let feeds = try ModelInputs.values(for: loaded.model, options: options, seed: seed, given: [:])
            let other = try Model.load(path: reference).model
            try report(try ReferenceComparison(model: loaded.model, reference: other, feeds: feeds, atol: atol, rtol: rtol, context: context),
                       feeds: feeds, model: loaded.model, files: [:])
            return
        }
        if let intermediates {
            guard FileManager.default.fileExists(atPath: intermediates) else { throw ModelError(.io, "no such folder", file: intermediates) }
            // The inputs the other runtime ran on, where it saved them.
            var given: [String: StoredValue] = [:], files: [String: String] = [:]
            for input in loaded.model.graph.inputs {
                guard let path = ReferenceComparison.savedFile(for: input.name, in: intermediates + "/inputs"),
                      let tensor = try TensorFile.read(path: path).first else { continue }
                given[input.name] = .tensor(tensor)
                files[input.name] = path
            }
            let feeds = try ModelInputs.values(for: loaded.model, options: options, seed: seed, given: given)
            try report(try ReferenceComparison(model: loaded.model, intermediates: intermediates, feeds: feeds, atol: atol, rtol: rtol,
                                               context: context), feeds: feeds, model: loaded.model, files: files)
            return
        }
        guard let testData else { return }
        let plan = try ExecutionPlan(model: loaded.model)
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

    /// Prints a value-by-value comparison (`--reference`, `--intermediates`) and exits 1 at a divergence.
    func report(_ comparison: ReferenceComparison, feeds: [String: EngineValue], model: Model, files: [String: String]) throws {
        switch format {
        case .json: print(try JSONText.encode(comparison))
        case .text:
            for use in ModelInputs.describe(feeds, of: model, seed: seed, files: files) { print("input  \(use.text)") }
            print(Self.text(comparison), terminator: "")
        case .csv: print(Self.table(comparison, raw: true).csv(), terminator: "")
        case .markdown: print(Self.table(comparison, raw: false).markdown(), terminator: "")
        }
        if let first = comparison.firstDivergence {
            writeStandardError("modelinfo: first divergence at node \(first.node) (\(first.op)), output \(first.output)\n")
            throw ExitCode(1)
        }
    }

    static func table(_ comparison: ReferenceComparison, raw: Bool) -> Table {
        let number = { (value: Double) in raw ? String(value) : Units.significant(value) }
        var table = Table([("node", .left), ("op", .left), ("output", .left), ("max abs", .right), ("max rel", .right),
                           ("cosine", .right), ("within", .left)])
        for value in comparison.nodes {
            table.rows.append([value.name, value.op, value.output, number(value.maxAbsError), number(value.maxRelError),
                               value.cosine.map { raw ? String($0) : Units.fixed($0, digits: 6) } ?? "-",
                               value.problem ?? (value.withinTolerance ? "yes" : "no")])
        }
        return table
    }

    static func text(_ comparison: ReferenceComparison) -> String {
        var text = "compared \(comparison.nodes.count) values; atol \(Units.significant(comparison.atol)), "
            + "rtol \(Units.significant(comparison.rtol))\n"
        var table = Table([("", .left), ("node", .left), ("op", .left), ("max abs", .right), ("max rel", .right), ("cosine", .right)])
        for value in comparison.nodes {
            let mark = value.output == comparison.firstDivergence?.output ? "FIRST" : value.withinTolerance ? "ok" : "FAIL"
            table.rows.append([mark, Units.shortened(value.name, limit: 56), value.op,
                               Units.significant(value.maxAbsError), Units.significant(value.maxRelError),
                               value.problem ?? value.cosine.map { Units.fixed($0, digits: 6) } ?? "-"])
        }
        text += table.text()
        if let first = comparison.firstDivergence {
            text += "first divergence: \(first.node) (\(first.op)), output \(first.output): max abs \(Units.significant(first.maxAbsError))"
            text += ", max rel \(Units.significant(first.maxRelError))\n"
            if first.inputs.isEmpty {
                text += "  its inputs were not compared (graph inputs or weights): the error was made there\n"
            }
            for input in first.inputs {
                text += "  input \(input.output): max abs \(Units.significant(input.maxAbsError)), "
                    + (input.withinTolerance ? "within tolerance" : "outside tolerance") + "\n"
            }
            let cameIn = first.inputs.contains { !$0.withinTolerance }
            if !first.inputs.isEmpty {
                text += cameIn ? "  an input was already outside tolerance\n" : "  its inputs were within tolerance: the error was made there\n"
            }
        } else {
            text += "every compared value is within tolerance\n"
        }
        return text
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
