import Foundation
import ModelInfo

// Runs the engine over the ONNX node conformance suite in one process and
// prints, per operator, how many cases passed, failed or are unsupported,
// ending with "N passed, M failed" (unsupported counts as failed).
//
//   modelinfo-conformance SUITE_DIR [--filter TEXT] [--minimum N] [--verbose]
//
// The cases run in a worker process that reads case folders from its
// standard input; when a case crashes or hangs the worker, that case is
// recorded as failed and a new worker carries on with the next one.

let tolerance = (absolute: 1e-7, relative: 1e-3)   // as ONNX's backend tests

/// One case's outcome.
enum Outcome: String {
    case passed, failed, unsupported
}

/// Runs one case folder: the model and every test_data_set_N in it.
func runCase(_ folder: URL) -> (op: String, outcome: Outcome, detail: String) {
    let modelPath = folder.appendingPathComponent("model.onnx").path
    let model: Model
    do {
        model = try ONNXReader.read(path: modelPath)
    } catch {
        return ("?", .failed, "cannot read the model: \(error.message)")
    }
    let op = model.graph.nodes.first { $0.opType != "Constant" }.map { OpRegistry.key(domain: $0.domain, opType: $0.opType) } ?? "Constant"
    let plan: ExecutionPlan
    do {
        plan = try ExecutionPlan(model: model)
    } catch {
        return (op, .unsupported, error.description)
    }
    let sets = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasPrefix("test_data_set_") }.sorted()
    guard !sets.isEmpty else { return (op, .failed, "no test data") }
    let inputs = model.graph.runtimeInputs
    for set in sets {
        let data = folder.appendingPathComponent(set)
        var feeds: [String: EngineTensor] = [:]
        do {
            for (k, input) in inputs.enumerated() {
                let path = data.appendingPathComponent("input_\(k).pb").path
                guard FileManager.default.fileExists(atPath: path) else { continue }
                guard case .tensor? = input.type else { return (op, .unsupported, "input '\(input.name)' is not a tensor") }
                feeds[input.name] = try EngineTensor(try ONNXReader.readTensor(path: path))
            }
            let results = try plan.run(feeds, context: ExecutionContext(threads: 1))
            for (k, output) in model.graph.outputs.enumerated() {
                guard case .tensor? = output.type else { return (op, .unsupported, "output '\(output.name)' is not a tensor") }
                let expected = try ONNXReader.readTensor(path: data.appendingPathComponent("output_\(k).pb").path)
                guard let actual = results[output.name] else { return (op, .failed, "output '\(output.name)' missing") }
                let comparison = OutputComparison(name: output.name, actual: try actual.stored(name: output.name), expected: expected,
                                                  atol: tolerance.absolute, rtol: tolerance.relative)
                if !comparison.passed {
                    let why = comparison.problem ?? "\(comparison.mismatches) of \(comparison.elements) elements differ (max abs error \(comparison.maxAbsoluteError))"
                    return (op, .failed, "\(set) \(output.name): \(why)")
                }
            }
        } catch {
            let unsupported = error.message.contains("this kernel runs") || error.message.contains("the engine runs")
            return (op, unsupported ? .unsupported : .failed, "\(set): \(error)")
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

/// Drives workers over `cases`, restarting one after a crash or a hang.
func drive(_ cases: [String], verbose: Bool) -> [(name: String, op: String, outcome: Outcome, detail: String)] {
    var results: [(name: String, op: String, outcome: Outcome, detail: String)] = []
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
                    let result = (name: fields[1], op: fields[2], outcome: Outcome(rawValue: fields[3]) ?? .failed, detail: fields[4])
                    results.append(result)
                    if verbose { print("\(result.outcome.rawValue)\t\(URL(fileURLWithPath: result.name).lastPathComponent)\t\(result.detail)") }
                    current = nil
                    remaining = remaining.dropFirst()
                }
            }
        }
        process.waitUntilExit()
        watchdog.stop()
        if let current {
            let why = watchdog.fired ? "hung for more than \(Int(limit)) s" : "crashed the worker (status \(process.terminationStatus))"
            results.append((current, "?", .failed, why))
            if verbose { print("failed\t\(URL(fileURLWithPath: current).lastPathComponent)\t\(why)") }
            remaining = remaining.dropFirst()
        } else if process.terminationStatus != 0 && !remaining.isEmpty {
            // The worker died between cases: count the next one and move on so the run always ends.
            results.append((remaining.first!, "?", .failed, "worker exited with status \(process.terminationStatus)"))
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

// MARK: - Command line

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--worker" {
    worker()
    exit(0)
}
var filter: String?
var minimum: Int?
var verbose = false
var suite: String?
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--filter": filter = arguments.isEmpty ? nil : arguments.removeFirst()
    case "--minimum": minimum = arguments.isEmpty ? nil : Int(arguments.removeFirst())
    case "--verbose": verbose = true
    default: suite = argument
    }
}
guard let suite else {
    FileHandle.standardError.write(Data("usage: modelinfo-conformance SUITE_DIR [--filter TEXT] [--minimum N] [--verbose]\n".utf8))
    exit(2)
}
let folder = URL(fileURLWithPath: suite)
let cases = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
    .filter { !$0.hasPrefix(".") && (filter.map($0.contains) ?? true) }
    .sorted()
    .map { folder.appendingPathComponent($0).path }
guard !cases.isEmpty else {
    FileHandle.standardError.write(Data("no cases in \(suite): run Tools/onnx-suite\n".utf8))
    exit(1)
}

let results = drive(cases, verbose: verbose)
var perOp: [String: (passed: Int, failed: Int, unsupported: Int)] = [:]
for result in results {
    var counts = perOp[result.op] ?? (0, 0, 0)
    switch result.outcome {
    case .passed: counts.passed += 1
    case .failed: counts.failed += 1
    case .unsupported: counts.unsupported += 1
    }
    perOp[result.op] = counts
}
let width = max(2, perOp.keys.map(\.count).max() ?? 2)
print("op".padding(toLength: width, withPad: " ", startingAt: 0) + "  passed  failed  unsupported")
for (op, counts) in perOp.sorted(by: { $0.key < $1.key }) {
    print(op.padding(toLength: width, withPad: " ", startingAt: 0)
          + String(format: "  %6d  %6d  %11d", counts.passed, counts.failed, counts.unsupported))
}
let passed = results.filter { $0.outcome == .passed }.count
print("\(passed) passed, \(results.count - passed) failed")
if let minimum, passed < minimum {
    FileHandle.standardError.write(Data("conformance: \(passed) passed, below the recorded \(minimum)\n".utf8))
    exit(1)
}
