import Foundation
import Testing
import TestSupport

/// `modelinfo FILE` as a user runs it: output, JSON keys and exit codes.
@Suite struct SummaryCommandTests {
    @Test func textSummaryMatchesSnapshot() throws {
        let result = try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        try assertSnapshot(result.stdout, named: "tiny-cnn.txt")
    }

    @Test func subgraphsAreCounted() throws {
        let result = try CommandLineTool.run(["Fixtures/valid/control-flow.onnx"])
        #expect(result.status == 0)
        try assertSnapshot(result.stdout, named: "control-flow.txt")
    }

    @Test func jsonSummaryHasTheDocumentedKeys() throws {
        let result = try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx", "--json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let documented: Set<String> = [
            "file", "format", "fileBytes", "irVersion", "producerName", "producerVersion", "domain", "modelVersion",
            "graphName", "opsets", "metadata", "inputs", "outputs", "nodeCount", "opCounts", "subgraphCount",
            "subgraphNodeCount", "functionCount", "initializerCount", "initializerBytes", "parameterCount",
            "totals", "nodes", "unknownOps",
        ]
        #expect(Set(object.keys) == documented)
        #expect(object["format"] as? String == "ONNX")
        // BatchNormalization's running mean and variance (2 × 4) are not parameters.
        #expect(object["parameterCount"] as? Int == 770)
        let input = try #require((object["inputs"] as? [[String: Any]])?.first)
        #expect(input["dtype"] as? String == "float32")
        #expect((input["shape"] as? [Any])?.first as? String == "N")
        #expect((input["shape"] as? [Any])?.last as? Int == 8)
    }

    @Test func badInputExitsWithOneAndOneLine() throws {
        let result = try CommandLineTool.run(["Fixtures/malformed/png.onnx"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "modelinfo: Fixtures/malformed/png.onnx: not an ONNX model: the file looks like a PNG image\n")
    }

    @Test func missingFileExitsWithOne() throws {
        let result = try CommandLineTool.run(["no-such-model.onnx"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no such file"))
    }

    @Test func usageErrorsExitWithTwo() throws {
        #expect(try CommandLineTool.run(["--no-such-flag", "x.onnx"]).status == 2)
        #expect(try CommandLineTool.run([]).status == 2)
    }

    @Test func helpExitsWithZero() throws {
        let result = try CommandLineTool.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
    }
}
