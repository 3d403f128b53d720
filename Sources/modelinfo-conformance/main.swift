import Foundation
import ModelInfo

// Runs the engine over the ONNX node conformance suite in one process and
// prints, per operator, how many cases passed, failed or are unsupported,
// ending with "N passed, M failed" (unsupported counts as failed).
//
//   modelinfo-conformance SUITE_DIR [--filter TEXT] [--baseline FILE [--update-baseline]] [--verbose]
//
// With --baseline, FILE names the cases that must pass, one a line: the run
// fails naming every listed case that does not pass, and lists the cases that
// pass but are not in FILE yet. --update-baseline rewrites FILE with the cases
// that pass now. --verbose lists every failure, grouped by its cause.
//
// The cases run in a worker process that reads case folders from its
// standard input; when a case crashes or hangs the worker, that case is
// recorded as failed and a new worker carries on with the next one.

let tolerance = (absolute: 1e-7, relative: 1e-3)   // as ONNX's backend tests

/// One case's outcome: passed, or the cause of its failure.
enum Outcome: String, CaseIterable {
    case passed
    case noKernel = "operator without a kernel"
    case unsupportedType = "element type not supported"
    case unsupportedFeature = "feature not supported"
    case mismatch = "values differ"
    case error

    /// The cause of a thrown error, decided by its kind.
    init(_ error: ModelError) {
        switch error.kind {
        case .unsupported(op: .some, dtype: _): self = .noKernel
        case .unsupported(op: nil, dtype: .some): self = .unsupportedType
        case .unsupported(op: nil, dtype: nil): self = .unsupportedFeature
        default: self = .error
        }
    }

    /// Whether the engine declined the case rather than running it.
    var isUnsupported: Bool { self == .noKernel || self == .unsupportedType || self == .unsupportedFeature }
}

/// Runs one case folder, the model and every test_data_set_N in it, as
/// `modelinfo verify MODEL --test-data FOLDER --atol 1e-7 --rtol 1e-3` does.
func runCase(_ folder: URL) -> (op: String, outcome: Outcome, detail: String) {
    let model: Model
    do {
        model = try Model.load(path: folder.appendingPathComponent("model.onnx").path).model
    } catch {
        return ("?", .error, "cannot read the model: \(error.message)")
    }
    let op = model.graph.nodes.first { $0.opType != "Constant" }.map { OpRegistry.key(domain: $0.domain, opType: $0.opType) } ?? "Constant"
    let plan: ExecutionPlan
    do {
        plan = try ExecutionPlan(model: model)
    } catch {
        return (op, Outcome(error), error.description)
    }
    let sets = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasPrefix("test_data_set_") }.sorted()
    guard !sets.isEmpty else { return (op, .error, "no test data") }
    for set in sets {
        do {
            let result = try TestDataVerification(model: model, plan: plan, folder: folder.appendingPathComponent(set).path,
                                                  atol: tolerance.absolute, rtol: tolerance.relative, seed: 0,
                                                  options: AnalysisOptions(), context: ExecutionContext(threads: 1))
            guard result.outputs.count == model.graph.outputs.count else {
                return (op, .error, "\(set): \(model.graph.outputs.count - result.outputs.count) outputs have no reference file")
            }
            if let failure = result.outputs.first(where: { !$0.passed }) {
                let why = failure.problem
                    ?? "\(failure.mismatches) of \(failure.elements) elements differ (max abs error \(failure.maxAbsoluteError))"
                return (op, .mismatch, "\(set) \(failure.name): \(why)")
            }
        } catch {
            return (op, Outcome(error), "\(set): \(error)")
        }
    }
    return (op, .passed, "")
}

/// Writes a line to standard output at once, so the driver sees it even if the next case crashes.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Worker: one case folder per line on standard input; for each, a START line, then a result line.
func worker() {
    while let line = readLine() {
        emit("START\t\(line)")
        let result = runCase(URL(fileURLWithPath: line))
        emit("RESULT\t\(line)\t\(result.op)\t\(result.outcome.rawValue)\t\(result.detail.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " "))")
    }
}

