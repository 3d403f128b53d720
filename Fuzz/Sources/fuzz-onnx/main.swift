import FuzzSupport
import ModelInfo

let input = InputFile(extension: "onnx")

/// What `modelinfo FILE --json` does with a file: load, analyse, report.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    input.write(fuzzInput(data, count))
    guard let loaded = try? Model.load(path: input.path), let analysis = try? Analyzer.analyze(loaded.model) else { return 0 }
    for key in GroupingKey.allCases {
        _ = AnalysisReport(summary: ModelSummary(loaded, totals: analysis.totals), analysis: analysis, groupBy: key)
    }
    _ = try? LanguageModelFigures.measure(loaded.model, analysis: analysis, options: AnalysisOptions())
    return 0
}
