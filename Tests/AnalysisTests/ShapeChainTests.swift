import ModelInfo
import Testing

/// Shape computations that exporters emit, followed end to end through `Analyzer.analyze`.
@Suite struct ShapeChainTests {
    private let n = Dim.symbol("N")

    private func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [String: AttributeValue] = [:]) -> Node {
        Node(name: output, opType: op, inputs: inputs, outputs: [output],
             attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
    }

    private func model(input dims: [Dim], nodes: [Node], outputs: [String], opset: Int64 = 13) -> Model {
        let graph = Graph(name: "chain", nodes: nodes, inputs: [ValueInfo(name: "x", type: .tensor(.float, Shape(dims)))],
                          outputs: outputs.map { ValueInfo(name: $0) })
        return Model(irVersion: 8, opsets: [OpsetID(domain: "", version: opset)], graph: graph)
    }

    /// `x.view(x.size(0), -1)` as PyTorch exports it: Shape → Gather → Unsqueeze → Concat → Reshape.
    private var flattenByReshape: Model {
        model(input: [n, .known(512), .known(7), .known(7)], nodes: [
            node("Shape", ["x"], "shape"),
            node("Constant", [], "zero", ["value_int": .int(0)]),
            node("Gather", ["shape", "zero"], "batch", ["axis": .int(0)]),
            node("Constant", [], "axes", ["value_ints": .ints([0])]),
            node("Unsqueeze", ["batch", "axes"], "batch1"),
            node("Constant", [], "rest", ["value_ints": .ints([-1])]),
            node("Concat", ["batch1", "rest"], "target", ["axis": .int(0)]),
            node("Reshape", ["x", "target"], "y"),
        ], outputs: ["y"])
    }

    @Test func flattenByReshapeKeepsTheSymbolicBatch() throws {
        let analysis = try Analyzer.analyze(flattenByReshape)
        #expect(analysis.facts["y"]?.shape == Shape([n, .known(25088)]))
        #expect(analysis.facts["target"]?.value == KnownValue(integers: [n, .known(-1)]))
        for report in analysis.nodes {
            #expect(report.status == .counted, "\(report.op)")
            #expect(report.cost == .zero, "\(report.op)")
        }
    }

    @Test func aFixedBatchFlowsThroughTheChain() throws {
        let analysis = try Analyzer.analyze(flattenByReshape, options: AnalysisOptions(batch: 4))
        #expect(analysis.facts["y"]?.shape == Shape([4, 25088]))
    }

    @Test func viewWithLeadingDimsAndGeneratedTensors() throws {
        // x.view(*x.shape[:2], -1), a mask of ones shaped like x, and arange(x.size(-1)).
        let analysis = try Analyzer.analyze(model(input: [n, .known(64), .symbol("seq"), .known(8)], nodes: [
            node("Shape", ["x"], "shape"),
            node("Constant", [], "start", ["value_ints": .ints([0])]),
            node("Constant", [], "end", ["value_ints": .ints([2])]),
            node("Slice", ["shape", "start", "end"], "lead"),
            node("Constant", [], "rest", ["value_ints": .ints([-1])]),
            node("Concat", ["lead", "rest"], "target", ["axis": .int(0)]),
            node("Reshape", ["x", "target"], "view"),
            node("ConstantOfShape", ["shape"], "mask"),
            node("Constant", [], "last", ["value_int": .int(-2)]),
            node("Gather", ["shape", "last"], "length"),
            node("Constant", [], "zero", ["value_int": .int(0)]),
            node("Constant", [], "one", ["value_int": .int(1)]),
            node("Range", ["zero", "length", "one"], "positions"),
            node("ReduceProd", ["shape"], "numel", ["keepdims": .int(0)]),
        ], outputs: ["view", "mask", "positions", "numel"]))
        #expect(analysis.facts["view"]?.shape == Shape([n, .known(64), .symbol("8*seq")]))
        #expect(analysis.facts["mask"]?.shape == Shape([n, .known(64), .symbol("seq"), .known(8)]))
        #expect(analysis.facts["positions"]?.shape == Shape([.symbol("seq")]))
        #expect(analysis.facts["numel"]?.value == KnownValue(scalar: .symbol("512*N*seq")))
    }

    @Test func anInvalidNodeIsReportedAndAnalysisCarriesOn() throws {
        let analysis = try Analyzer.analyze(model(input: [.known(2), .known(3)], nodes: [
            node("Constant", [], "target", ["value_ints": .ints([4, -1])]),
            node("Reshape", ["x", "target"], "y"),
            node("Transpose", ["y"], "z"),
        ], outputs: ["z"]))
        guard case .invalid = analysis.nodes[1].status else {
            Issue.record("Reshape of 6 elements into [4, -1] should be invalid")
            return
        }
        #expect(analysis.nodes[2].status == .counted)
    }
}