/// What the driver learned of one case.
struct CaseResult {
    let path: String
    let op: String
    let outcome: Outcome
    let detail: String

    /// The case's name: its folder's name, as the baseline lists it.
    var name: String { URL(fileURLWithPath: path).lastPathComponent }
}

/// Drives workers over `cases`, restarting one after a crash or a hang.
func drive(_ cases: [String]) -> [CaseResult] {
    var results: [CaseResult] = []
    var remaining = cases[...]
    while !remaining.isEmpty {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: process.executableURL!.path) {
            process.executableURL = Bundle.main.executableURL
        }
        process.arguments = ["--worker"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            FileHandle.standardError.write(Data("cannot start a worker: \(error)\n".utf8))
            exit(1)
        }
        // Fed from another thread: the list outgrows the pipe, and the worker
        // only reads on while its own output is being read here.
        let list = Data(remaining.joined(separator: "\n").utf8 + [10])
        let writer = input.fileHandleForWriting
        Thread.detachNewThread {
            writer.write(list)
            try? writer.close()
        }

        // A case that takes longer than this has hung: the worker is killed.
        let limit: TimeInterval = 120
        let watchdog = Watchdog(process: process, limit: limit)
        var current: String?
        var buffer = Data()
        let reader = output.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                let fields = line.components(separatedBy: "\t")
                if fields.first == "START", fields.count >= 2 {
                    current = fields[1]
                    watchdog.reset()
                } else if fields.first == "RESULT", fields.count >= 5 {
                    results.append(CaseResult(path: fields[1], op: fields[2], outcome: Outcome(rawValue: fields[3]) ?? .error, detail: fields[4]))
                    current = nil
                    remaining = remaining.dropFirst()
                }
            }
        }
        process.waitUntilExit()
        watchdog.stop()
        if let current {
            let why = watchdog.fired ? "hung for more than \(Int(limit)) s" : "crashed the worker (status \(process.terminationStatus))"
            results.append(CaseResult(path: current, op: "?", outcome: .error, detail: why))
            remaining = remaining.dropFirst()
        } else if process.terminationStatus != 0 && !remaining.isEmpty {
            // The worker died between cases: count the next one and move on so the run always ends.
            results.append(CaseResult(path: remaining.first!, op: "?", outcome: .error,
                                      detail: "worker exited with status \(process.terminationStatus)"))
            remaining = remaining.dropFirst()
        }
    }
    return results
}

/// Kills a worker whose current case has run for longer than `limit`.
final class Watchdog: @unchecked Sendable {
    private let process: Process
    private let limit: TimeInterval
    private let lock = NSLock()
    private var deadline: Date
    private var stopped = false
    private(set) var fired = false

    init(process: Process, limit: TimeInterval) {
        self.process = process
        self.limit = limit
        deadline = Date().addingTimeInterval(limit)
        Thread.detachNewThread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                lock.lock()
                let done = stopped
                let late = Date() > deadline
                if late && !done { fired = true }
                lock.unlock()
                if done { return }
                if late {
                    process.terminate()
                    return
                }
            }
        }
    }

    func reset() {
        lock.lock()
        deadline = Date().addingTimeInterval(limit)
        lock.unlock()
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }
}

// MARK: - The baseline

/// The names listed in a baseline file: one a line; blank lines and `#` comments are skipped.
func readBaseline(_ path: String) -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        fail("cannot read the baseline \(path)")
    }
    return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty && !$0.hasPrefix("#") }
}

/// Writes the names of the passing cases as a baseline file.
func writeBaseline(_ names: [String], to path: String) {
    let text = """
        # The ONNX node-suite cases (Tools/onnx-suite) that the engine passes, one a line.
        # Tools/conformance fails when a listed case does not pass; --update-baseline rewrites this file.

        """ + names.sorted().joined(separator: "\n") + "\n"
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        fail("cannot write the baseline \(path): \(error)")
    }
}

