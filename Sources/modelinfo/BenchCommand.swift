import ArgumentParser
import Dispatch
import FoundationEssentials
import ModelInfo

/// `modelinfo bench MODEL`: latency of the engine alone.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the engine on a model (loading and planning excluded).",
        discussion: "Runs twice to warm up, then --runs times on seeded random inputs; reports min and median latency and GFLOP/s from the analysis's FLOPs."
    )

    @Argument(help: "The model file (.onnx), or zoo:NAME.")
    var model: String

    @Option(help: "Timed runs.")
    var runs: Int = 10

    @Option(help: "Threads for the engine (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var analysisArguments: AnalysisArguments

    struct Result: Encodable {
        var model: String
        var runs: Int
        var threads: Int
        var minMs: Double
        var medianMs: Double
        var flops: Int
        var gflops: Double
    }

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let loaded = try Model.load(path: model)
        var options = try analysisArguments.options()
        let feeds = try ModelInputs.random(for: loaded.model, options: options, seed: 0)
        options.inputShapes = feeds.mapValues(\.shape)
        let flops = try Analyzer.analyze(loaded.model, options: options).totals.flops
        let plan = try ExecutionPlan(model: loaded.model)
        let context = ExecutionContext(threads: threads)
        for _ in 0..<2 { _ = try plan.run(feeds, context: context) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try plan.run(feeds, context: context)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        let result = Result(model: model, runs: runs, threads: threads, minMs: times[0], medianMs: times[times.count / 2],
                            flops: flops, gflops: Double(flops) / (times[0] * 1e6))
        if json {
            print(try JSONText.encode(result))
        } else {
            print("\(model): min \(Units.fixed(result.minMs, digits: 2)) ms, median \(Units.fixed(result.medianMs, digits: 2)) ms over \(runs) runs, \(threads) threads; \(Units.scaled(flops)) FLOPs → \(Units.fixed(result.gflops, digits: 1)) GFLOP/s")
        }
    }
}
