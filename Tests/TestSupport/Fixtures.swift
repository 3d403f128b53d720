import Foundation
import ModelInfo

/// Locations of the committed fixtures and generated test data.
public enum Fixtures {
    /// The repository root, found from this source file's location.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // TestSupport
        .deletingLastPathComponent()   // Tests
        .deletingLastPathComponent()

    /// `Fixtures/<relative>`.
    public static func path(_ relative: String) -> String {
        root.appendingPathComponent("Fixtures").appendingPathComponent(relative).path
    }

    /// The ONNX node conformance suite written by `Tools/onnx-suite`.
    public static var onnxSuite: URL { root.appendingPathComponent(".generated/onnx-node") }

    /// Paths of every `model.onnx` in the generated suite, sorted; empty if it was not generated.
    public static func onnxSuiteModels() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: onnxSuite.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
            .map { onnxSuite.appendingPathComponent($0).appendingPathComponent("model.onnx").path }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// A fresh temporary folder, removed by the caller with `removeItem`.
    public static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("modelinfo-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The bytes of a fixture file.
    public static func bytes(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path(relative))))
    }
}

/// Reads a model from bytes in memory by writing them to a temporary file.
public func loadModel(bytes: [UInt8], in folder: URL, name: String = "mutant.onnx") throws -> Model {
    let url = folder.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return try ONNXReader.read(path: url.path)
}
