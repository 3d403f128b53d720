import Foundation
import ModelInfo
import Testing
import TestSupport

/// `modelinfo zoo …` and `modelinfo zoo:NAME` as a user runs them.
@Suite struct ZooCommandTests {
    @Test func listShowsEveryArchitectureWithTorchvisionsCount() throws {
        let result = try CommandLineTool.run(["zoo", "list"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.map { String($0.prefix { $0 != " " }) } == Zoo.names + Zoo.languageModels.map(\.name))
        #expect(lines.contains { $0.hasPrefix("vgg16 ") && $0.contains(" 138,357,544  VGG-16") })
    }

    @Test func writesTheSameBytesAsTheLibrary() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("m.onnx").path
        let result = try CommandLineTool.run(["zoo", "mobilenet_v2", "-o", path, "--batch", "2", "--image-size", "128",
                                              "--seed", "7"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("wrote \(path): 14.2 MB in ") && result.stdout.hasSuffix(" GB/s)\n"))
        let expected = try ONNXWriter().serialize(Zoo.build("mobilenet_v2", batch: 2, imageSize: 128, seed: 7))
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == expected)
    }

    @Test func usageErrorsExitWith2() throws {
        let unknown = try CommandLineTool.run(["zoo", "resnet51", "-o", "/nonexistent/x.onnx"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("unknown zoo model 'resnet51'") && unknown.stderr.contains("resnet50_v1"))
        #expect(try CommandLineTool.run(["zoo", "resnet50"]).status == 2, "-o is required")
    }

    @Test func zooPathsAreSummarisedWithoutAFile() throws {
        let result = try CommandLineTool.run(["zoo:resnet18", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["format"] as? String == "zoo")
        #expect(object["fileBytes"] as? Int == 0)
        #expect(object["graphName"] as? String == "resnet18")
    }
}
