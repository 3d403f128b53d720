import Foundation
import Testing
import TestSupport

/// The per-node report, its groupings and formats, and `compare`, as a user runs them.
@Suite struct AnalysisCommandTests {
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

    /// An open batch is 1, and the summary says so; an open sequence length
    /// has no default: its nodes are not counted, and the text says why and what to give.
    @Test func openDimensionsAreExplainedAndFixedByOption() throws {
        let batch = try run(["Fixtures/valid/tiny-cnn.onnx"])
        #expect(batch.contains("  input  float32  N×3×8×8  used 1×3×8×8\n"))
        #expect(batch.contains("The open batch dimension of input was taken as 1; --batch N sets it."))
        #expect(batch.contains(/nodes counted +7 of 7/))
        let fixed = try run(["Fixtures/valid/tiny-cnn.onnx", "--input-shape", "input=2x3x8x8"])
        #expect(fixed.contains("  input  float32  N×3×8×8  used 2×3×8×8\n") && !fixed.contains("taken as 1"))
        // Notes wrap at 100 columns; read them as one line.
        let sequence = try run(["Fixtures/valid/symbolic.onnx"]).replacing("\n  ", with: " ")
        #expect(sequence.contains("The first, #0 (Cast): input 'tokens' is 1×seq, not fully known."))
        #expect(sequence.contains("Some inputs have symbolic dimensions; give them, e.g. --symbol seq=N."))
        let given = try run(["Fixtures/valid/symbolic.onnx", "--input-shape", "tokens=1x16", "--input-shape", "mask=1x16"])
        #expect(!given.contains("dimensions;") && !given.contains("taken as 1"))
        let named = try run(["Fixtures/valid/symbolic.onnx", "--symbol", "seq=16"])
        #expect(!named.contains("dimensions;") && named.contains(/nodes counted +3 of 3/))
        #expect(try CommandLineTool.run(["Fixtures/valid/symbolic.onnx", "--symbol", "sequence=16"]).stderr
            .contains("--symbol names 'sequence', but the inputs' symbolic dimensions are N, seq"))
        #expect(try CommandLineTool.run(["Fixtures/valid/symbolic.onnx", "--symbol", "seq"]).status == 2)
        // A shape that breaks the model: the reason is in the text, not only in the JSON.
        let broken = try run(["Fixtures/valid/tiny-cnn.onnx", "--input-shape", "input=1x4x8x8"])
        #expect(broken.contains("input has 4 channels but the weight expects 3"), "\(broken)")
        #expect(try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx", "--input-shape", "input"]).status == 2)
        #expect(try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx", "--input-shape", "nope=1x3x8x8"]).status == 2)
    }
}
