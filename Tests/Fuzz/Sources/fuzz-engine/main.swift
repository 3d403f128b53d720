import FuzzSupport
import ModelInfo

let input = InputFile(extension: "onnx")

/// The engine's limits for the fuzzer: 256 MiB of live tensors (under
/// libFuzzer's 2 GiB RSS limit, with room for the sanitizer) and 1,000 Loop
/// iterations; one thread, so a run is reproducible.
let engineContext: ExecutionContext = {
    EngineMemory.limit = 256 << 20
    return ExecutionContext(threads: 1, maximumLoopIterations: 1_000)
}()

/// Inputs whose counted work passes this are not run: they are slow, not
/// wrong, and would stop the campaign as timeouts. Uncounted nodes are run.
let maximumFLOPs = 200_000_000

/// What `modelinfo run FILE` does: load, plan, make seeded random inputs, run.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEngine(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let context = engineContext  // sets the limit before planning allocates
    input.write(fuzzInput(data, count))
    guard let loaded = try? Model.load(path: input.path) else { return 0 }
    if let analysis = try? Analyzer.analyze(loaded.model), analysis.totals.flops > maximumFLOPs { return 0 }
    guard let plan = try? ExecutionPlan(model: loaded.model),
          let feeds = try? ModelInputs.values(for: loaded.model, options: AnalysisOptions(), seed: 1, given: [:]) else { return 0 }
    _ = try? plan.run(values: feeds, context: context)
    return 0
}
