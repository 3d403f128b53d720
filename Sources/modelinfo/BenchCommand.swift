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

            --profile times every step of the plan (a node, or nodes the engine fused) over --runs runs, \
            alternating with untimed runs, and prints each step's median time and share beside the FLOPs and \
            bytes the analysis counts for it, the GFLOP/s and GB/s it reaches, and whether it is compute- or \
            memory-bound against this machine's SGEMM FLOP/s and copy bandwidth, measured first. \
            --group-by op|stage|resolution sums the steps by the analysis's groups.
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

    @Flag(help: "Time each step and set it beside its counted FLOPs and bytes.")
    var profile = false

    @Option(name: .customLong("group-by"), help: "With --profile: sum the steps by op, stage or resolution.")
    var groupBy: GroupingKey?

    @Option(help: "With --profile, in text: the slowest steps (or groups) shown; 0 shows all.")
    var top = 25

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
        guard top >= 0 else { throw ValidationError("--top must be at least 0") }
        guard profile || groupBy == nil else { throw ValidationError("--group-by needs --profile") }
    }

    func run() throws {
        // First: the context sets the engine's memory limit, which planning and inputs already count against.
        let context = engineArguments.context()
        let loaded = try Model.load(path: model)
        var options = try analysisArguments.options()
        let (feeds, uses) = try inputArguments.feeds(for: loaded.model, options: options)
        options.inputShapes = feeds.compactMapValues { if case .tensor(let tensor) = $0 { tensor.shape } else { nil } }
        let analysis = try Analyzer.analyze(loaded.model, options: options)
        let flops = analysis.totals.flops
        let plan = try ExecutionPlan(model: loaded.model)
        for _ in 0..<warmup { _ = try plan.run(values: feeds, context: context) }
        if profile {
            try printProfile(plan: plan, analysis: analysis, feeds: feeds, uses: uses, context: context)
            return
        }
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

extension BenchCommand {
    /// `--profile`: untimed and step-timed runs alternate, so that both see the same machine state.
    func printProfile(plan: ExecutionPlan, analysis: ModelAnalysis, feeds: [String: EngineValue], uses: [InputUse],
                      context: ExecutionContext) throws {
        let peaks = try MachinePeaks.measure(context)
        var plain: [Double] = [], profiled: [Double] = [], steps: [[UInt64]] = []
        func milliseconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        for _ in 0..<runs {
            var start = DispatchTime.now().uptimeNanoseconds
            _ = try plan.run(values: feeds, context: context)
            plain.append(milliseconds(since: start))
            start = DispatchTime.now().uptimeNanoseconds
            steps.append(try plan.runTimingSteps(feeds, context: context).stepNanoseconds)
            profiled.append(milliseconds(since: start))
        }
        let result = Profile(plan: plan, analysis: analysis, stepNanoseconds: steps, runMs: (plain, profiled),
                             threads: context.threads, peaks: peaks, groupBy: groupBy)
        if json {
            print(try JSONText.encode(result))
            return
        }
        for use in uses { print("input   \(use.text)") }
        print(Self.profileText(result, model: model, top: top))
    }

    static func profileText(_ profile: Profile, model: String, top: Int) -> String {
        let ms = { (value: Double) in Units.fixed(value, digits: 2) }
        let overhead = (profile.overheadPercent >= 0 ? "+" : "") + Units.fixed(profile.overheadPercent, digits: 1)
        var text = "profile \(model), \(profile.threads) thread\(profile.threads == 1 ? "" : "s"), \(profile.runs) run\(profile.runs == 1 ? "" : "s"): "
            + "median \(ms(profile.medianMs)) ms untimed, \(ms(profile.profiledMs)) ms with steps timed (\(overhead)%); "
            + "step medians sum to \(ms(profile.stepsMs)) ms\n"
        text += "machine SGEMM \(Units.fixed(profile.peaks.gemmFlopsPerSecond / 1e9, digits: 1)) GFLOP/s, copy "
            + "\(Units.fixed(profile.peaks.memoryBytesPerSecond / 1e9, digits: 1)) GB/s: compute-bound above "
            + "\(Units.fixed(profile.peaks.balance, digits: 1)) FLOP/byte\n"
        func percent(_ share: Double) -> String { Units.fixed(share * 100, digits: 1) + "%" }
        var table: Table
        var shown: Int, total: Int, notes: [String] = []
        if let groups = profile.groups {
            table = Table([("group", .left), ("steps", .right), ("ms", .right), ("share", .right), ("FLOPs", .right),
                           ("GFLOP/s", .right), ("bytes", .right), ("bound", .left)])
            let rows = top == 0 ? groups : Array(groups.prefix(top))
            for group in rows {
                table.rows.append([group.key, String(group.steps), ms(group.ms), percent(group.share), Units.scaled(group.flops),
                                   Units.fixed(group.gflops, digits: 1), Units.scaled(group.bytes), group.bound])
            }
            (shown, total) = (rows.count, groups.count)
        } else {
            table = Table([("node", .left), ("op", .left), ("ms", .right), ("share", .right), ("FLOPs", .right),
                           ("GFLOP/s", .right), ("bytes", .right), ("GB/s", .right), ("bound", .left)])
            let slowest = profile.nodes.sorted { $0.ms > $1.ms }
            let rows = top == 0 ? slowest : Array(slowest.prefix(top))
            for node in rows {
                table.rows.append([Units.shortened(node.name, limit: 48), node.op, ms(node.ms), percent(node.share),
                                   node.uncounted == nil ? Units.scaled(node.flops) : "?",
                                   Units.fixed(node.gflops, digits: 1), Units.scaled(node.bytes),
                                   Units.fixed(node.gbPerSecond, digits: 1), node.bound])
            }
            (shown, total) = (rows.count, profile.nodes.count)
            notes = rows.compactMap { $0.uncounted.map { "  ? not counted: \($0)\n" } }
        }
        text += table.text() + notes.joined()
        if shown < total { text += "  … \(total - shown) more (--top 0 shows all)\n" }
        return text
    }
}
