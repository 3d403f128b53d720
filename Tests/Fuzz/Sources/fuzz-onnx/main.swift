import FuzzSupport
import ModelInfo

let input = InputFile(extension: "onnx")
let converted = InputFile(extension: "swm")

/// What `modelinfo FILE --json` does with a file: load, analyse, report;
/// then what `modelinfo convert FILE OUT.swm` and `check OUT.swm` do. The
/// input's length picks the weights' encoding, so every encoder is reached.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    input.write(fuzzInput(data, count))
    guard let loaded = try? Model.load(path: input.path) else { return 0 }
    if let analysis = try? Analyzer.analyze(loaded.model) {
        for key in GroupingKey.allCases {
            _ = AnalysisReport(summary: ModelSummary(loaded, totals: analysis.totals), analysis: analysis, groupBy: key)
        }
        _ = try? LanguageModelFigures.measure(loaded.model, analysis: analysis, options: AnalysisOptions())
    }
    let writers = [SWMWriter(), SWMWriter(weights: .f16, compress: true), SWMWriter(weights: .int8)]
    if (try? Conversion.convert(loaded, to: converted.path, target: .swm, writer: writers[count % writers.count], optionsText: "")) != nil {
        checkSWM(converted)
    }
    return 0
}
