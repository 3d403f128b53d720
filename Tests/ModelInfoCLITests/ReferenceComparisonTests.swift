import Foundation
import ModelInfo
import Testing
import TestSupport

/// `verify MODEL --reference OTHER`: a model against itself passes at every
/// value; with one convolution's weights scaled, the first divergence is that
/// convolution's fused group, and its inputs were within tolerance.
@Suite struct ReferenceComparisonTests {
    struct Output: Decodable {
        struct Value: Decodable {
            let name: String, op: String, output: String, maxAbsError: Double, withinTolerance: Bool
        }
        struct Divergence: Decodable {
            let node: String, op: String, output: String, inputs: [Value]
        }
        let firstDivergence: Divergence?
        let nodes: [Value]
    }

    func verify(_ model: String, against reference: String) throws -> (status: Int32, output: Output) {
        let result = try CommandLineTool.run(["verify", model, "--reference", reference, "--json", "--threads", "1"])
        return (result.status, try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8)))
    }

    @Test func aScaledConvolutionIsTheFirstDivergence() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.onnx").path, bad = folder.appendingPathComponent("bad.onnx").path
        let zoo = try CommandLineTool.run(["zoo", "resnet18", "-o", good])
        #expect(zoo.status == 0, "\(zoo.stderr)")

        var model = try Model.load(path: good).model
        let convs = model.graph.nodes.filter { $0.opType == "Conv" }
        let target = convs[5]
        let index = try #require(model.graph.initializers.firstIndex { $0.name == target.inputs[1] })
        let weights = model.graph.initializers[index]
        let scaled = try weights.doubleValues().map { Float($0 * 1.5) }
        model.graph.initializers[index] = try EngineTensor.holding(scaled, .float, weights.dims).stored(name: weights.name)
        try ONNXWriter().write(model, to: bad)

        let same = try verify(good, against: good)
        #expect(same.status == 0 && same.output.firstDivergence == nil)
        #expect(same.output.nodes.count > 20 && same.output.nodes.allSatisfy { $0.withinTolerance && $0.maxAbsError == 0 })

        let faulty = try verify(bad, against: good)
        #expect(faulty.status == 1)
        let first = try #require(faulty.output.firstDivergence)
        #expect(first.node == target.name, "first divergence at \(first.node), \(first.op); the scaled Conv is \(target.name)")
        #expect(first.op.hasPrefix("Conv"))
        #expect(!first.inputs.isEmpty && first.inputs.allSatisfy { $0.withinTolerance })
        // Every value before it matched.
        let position = try #require(faulty.output.nodes.firstIndex { $0.output == first.output })
        #expect(faulty.output.nodes[..<position].allSatisfy { $0.withinTolerance })
    }

    /// A real export (torch's, of a voice-activity model with an If and an
    /// LSTM) with output channel 3 of its second Conv scaled by 1.5.
    @Test func aRealExportsPerturbedConvolutionIsTheFirstDivergence() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = Fixtures.path("real-exports/vad_if_conv1d/model.onnx"), bad = folder.appendingPathComponent("bad.onnx").path
        var model = try Model.load(path: good).model
        let index = try #require(model.graph.initializers.firstIndex { $0.name == "encoder.2.weight" })
        let weights = model.graph.initializers[index]
        let perChannel = weights.dims.dropFirst().reduce(1, *)
        let scaled = try weights.doubleValues().enumerated().map { i, w in Float(i / perChannel == 3 ? w * 1.5 : w) }
        model.graph.initializers[index] = try EngineTensor.holding(scaled, .float, weights.dims).stored(name: weights.name)
        try ONNXWriter().write(model, to: bad)

        let result = try CommandLineTool.run(["verify", bad, "--reference", good, "--input-shape", "audio=1x4000", "--json"])
        #expect(result.status == 1)
        let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
        let first = try #require(output.firstDivergence)
        #expect(first.node == "/encoder/2/Conv" && first.op.hasPrefix("Conv"))
        #expect(!first.inputs.isEmpty && first.inputs.allSatisfy { $0.withinTolerance })
    }

    /// onnxruntime's every intermediate value (Tools/make-reference-outputs saves them for
    /// these two): all within tolerance, and the model's own inputs read from the folder.
    @Test(arguments: ["resnet18", "mobilenet_v2"])
    func onnxruntimesIntermediatesMatch(_ name: String) throws {
        let folder = Fixtures.root.appendingPathComponent(".generated/reference/\(name)")
        let dump = folder.appendingPathComponent("intermediates").path
        try #require(FileManager.default.fileExists(atPath: dump), "no intermediates for \(name): run Tools/make-reference-outputs")
        let result = try CommandLineTool.run(["verify", folder.appendingPathComponent("model.onnx").path, "--intermediates", dump,
                                              "--json", "--threads", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
        #expect(output.firstDivergence == nil)
        // Every step's value has its file (fused groups give fewer values than nodes).
        #expect(output.nodes.count > 20 && output.nodes.allSatisfy { $0.withinTolerance })
        let text = try CommandLineTool.run(["verify", folder.appendingPathComponent("model.onnx").path, "--intermediates", dump])
        #expect(text.stdout.contains("(\(dump)/inputs/"))
    }

    @Test func testDataOrReferenceButNotBoth() throws {
        let tiny = "Fixtures/valid/tiny-cnn.onnx"
        let both = try CommandLineTool.run(["verify", tiny, "--reference", tiny, "--test-data", "Fixtures/valid/tiny-cnn"])
        #expect(both.status == 2 && both.stderr.contains("give one of --test-data DIR, --reference OTHER and --intermediates DIR"))
        let neither = try CommandLineTool.run(["verify", tiny])
        #expect(neither.status == 2)
    }
}
