import Foundation
import ModelInfo
import Testing
import TestSupport

/// A lossy conversion whose check falls below --min-cosine names the layer
/// that loses the most similarity and the weights to keep in float32;
/// --keep-f32 keeps them, and refuses a name that is not a stored tensor.
@Suite struct ConversionCulpritTests {
    @Test func anOutlierLayerIsNamedAndKeptInFloat32() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.onnx").path, bad = folder.appendingPathComponent("outlier.onnx").path
        #expect(try CommandLineTool.run(["zoo", "resnet18", "-o", good]).status == 0)

        // One convolution's corner taps 100 times larger: per-channel int8 steps
        // sized for them round that layer's other taps away.
        var model = try Model.load(path: good).model
        let target = model.graph.nodes.filter { $0.opType == "Conv" }[6]
        let index = try #require(model.graph.initializers.firstIndex { $0.name == target.inputs[1] })
        let weights = model.graph.initializers[index]
        let outliers = try weights.doubleValues().enumerated().map { i, w in Float(i % 9 == 0 ? w * 100 : w) }
        model.graph.initializers[index] = try EngineTensor.holding(outliers, .float, weights.dims).stored(name: weights.name)
        try ONNXWriter().write(model, to: bad)

        let swm = folder.appendingPathComponent("outlier.swm").path
        let lossy = try CommandLineTool.run(["convert", bad, "-o", swm, "--weights", "int8", "--min-cosine", "0.99999"])
        #expect(lossy.status == 0, "\(lossy.stderr)")
        #expect(lossy.stdout.contains("most similarity lost: \(target.name) (Conv"), "\(lossy.stdout)")
        #expect(lossy.stdout.contains("--keep-f32 \(weights.name)\n"), "\(lossy.stdout)")

        let kept = try CommandLineTool.run(["convert", bad, "-o", swm, "--weights", "int8", "--min-cosine", "0.99999",
                                            "--keep-f32", weights.name])
        #expect(kept.status == 0)
        #expect(!kept.stdout.contains("most similarity lost: \(target.name) "), "\(kept.stdout)")
        let stored = try Model.load(path: swm).model.graph.initializers.first { $0.name == weights.name }
        #expect(try stored?.doubleValues().map { Float($0) } == outliers)

        let unknown = try CommandLineTool.run(["convert", bad, "-o", swm, "--weights", "int8", "--keep-f32", "no.such.weight"])
        #expect(unknown.status == 2 && unknown.stderr.contains("'no.such.weight'"))
    }
}
