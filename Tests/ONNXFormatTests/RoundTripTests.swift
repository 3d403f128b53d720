import Foundation
import ModelInfo
import Testing
import TestSupport

/// read → write → read gives the same graph and identical weight bytes.
@Suite struct RoundTripTests {
    /// Reads `path`, writes it to `folder`, reads that back; returns both models.
    static func roundTrip(_ path: String, in folder: URL, externalData: ExternalDataPolicy? = nil) throws -> (Model, Model) {
        let original = try ONNXReader.read(path: path)
        let copy = folder.appendingPathComponent("copy.onnx").path
        try ONNXWriter(externalData: externalData).write(original, to: copy)
        return (original, try ONNXReader.read(path: copy))
    }

    @Test(arguments: ["valid/tiny-cnn.onnx", "valid/typed-fields.onnx", "valid/control-flow.onnx",
                      "valid/external/model.onnx", "valid/symbolic.onnx"])
    func fixtureRoundTrips(_ fixture: String) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (original, copy) = try Self.roundTrip(Fixtures.path(fixture), in: folder)
        #expect(copy == original)
        let (_, external) = try Self.roundTrip(Fixtures.path(fixture), in: folder,
                                               externalData: ExternalDataPolicy(location: "copy.onnx.data", threshold: 16))
        #expect(external == original)
    }

    @Test func everySuiteModelRoundTrips() throws {
        let models = Fixtures.onnxSuiteModels()
        try #require(models.count > 1000, "the ONNX node suite is missing at \(Fixtures.onnxSuite.path): run Tools/onnx-suite")
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var differing: [String] = []
        for path in models {
            let (original, copy) = try Self.roundTrip(path, in: folder)
            if copy != original { differing.append(path) }
        }
        #expect(differing.isEmpty, "\(differing.count) models differ after a round trip: \(differing.prefix(10))")
    }
}
