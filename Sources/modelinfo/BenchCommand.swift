import ArgumentParser
import Dispatch
import FoundationEssentials
import ModelInfo

/// `modelinfo bench MODEL`: latency of the engine alone.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the engine on a model (loading and planning excluded).",
        discussion: """
            Runs --warmup times untimed, then --runs times; reports the minimum, median, 90th and 99th percentile \
            latency and GFLOP/s from the analysis's FLOPs over the minimum. Inputs come from --input or seeded \
            random data; an open input dimension other than the first (batch, default 1) needs --input-shape, \
            since timing a made-up shape would mean nothing.
            """
    )

    @Argument(help: "The model file (.onnx or .swm), or zoo:NAME.")
    var model: String

    @Option(help: "Timed runs.")
    var runs: Int = 10

    @Option(help: "Untimed runs before the timed ones.")
    var warmup: Int = 2

    @OptionGroup var inputArguments: InputArguments

    @OptionGroup var engineArguments: EngineArguments

    @Flag(help: "Print one JSON object.")
    var json = false

    @OptionGroup var analysisArguments: AnalysisArguments

    struct Result: Encodable {
        var model: String
        var inputs: [InputUse]
        var runs: Int
        var warmup: Int
        var threads: Int
        var minMs: Double
        var medianMs: Double
        var p90Ms: Double
        var p99Ms: Double
        var flops: Int
        var gflops: Double
    }

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be at least 0") }
    }

    func run() throws {
        // First: the context sets the engine's memory limit, which planning and inputs already count against.
        let context = engineArguments.context()
        let loaded = try Model.load(path: model)
        var options = try analysisArguments.options()
        let (feeds, uses) = try inputArguments.feeds(for: loaded.model, options: options)
        options.inputShapes = feeds.compactMapValues { if case .tensor(let tensor) = $0 { tensor.shape } else { nil } }
        let flops = try Analyzer.analyze(loaded.model, options: options).totals.flops
        let plan = try ExecutionPlan(model: loaded.model)
        for _ in 0..<warmup { _ = try plan.run(values: feeds, context: context) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try plan.run(values: feeds, context: context)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        // Nearest-rank percentiles: with few runs, p99 is the slowest run.
        func percentile(_ p: Double) -> Double { times[min(times.count - 1, max(0, Int((p * Double(times.count)).rounded(.up)) - 1))] }
        let result = Result(model: model, inputs: uses, runs: runs, warmup: warmup, threads: context.threads, minMs: times[0],
                            medianMs: percentile(0.5), p90Ms: percentile(0.9), p99Ms: percentile(0.99),
                            flops: flops, gflops: Double(flops) / (times[0] * 1e6))
        if json {
            print(try JSONText.encode(result))
            return
        }
        for use in uses { print("input   \(use.text)") }
        let ms = { (value: Double) in Units.fixed(value, digits: 2) }
        print("\(model): min \(ms(result.minMs)) ms, median \(ms(result.medianMs)) ms, p90 \(ms(result.p90Ms)) ms, "
              + "p99 \(ms(result.p99Ms)) ms over \(runs) run\(runs == 1 ? "" : "s") (\(warmup) warm-up), "
              + "\(context.threads) thread\(context.threads == 1 ? "" : "s"); "
              + "\(Units.scaled(flops)) FLOPs → \(Units.fixed(result.gflops, digits: 1)) GFLOP/s")
    }
}
