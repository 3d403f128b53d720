import Foundation
import Testing
import TestSupport

/// The per-node report, its groupings and formats, and `compare`, as a user runs them.
@Suite struct AnalysisCommandTests {
    static let snapshots = Fixtures.root.appendingPathComponent("Tests/ModelInfoCLITests/Snapshots")

    func assertSnapshot(_ text: String, named name: String) throws {
        let url = Self.snapshots.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["MODELINFO_RECORD"] == "1" {
            try Data(text.utf8).write(to: url)
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "output differs from \(name); rerun with MODELINFO_RECORD=1 to accept")
    }

    func run(_ arguments: [String]) throws -> String {
        let result = try CommandLineTool.run(arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return result.stdout
    }

    /// The question behind the project, on one screen.
    @Test func compareVGG19WithResNet34ByResolution() throws {
        let output = try run(["compare", "zoo:vgg19", "zoo:resnet34", "--group-by", "resolution"])
        try assertSnapshot(output, named: "compare-vgg19-resnet34.txt")
        let lines = output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("  224×224") && $0.contains("1.94 G") })
        #expect(lines.contains { $0.hasPrefix("  112×112") && $0.contains("118.01 M") })
    }

    @Test func topNodesOfResNet50() throws {
        try assertSnapshot(try run(["zoo:resnet50", "--top", "5"]), named: "resnet50-top5.txt")
    }

    @Test func groupByStageOfResNet18() throws {
        try assertSnapshot(try run(["zoo:resnet18", "--group-by", "stage"]), named: "resnet18-stages.txt")
    }

    @Test func markdownReport() throws {
        try assertSnapshot(try run(["Fixtures/valid/tiny-cnn.onnx", "--batch", "1", "--markdown"]), named: "tiny-cnn.md")
    }

    @Test func csvHasRawNumbersAndOneRowPerNode() throws {
        let lines = try run(["zoo:vgg16", "--csv"]).split(separator: "\n")
        #expect(lines.first?.hasPrefix("index,name,op,outputShape,params,macs,flops") == true)
        let conv = try #require(lines.first { $0.contains("conv1_2") })
        #expect(conv.contains(",1849688064,"))   // 224·224·64 · 64·3·3
        #expect(lines.count == 1 + 37)
    }

    @Test func jsonAnalysisTotalsAndNodes() throws {
        let data = Data(try run(["zoo:vgg16", "--json"]).utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let totals = try #require(object["totals"] as? [String: Any])
        for key in ["params", "paramsUnique", "macs", "flops", "weightBytes", "activationBytes"] {
            #expect(totals[key] is Int, "totals.\(key)")
        }
        #expect(totals["params"] as? Int == 138_357_544)
        #expect(totals["macs"] as? Int == 15_470_264_320)
        let nodes = try #require(object["nodes"] as? [[String: Any]])
        #expect(nodes.count == 37)
        for key in ["name", "op", "outputShapes", "params", "macs", "flops"] {
            #expect(nodes[0][key] != nil, "nodes[].\(key)")
        }
        #expect((object["unknownOps"] as? [Any])?.isEmpty == true)
    }

    @Test func symbolicBatchIsExplainedAndFixedByOption() throws {
        let open = try run(["Fixtures/valid/tiny-cnn.onnx"])
        #expect(open.contains("symbolic dims (N)"))
        let fixed = try run(["Fixtures/valid/tiny-cnn.onnx", "--input-shape", "input=2x3x8x8"])
        #expect(fixed.contains("nodes counted    7 of 7"))
        #expect(try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx", "--input-shape", "input"]).status == 2)
        #expect(try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx", "--input-shape", "nope=1x3x8x8"]).status == 2)
    }
}
