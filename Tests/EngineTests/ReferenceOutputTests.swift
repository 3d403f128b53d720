import Foundation
import ModelInfo
import Testing
import TestSupport

/// The engine against onnxruntime: committed fixtures with their reference
/// outputs, and zoo models whose references `Tools/make-reference-outputs`
/// writes into `.generated/reference`.
@Suite struct ReferenceOutputTests {
    static let tolerance = (absolute: 1e-4, relative: 1e-3)

    /// Runs the model of `folder` on every test_data_set and compares each
    /// output, as `modelinfo verify` does; every output must have a reference.
    static func verify(model path: String, data folder: URL) throws {
        let model = try Model.load(path: path).model
        let plan = try ExecutionPlan(model: model)
        let sets = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("test_data_set_") }
        try #require(!sets.isEmpty, "no test data in \(folder.path)")
        for set in sets {
            let result = try TestDataVerification(model: model, plan: plan, folder: folder.appendingPathComponent(set).path,
                                                  atol: tolerance.absolute, rtol: tolerance.relative, seed: 0,
                                                  options: AnalysisOptions(), context: ExecutionContext(threads: 2))
            #expect(result.outputs.map(\.name) == plan.outputNames, "\(path) \(set): outputs without a reference")
            for comparison in result.outputs {
                #expect(comparison.passed, "\(path) \(set) \(comparison.name): \(comparison.problem ?? "") \(comparison.mismatches) mismatches, max abs \(comparison.maxAbsoluteError), max rel \(comparison.maxRelativeError)")
            }
        }
    }

    @Test(arguments: [("valid/tiny-cnn.onnx", "valid/tiny-cnn"), ("valid/control-flow.onnx", "valid/control-flow"),
                      ("valid/external/model.onnx", "valid/external")])
    func committedFixtureMatchesOnnxruntime(_ model: String, _ data: String) throws {
        try Self.verify(model: Fixtures.path(model), data: URL(fileURLWithPath: Fixtures.path(data)))
    }

    /// Files as today's exporters write them (`Tools/real-exports.py`): a
    /// voice-activity model whose STFT is a 1-D convolution inside an If
    /// (TorchScript exporter), and transformers' GPT-2 and Llama with grouped
    /// key/value heads (dynamo exporter; the second Llama at opset 23, with
    /// the ONNX Attention and RMSNormalization operators).
    @Test(arguments: ["vad_if_conv1d", "gpt2", "llama_gqa", "llama_gqa_opset23"])
    func exportedModelMatchesOnnxruntime(_ name: String) throws {
        let folder = URL(fileURLWithPath: Fixtures.path("real-exports/\(name)"))
        try Self.verify(model: folder.appendingPathComponent("model.onnx").path, data: folder)
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

    /// onnxruntime's contrib operators as its own tools write them
    /// (GroupQueryAttention nodes; a dynamically quantised MLP before and after
    /// onnxruntime fused it into DynamicQuantizeMatMul), against onnxruntime;
    /// `Tools/make-contrib-cases` writes them.
    @Test(arguments: ["gqa_prompt", "gqa_prompt_packed_rotary", "gqa_decode", "gqa_decode_rotary_interleaved", "gqa_window_softcap",
                      "gqa_float16", "mlp_dynamic_int8", "mlp_dynamic_int8_fused", "mlp_dynamic_uint8", "mlp_dynamic_uint8_fused"])
    func contribCaseMatchesOnnxruntime(_ name: String) throws {
        let folder = Fixtures.root.appendingPathComponent(".generated/contrib-cases/\(name)")
        try #require(FileManager.default.fileExists(atPath: folder.appendingPathComponent("test_data_set_0/output_0.pb").path),
                     "no reference outputs for \(name): run Tools/make-contrib-cases")
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
