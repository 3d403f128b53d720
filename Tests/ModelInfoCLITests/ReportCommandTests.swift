import Foundation
import ModelInfo
@testable import modelinfo
import Testing
import TestSupport

/// `modelinfo report`: the page, its figures, its graph layout, and names that try to break out of the markup.
@Suite struct ReportCommandTests {
    static func page(_ arguments: [String], name: String) throws -> (html: String, folder: URL) {
        let folder = try Fixtures.temporaryFolder()
        let path = folder.appendingPathComponent(name).path
        let result = try CommandLineTool.run(["report"] + arguments + ["-o", path, "--svg", folder.appendingPathComponent("svg").path])
        #expect(result.status == 0, "\(result.stderr)")
        return (try String(contentsOfFile: path, encoding: .utf8), folder)
    }

    static func count(_ text: String, in html: String) -> Int { html.components(separatedBy: text).count - 1 }

    @Test func thePageHoldsEveryChartAndOnlyItsOwnScripts() throws {
        let (html, folder) = try Self.page(["zoo:vgg11", "--compare", "Fixtures/valid/tiny-cnn.onnx"], name: "report.html")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for id in ["chart-resolution", "chart-layers-0", "chart-layers-1", "chart-stages-0", "chart-stages-1", "chart-ops-0",
                   "chart-ops-1", "graph-view-0", "graph-view-1", "graph-search-0", "report-data"] {
            #expect(html.contains("id=\"\(id)\""), "\(id) missing")
        }
        #expect(Self.count("<script", in: html) == 2)
        // Nothing to fetch: the only address is SVG's namespace.
        #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        // Both models' resolution profiles.
        #expect(html.contains("<g class=\"series\" data-m=\"0\"><rect") && html.contains("<g class=\"series\" data-m=\"1\"><rect"))
        // One bar per listed node of VGG-11: its 8 convolutions carry their MACs.
        #expect(html.contains("data-m=\"0\" data-i=\"0\" data-macs=\"86704128\""))
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("svg").path).sorted()
        #expect(files == ["graph-0.svg", "graph-1.svg", "layers-0.svg", "layers-1.svg", "ops-0.svg", "ops-1.svg", "resolution.svg",
                          "stages-0.svg", "stages-1.svg"])
        for file in files {
            let svg = try String(contentsOfFile: folder.appendingPathComponent("svg/" + file).path, encoding: .utf8)
            #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>"), "\(file)")
            #expect(svg.contains("viewBox=") && svg.contains("<text"), "\(file) has no labels")
        }
    }

    /// Names from the file are text wherever they appear: escaped in markup, and
    /// unable to end the script element that holds the graph's data.
    @Test func hostileNamesAreShownAsText() throws {
        let hostile = "<script>alert(1)</script> & \"q\" 's' </svg>"
        let graph = Graph(
            name: hostile,
            nodes: [Node(name: "/" + hostile + "/relu", opType: "Relu", inputs: ["x" + hostile], outputs: ["y" + hostile])],
            inputs: [ValueInfo(name: "x" + hostile, type: .tensor(.float, [1, 3, 8, 8]))],
            outputs: [ValueInfo(name: "y" + hostile, type: .tensor(.float, [1, 3, 8, 8]))])
        let path = try Fixtures.temporaryFolder().appendingPathComponent("hostile.onnx").path
        try ONNXWriter().write(Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: graph), to: path)
        let (html, _) = try Self.page([path], name: "hostile.html")
        #expect(Self.count("<script", in: html) == 2)
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("</svg> &"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;s&#39;"))
        // The data the script reads gives the name back unchanged.
        let json = try #require(html.components(separatedBy: "id=\"report-data\">").last?.components(separatedBy: "</script>").first)
        #expect(!json.contains("<"))
        let data = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let models = try #require(data["models"] as? [[String: Any]])
        let nodes = try #require(models.first?["nodes"] as? [[String: Any]])
        #expect(nodes.first?["n"] as? String == "/" + hostile + "/relu")
    }

    @Test func aProfileAndAPrecisionCheckJoinThePage() throws {
        let folder = try Fixtures.temporaryFolder()
        let profile = folder.appendingPathComponent("profile.json").path
        let bench = try CommandLineTool.run(["bench", "Fixtures/valid/tiny-cnn.onnx", "--profile", "--json", "--runs", "2"])
        #expect(bench.status == 0, "\(bench.stderr)")
        try bench.stdout.write(toFile: profile, atomically: true, encoding: .utf8)
        let check = folder.appendingPathComponent("check.json").path
        let verify = try CommandLineTool.run(["verify", "Fixtures/valid/tiny-cnn.onnx", "--reference", "Fixtures/valid/tiny-cnn.onnx", "--json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        try verify.stdout.write(toFile: check, atomically: true, encoding: .utf8)
        let (html, _) = try Self.page(["Fixtures/valid/tiny-cnn.onnx", "--profile", profile, "--precision", check], name: "measured.html")
        #expect(html.contains("coloured by its share of the measured time"))
        #expect(html.contains("id=\"chart-precision\""))
        #expect(html.contains("time (ms)"))
    }

    @Test func unreadableInputsEndInOneLine() throws {
        let folder = try Fixtures.temporaryFolder()
        let notJSON = folder.appendingPathComponent("profile.json").path
        try "{\"medianMs\": 1}".write(toFile: notJSON, atomically: true, encoding: .utf8)
        for arguments in [["Fixtures/valid/tiny-cnn.onnx", "--profile", notJSON, "-o", folder.appendingPathComponent("a.html").path],
                          ["Fixtures/valid/tiny-cnn.onnx", "-o", "/nonexistent-folder/a.html"],
                          ["Fixtures/valid/tiny-cnn.onnx", "--precision", notJSON, "-o", folder.appendingPathComponent("b.html").path]] {
            let result = try CommandLineTool.run(["report"] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }

    /// The page's default name is the model's whole file name, never the cut one a column header gets.
    @Test func theDefaultPageNameIsTheModelsName() {
        #expect(ReportCommand.defaultOutput(for: "/models/a_model_name_longer_than_a_column_v2.onnx")
                == "a_model_name_longer_than_a_column_v2.html")
        #expect(ReportCommand.defaultOutput(for: "zoo:resnet34") == "resnet34.html")
        #expect(ReportCommand.defaultOutput(for: "zoo:") == "model.html")
    }

    /// Legend entries wrap into rows, and the height counts every row.
    @Test func legendsWrapIntoRows() {
        let layout = SVGFigure.legendLayout(["Conv", "BatchNormalization", "Relu", "GlobalAveragePool"], maxWidth: 200)
        #expect(layout.places.first! == (0, 0) && layout.places.allSatisfy { $0.x < 200 })
        let rows = Set(layout.places.map(\.y)).count
        #expect(rows > 1 && layout.height == Double(rows) * 16)
        #expect(SVGFigure.legendLayout([], maxWidth: 200).height == 0)
    }

    // MARK: - Layout

    /// Edges point down, boxes in a layer do not overlap, and an edge
    /// against the given order is laid out as if reversed.
    @Test func layersFollowTheLongestPath() {
        let sizes = Array(repeating: LayeredLayout.Size(width: 40, height: 20), count: 5)
        // (4, 3) runs against the order, so it counts as (3, 4); (3, 3) and the second (0, 1) are dropped.
        let layout = LayeredLayout(sizes: sizes, edges: [(0, 1), (1, 2), (0, 2), (2, 3), (4, 3), (3, 3), (0, 1)])
        #expect(layout.layers == [0, 1, 2, 3, 4])
        for route in layout.routes { #expect(route.points.first!.y < route.points.last!.y) }
        #expect(layout.routes.count == 5)
        for a in 0..<5 {
            for b in (a + 1)..<5 where layout.layers[a] == layout.layers[b] {
                let (x, y) = (layout.boxes[a], layout.boxes[b])
                #expect(x.x + x.width <= y.x || y.x + y.width <= x.x)
            }
        }
        #expect(LayeredLayout(sizes: sizes.prefix(2).map { $0 }, edges: [(1, 0)]).layers == [0, 1])
    }

    /// Two crossed pairs come out uncrossed after the barycenter sweeps.
    @Test func sweepsUncrossEdges() {
        let sizes = Array(repeating: LayeredLayout.Size(width: 40, height: 20), count: 6)
        // Sources 0, 1, 2; readers 3 of 2, 4 of 1, 5 of 0: crossed in the given order.
        let layout = LayeredLayout(sizes: sizes, edges: [(2, 3), (1, 4), (0, 5)])
        let order = [3, 4, 5].sorted { layout.boxes[$0].x < layout.boxes[$1].x }
        let sources = order.map { [3: 2, 4: 1, 5: 0][$0]! }
        #expect(sources == sources.sorted { layout.boxes[$0].x < layout.boxes[$1].x })
    }

    @Test func unfoldingPushesLaterStagesAside() throws {
        let analysis = try Analyzer.analyze(Zoo.build("resnet18"), options: AnalysisOptions())
        let view = GraphView(analysis: analysis, stageKeys: analysis.stageKeys(maximumStages: GraphView.maximumStages))
        // Every drawn node in one stage, constants left out, no stage past its size.
        #expect(view.stages.flatMap(\.members).sorted() == Array(view.nodes.indices))
        #expect(view.stages.allSatisfy { $0.members.count <= GraphView.largestStage })
        #expect(view.nodes.count == analysis.nodes.filter(GraphView.isDrawn).count)
        let folded = view.placement(unfolded: [])
        #expect(folded.map(\.y) == view.stages.map(\.box.y))
        let first = try #require(view.stages.indices.first { s in view.stages[s].members.count > 1 })
        let unfolded = view.placement(unfolded: [first])
        let grown = view.stages[first].unfoldedHeight - view.stages[first].box.height
        for s in view.stages.indices where view.stages[s].layer > view.stages[first].layer {
            #expect(abs(unfolded[s].y - folded[s].y - grown) < 1e-9)
        }
        #expect(unfolded[first].height == view.stages[first].unfoldedHeight)
    }

    @Test func largeStagesAreCutIntoRuns() throws {
        let analysis = try Analyzer.analyze(Zoo.build("llama-tiny", layers: 8),
                                            options: AnalysisOptions(symbols: ["batch": 1, "seq": 8, "past": 0]))
        // One key for every node: the view cuts it into runs in execution order.
        let view = GraphView(analysis: analysis, stageKeys: Array(repeating: "all", count: analysis.nodes.count))
        #expect(view.stages.count == (view.nodes.count + GraphView.largestStage - 1) / GraphView.largestStage)
        #expect(view.stages.dropFirst().allSatisfy { $0.key.hasPrefix("all (from ") })
    }

    // MARK: - Terminal bars

    @Test func barsShowInAWideTerminalOnly() throws {
        #expect(ReportText.bar(8, of: 8, width: 2) == "██")
        #expect(ReportText.bar(1, of: 16, width: 2) == "▏")
        #expect(ReportText.bar(0, of: 16) == "")
        let wide = try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx"], environment: ["COLUMNS": "140"])
        #expect(wide.stdout.contains("█"))
        let off = try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx", "--no-bars"], environment: ["COLUMNS": "140"])
        #expect(!off.stdout.contains("█") && off.status == 0)
        let narrow = try CommandLineTool.run(["Fixtures/valid/tiny-cnn.onnx"], environment: ["COLUMNS": "100"])
        #expect(!narrow.stdout.contains("█"))
        // The names take the room the terminal gives, and the bars stay inside it.
        let resnet = try CommandLineTool.run(["zoo:resnet50"], environment: ["COLUMNS": "120"])
        let widest = resnet.stdout.split(separator: "\n").map(\.count).max() ?? 0
        #expect(resnet.stdout.contains("█") && widest <= 120, "\(widest) columns")
    }
}
