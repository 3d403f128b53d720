import Foundation
import ModelInfo
@testable import SWMFormat
import Testing
import TestSupport

/// ONNX → SWM → ONNX keeps the graph and the weight bytes; the engine gives
/// bit-identical outputs from either file.
@Suite struct RoundTripTests {
    static let provenance = Provenance(sourceName: "source.onnx", sourceSHA256: String(repeating: "ab", count: 32),
                                       converter: "modelinfo test", options: "--weights f32")

    /// Writes `model` as `.swm` into `folder` and reads it back.
    static func throughSWM(_ model: Model, in folder: URL, writer: SWMWriter = SWMWriter(), name: String = "copy.swm") throws -> SWMFile {
        let path = folder.appendingPathComponent(name).path
        try writer.write(model, to: path, provenance: { provenance })
        return try SWMReader.read(path: path)
    }

    @Test(arguments: ["valid/tiny-cnn.onnx", "valid/typed-fields.onnx", "valid/control-flow.onnx",
                      "valid/external/model.onnx", "valid/symbolic.onnx"])
    func fixtureRoundTrips(_ fixture: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try ONNXReader.read(path: Fixtures.path(fixture))
        for writer in [SWMWriter(), SWMWriter(compress: true)] {
            let swm = try Self.throughSWM(original, in: folder, writer: writer)
            #expect(swm.model == original)
            #expect(swm.provenance == Self.provenance)
            // And back to ONNX.
            let onnx = folder.appendingPathComponent("back.onnx").path
            try ONNXWriter().write(swm.model, to: onnx)
            #expect(try ONNXReader.read(path: onnx) == original)
        }
    }

    @Test func everySuiteModelRoundTrips() throws {
        let models = Fixtures.onnxSuiteModels()
        try #require(models.count > 1000, "the ONNX node suite is missing at \(Fixtures.onnxSuite.path): run Tools/onnx-suite")
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var differing: [String] = []
        for path in models {
            let original = try ONNXReader.read(path: path)
            let swm = try Self.throughSWM(original, in: folder)
            let onnx = folder.appendingPathComponent("back.onnx").path
            try ONNXWriter().write(swm.model, to: onnx)
            let back = try ONNXReader.read(path: onnx)
            if swm.model != original || back != original { differing.append(path) }
        }
        #expect(differing.isEmpty, "\(differing.count) models differ after ONNX → SWM → ONNX: \(differing.prefix(10))")
    }

    /// A write that cannot happen is an error naming the file, and leaves nothing behind.
    @Test func unwritableTargetIsAnError() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try ONNXReader.read(path: Fixtures.path("valid/tiny-cnn.onnx"))
        let target = folder.appendingPathComponent("missing/out.swm").path
        #expect {
            try SWMWriter().write(model, to: target, provenance: { Self.provenance })
        } throws: { error in
            (error as? ModelError)?.description.hasPrefix("\(target): cannot create a file in its folder") == true
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    /// Raw tensors are 64-byte aligned views into the mapped file, never copies.
    @Test func rawTensorsAreAlignedViewsOfTheFile() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("tiny.swm").path
        try SWMWriter().write(try ONNXReader.read(path: Fixtures.path("valid/tiny-cnn.onnx")), to: path, provenance: { Self.provenance })
        let file = try MappedFile(path: path)
        let swm = try SWMReader.read(file: file)
        let base = Int(bitPattern: file.bytes.baseAddress)
        let fileRange = base..<(base + file.count)
        #expect(!swm.model.graph.initializers.isEmpty)
        for tensor in swm.model.graph.initializers {
            let address = tensor.bytes!.withUnsafeBytes { Int(bitPattern: $0.baseAddress) }
            #expect(fileRange.contains(address), "'\(tensor.name)' is not a view of the file")
            #expect((address - fileRange.lowerBound) % 64 == 0, "'\(tensor.name)' is not 64-byte aligned")
        }
    }

    /// The same outputs, bit for bit, from the ONNX file and its `.swm` copy.
    @Test(arguments: ["valid/tiny-cnn.onnx", "valid/control-flow.onnx", "zoo:resnet18"])
    func engineOutputsAreBitIdentical(_ source: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = source.hasPrefix("zoo:") ? try Zoo.build("resnet18", imageSize: 64) : try ONNXReader.read(path: Fixtures.path(source))
        let swm = try Self.throughSWM(original, in: folder)
        let feeds = try ModelInputs.random(for: original, options: AnalysisOptions(), seed: 7)
        let context = ExecutionContext(threads: 2)
        let expected = try ExecutionPlan(model: original).run(feeds, context: context)
        let actual = try ExecutionPlan(model: swm.model).run(feeds, context: context)
        #expect(!expected.isEmpty)
        for (name, e) in expected {
            let a = try #require(actual[name])
            #expect(try a.stored(name: name).bytes!.contentsEqual(try e.stored(name: name).bytes!), "output '\(name)' differs")
        }
    }
}
