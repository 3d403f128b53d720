import Foundation
import ModelInfo
import Testing
import TestSupport

/// The engine against onnxruntime: committed fixtures with their reference
/// outputs, and zoo models whose references `Tools/make-reference-outputs`
/// writes into `.generated/reference`.
@Suite struct ReferenceOutputTests {
    static let tolerance = (absolute: 1e-4, relative: 1e-3)

    /// Runs the model of `folder` on every test_data_set and compares each output.
    static func verify(model path: String, data folder: URL) throws {
        let model = try ONNXReader.read(path: path)
        let plan = try ExecutionPlan(model: model)
        let sets = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("test_data_set_") }
        try #require(!sets.isEmpty, "no test data in \(folder.path)")
        for set in sets {
            let data = folder.appendingPathComponent(set)
            var feeds: [String: EngineTensor] = [:]
            for (k, name) in plan.inputNames.enumerated() {
                feeds[name] = try EngineTensor(try ONNXReader.readTensor(path: data.appendingPathComponent("input_\(k).pb").path))
            }
            let outputs = try plan.run(feeds, context: ExecutionContext(threads: 2))
            for (k, name) in plan.outputNames.enumerated() {
                let expected = try ONNXReader.readTensor(path: data.appendingPathComponent("output_\(k).pb").path)
                let actual = try #require(outputs[name])
                let comparison = OutputComparison(name: name, actual: try actual.stored(name: name), expected: expected,
                                                  atol: tolerance.absolute, rtol: tolerance.relative)
                #expect(comparison.passed, "\(path) \(set) \(name): \(comparison.problem ?? "") \(comparison.mismatches) mismatches, max abs \(comparison.maxAbsoluteError), max rel \(comparison.maxRelativeError)")
            }
        }
    }

    @Test(arguments: [("valid/tiny-cnn.onnx", "valid/tiny-cnn"), ("valid/control-flow.onnx", "valid/control-flow"),
                      ("valid/external/model.onnx", "valid/external")])
    func committedFixtureMatchesOnnxruntime(_ model: String, _ data: String) throws {
        try Self.verify(model: Fixtures.path(model), data: URL(fileURLWithPath: Fixtures.path(data)))
    }

    /// Every zoo architecture (Tools/make-reference-outputs writes them all).
    @Test(arguments: Zoo.architectures.map(\.name))
    func zooModelMatchesOnnxruntime(_ name: String) throws {
        let folder = Fixtures.root.appendingPathComponent(".generated/reference/\(name)")
        try #require(FileManager.default.fileExists(atPath: folder.appendingPathComponent("test_data_set_0/output_0.pb").path),
                     "no reference outputs for \(name): run Tools/make-reference-outputs")
        try Self.verify(model: folder.appendingPathComponent("model.onnx").path, data: folder)
    }

    /// The zoo's ViT-B/16 as onnxruntime's transformer optimizer rewrites it
    /// (com.microsoft Attention, SkipLayerNormalization, BiasGelu…), against
    /// onnxruntime; `Tools/make-optimized-models` writes both.
    @Test func optimizedTransformerMatchesOnnxruntime() throws {
        let folder = Fixtures.root.appendingPathComponent(".generated/optimized/vit_b_16.optimized")
        try #require(FileManager.default.fileExists(atPath: folder.appendingPathComponent("test_data_set_0/output_0.pb").path),
                     "no reference outputs for the optimized ViT-B/16: run Tools/make-optimized-models")
        try Self.verify(model: folder.appendingPathComponent("model.onnx").path, data: folder)
    }

    @Test func planRefusesAnUnknownOperatorBeforeRunning() throws {
        let model = Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)],
                          graph: Graph(nodes: [Node(name: "odd", opType: "NoSuchOp", inputs: ["x"], outputs: ["y"])],
                                       inputs: [ValueInfo(name: "x", type: .tensor(.float, [1]))], outputs: [ValueInfo(name: "y")]))
        #expect {
            _ = try ExecutionPlan(model: model)
        } throws: { error in
            let text = (error as? ModelError)?.description ?? ""
            return text.contains("NoSuchOp") && text.contains("'odd'")
        }
    }
}