func fail(_ message: String, status: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("conformance: \(message)\n".utf8))
    exit(status)
}

// MARK: - Command line

let usage = "usage: modelinfo-conformance SUITE_DIR [--filter TEXT] [--baseline FILE [--update-baseline]] [--verbose]"
var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--worker" {
    worker()
    exit(0)
}
var filter: String?
var baselinePath: String?
var updateBaseline = false
var verbose = false
var suite: String?
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--filter", "--baseline":
        guard !arguments.isEmpty else { fail("\(argument) needs a value\n\(usage)", status: 2) }
        if argument == "--filter" { filter = arguments.removeFirst() } else { baselinePath = arguments.removeFirst() }
    case "--update-baseline": updateBaseline = true
    case "--verbose": verbose = true
    case _ where argument.hasPrefix("-"): fail("unknown option \(argument)\n\(usage)", status: 2)
    default: suite = argument
    }
}
guard let suite else { fail(usage, status: 2) }
if updateBaseline && (baselinePath == nil || filter != nil) {
    fail("--update-baseline rewrites the whole --baseline FILE, so it needs --baseline and no --filter", status: 2)
}
let folder = URL(fileURLWithPath: suite)
let available = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") }
let cases = available.filter { filter.map($0.contains) ?? true }.sorted().map { folder.appendingPathComponent($0).path }
guard !cases.isEmpty else { fail("no cases in \(suite): run Tools/onnx-suite") }

let results = drive(cases)
var perOp: [String: (passed: Int, failed: Int, unsupported: Int)] = [:]
for result in results {
    var counts = perOp[result.op] ?? (0, 0, 0)
    if result.outcome == .passed {
        counts.passed += 1
    } else if result.outcome.isUnsupported {
        counts.unsupported += 1
    } else {
        counts.failed += 1
    }
    perOp[result.op] = counts
}
let width = max(2, perOp.keys.map(\.count).max() ?? 2)
print("op".padding(toLength: width, withPad: " ", startingAt: 0) + "  passed  failed  unsupported")
for (op, counts) in perOp.sorted(by: { $0.key < $1.key }) {
    print(op.padding(toLength: width, withPad: " ", startingAt: 0)
          + String(format: "  %6d  %6d  %11d", counts.passed, counts.failed, counts.unsupported))
}

if verbose {
    for cause in Outcome.allCases where cause != .passed {
        let failures = results.filter { $0.outcome == cause }
        guard !failures.isEmpty else { continue }
        print("\n\(cause.rawValue) (\(failures.count))")
        for failure in failures { print("  \(failure.name)\t\(failure.detail)") }
    }
    print()
}

let passing = Set(results.filter { $0.outcome == .passed }.map(\.name))
var baselineBroken = false
if let baselinePath, updateBaseline {
    writeBaseline(Array(passing), to: baselinePath)
    print("wrote \(passing.count) passing cases to \(baselinePath)")
} else if let baselinePath {
    let listed = readBaseline(baselinePath)
    let ran = Dictionary(results.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let suiteNames = Set(available)
    for name in listed where filter.map(name.contains) ?? true {
        if let result = ran[name] {
            guard result.outcome != .passed else { continue }
            baselineBroken = true
            FileHandle.standardError.write(Data("conformance: listed case \(name) does not pass: \(result.outcome.rawValue): \(result.detail)\n".utf8))
        } else if !suiteNames.contains(name) {
            baselineBroken = true
            FileHandle.standardError.write(Data("conformance: listed case \(name) is not in \(suite)\n".utf8))
        }
    }
    let unlisted = passing.subtracting(listed).sorted()
    if !unlisted.isEmpty {
        print("\(unlisted.count) cases pass but are not listed in \(baselinePath) yet (add them with --update-baseline):")
        for name in unlisted { print("  \(name)") }
    }
}
print("\(passing.count) passed, \(results.count - passing.count) failed")
if baselineBroken { fail("listed cases do not pass (see above); the list is \(baselinePath ?? "")") }
