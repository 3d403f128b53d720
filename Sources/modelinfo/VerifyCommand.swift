import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo verify MODEL --test-data DIR`: runs the model and compares with reference outputs.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run a model on the engine and compare its outputs with reference tensors.",
        discussion: """
        DIR is ONNX's test-data layout: test_data_set_N/input_K.pb and output_K.pb (or .npy), \
        or one such folder. An element passes when |actual − expected| ≤ atol + rtol·|expected|. \
        Exit status 0 when every output of every set passes, 1 otherwise.
        """
    )

    @Argument(help: "The model file (.onnx), or zoo:NAME.")
    var model: String

    @Option(name: .customLong("test-data"), help: "The folder with test_data_set_N folders, or one of them.")
    var testData: String

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-4

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-3

    @Option(help: "Threads for the engine (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag var format: OutputFormat = .text

    func run() throws {
        let loaded = try Model.load(path: model)
        let plan = try ExecutionPlan(model: loaded.model)
        let root = URL(fileURLWithPath: testData)
        var sets = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { $0.hasPrefix("test_data_set_") }.sorted().map { root.appendingPathComponent($0) }
        if sets.isEmpty { sets = [root] }
        var failed = false
        var report: [[String: OutputComparison]] = []
        for set in sets {
            let feeds = try Self.tensors(in: set, prefix: "input", names: plan.inputNames)
            let expected = try Self.tensors(in: set, prefix: "output", names: plan.outputNames)
            guard !expected.isEmpty else { throw ModelError(.usage, "\(set.path) holds no output_K reference tensors") }
            let outputs = try plan.run(feeds.mapValues { t throws(ModelError) in try EngineTensor(t) }, context: ExecutionContext(threads: threads))
            var comparisons: [String: OutputComparison] = [:]
            for name in plan.outputNames {
                guard let reference = expected[name], let actual = outputs[name] else { continue }
                let comparison = OutputComparison(name: name, actual: try actual.stored(name: name), expected: reference, atol: atol, rtol: rtol)
                comparisons[name] = comparison
                failed = failed || !comparison.passed
                if format == .text { print(Self.line(set: set.lastPathComponent, comparison)) }
            }
            report.append(comparisons)
        }
        if format == .json { print(try JSONText.encode(report)) }
        if failed {
            let names = report.flatMap { $0.values.filter { !$0.passed }.map(\.name) }
            throw ModelError(.invalidGraph, "outputs outside tolerance: \(Set(names).sorted().joined(separator: ", "))")
        }
    }

    /// input_K / output_K files of a set, by the graph's K-th name.
    static func tensors(in folder: URL, prefix: String, names: [String]) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for (k, name) in names.enumerated() {
            for ext in ["pb", "npy"] {
                let path = folder.appendingPathComponent("\(prefix)_\(k).\(ext)").path
                if FileManager.default.fileExists(atPath: path), let tensor = try TensorFile.read(path: path).first {
                    result[name] = tensor
                    break
                }
            }
        }
        return result
    }

    static func line(set: String, _ c: OutputComparison) -> String {
        let verdict = c.passed ? "pass" : "FAIL"
        if let problem = c.problem { return "\(verdict)  \(set)  \(c.name): \(problem)" }
        var text = "\(verdict)  \(set)  \(c.name): max abs \(Units.significant(c.maxAbsoluteError)), max rel \(Units.significant(c.maxRelativeError))"
        text += ", \(c.mismatches) of \(c.elements) outside tolerance"
        if let first = c.firstMismatch { text += " (first at \(first))" }
        if let cosine = c.cosineSimilarity { text += ", cosine \(Units.fixed(cosine, digits: 6))" }
        return text
    }
}
