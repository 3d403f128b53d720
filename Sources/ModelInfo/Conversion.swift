import Dispatch
import FoundationEssentials

/// The format `Conversion.convert` writes.
public enum ConversionTarget: String, Sendable, CaseIterable {
    case onnx
    case swm

    /// The target an output path's extension names (`.onnx`, `.swm`), if any.
    public init?(path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".swm") { self = .swm } else if lower.hasSuffix(".onnx") { self = .onnx } else { return nil }
    }
}

/// What a conversion wrote.
public struct ConversionReport: Sendable {
    public var inputBytes: Int
    public var outputBytes: Int
    public var seconds: Double
    /// For a `.swm` target: what the writer stored.
    public var swm: SWMWriteSummary?
}

/// Converting a model between ONNX and `.swm`.
public enum Conversion {
    /// The program and version written into a `.swm` file's provenance.
    public static let converterName = "modelinfo \(ModelInfoVersion.current)"

    /// Past this much tensor data an ONNX target keeps its weights in a side
    /// file: a protobuf message cannot exceed 2 GB.
    static let onnxInlineLimit = 1_800_000_000

    /// Writes `loaded` to `path` as `target`. For `.swm`, `writer` picks the
    /// encodings and `optionsText` is recorded in the provenance; the source
    /// file's SHA-256 is computed on another thread while the file is written.
    public static func convert(_ loaded: LoadedModel, to path: String, target: ConversionTarget, writer: SWMWriter,
                               optionsText: String, progress: @escaping (Int, Int) -> Void = { _, _ in }) throws(ModelError) -> ConversionReport {
        let clock = ContinuousClock()
        let start = clock.now
        let inputBytes = loaded.format == .zoo ? loaded.model.graph.initializers.reduce(0) { $0 + $1.byteCount } : loaded.fileBytes
        var summary: SWMWriteSummary?
        switch target {
        case .swm:
            let digest = loaded.format == .zoo ? nil : SourceDigest(path: loaded.path)
            summary = try writer.write(loaded.model, to: path, provenance: {
                Provenance(sourceName: StagedFile.split(loaded.path).name, sourceSHA256: digest?.value() ?? "",
                           converter: converterName, options: optionsText)
            }, progress: progress)
        case .onnx:
            let tensorBytes = loaded.model.graph.initializers.reduce(0) { $0 + $1.byteCount }
            let policy = tensorBytes > onnxInlineLimit ? ExternalDataPolicy(location: StagedFile.split(path).name + ".data") : nil
            try ONNXWriter(externalData: policy).write(loaded.model, to: path)
        }
        let seconds = (clock.now - start) / .seconds(1)
        let outputBytes = MappedFile.size(of: path) ?? 0
        return ConversionReport(inputBytes: inputBytes, outputBytes: outputBytes, seconds: seconds, swm: summary)
    }
}

/// The SHA-256 of a file, computed on a background thread from the moment
/// this is made; `value()` waits for it.
final class SourceDigest: @unchecked Sendable {
    private let group = DispatchGroup()
    // Written once on the background thread before `group` is left.
    private var digest = ""

    init(path: String) {
        DispatchQueue.global().async(group: group) { [self] in
            guard let file = try? MappedFile(path: path) else { return }
            digest = SHA256.hex(of: file.bytes)
        }
    }

    func value() -> String {
        group.wait()
        return digest
    }
}
