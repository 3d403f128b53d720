import ModelCore
import Testing

@Suite struct ControlFlowTests {
    private func schema(_ op: String, inputs: [String], outputs: [String] = ["y"],
                        attributes: [String: AttributeValue] = [:], opset: Int = 16) throws -> any OpSchema {
        let node = Node(name: "n", opType: op, inputs: inputs, outputs: outputs,
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        return try #require(try OpRegistry.schema(for: node, opset: opset))
    }

    private func fact(_ dims: [Int], _ dtype: DType = .float) -> ValueFact {
        ValueFact(dtype: dtype, shape: Shape(dims))
    }

    private func info(_ name: String, _ dims: [Int]?, _ dtype: DType = .float) -> ValueInfo {
        ValueInfo(name: name, type: .tensor(dtype, dims.map { Shape($0) }))
    }

    private func graph(inputs: [ValueInfo] = [], outputs: [ValueInfo]) -> AttributeValue {
        .graph(Graph(inputs: inputs, outputs: outputs))
    }

    private func scalar(_ value: Int, _ dtype: DType = .int64) -> ValueFact {
        ValueFact(dtype: dtype, value: KnownValue(scalar: .known(value)))
    }

    @Test func ifMergesBranchesOrTakesTheKnownOne() throws {
        let branches: [String: AttributeValue] = [
            "then_branch": graph(outputs: [info("a", [5, 3]), ValueInfo(name: "s", type: .sequence(nil))]),
            "else_branch": graph(outputs: [info("b", [5, 4]), ValueInfo(name: "t", type: .sequence(nil))]),
        ]
        let node = try schema("If", inputs: ["cond"], outputs: ["x", "seq"], attributes: branches)
        let merged = try node.infer([fact([], .bool)])
        #expect(merged == [ValueFact(dtype: .float, shape: Shape([.known(5), .unknown])), .unknown])
        #expect(try node.infer([scalar(0, .bool)])[0] == fact([5, 4]))
        #expect(try node.infer([scalar(1, .bool)])[0] == fact([5, 3]))
        #expect(node.cost([nil], merged) == nil)
        #expect(throws: ModelError.self) { try node.infer([fact([2], .bool)]) }
    }

    @Test func ifBranchesMustAgreeOnTheirOutputs() {
        #expect(throws: ModelError.self) {
            try schema("If", inputs: ["cond"], attributes: ["then_branch": graph(outputs: [info("a", [1])]), "else_branch": graph(outputs: [])])
        }
        #expect(throws: ModelError.self) { try schema("If", inputs: ["cond"], attributes: ["then_branch": graph(outputs: [])]) }
    }

    @Test func loopStacksScanOutputsOverAKnownTripCount() throws {
        let body = graph(inputs: [info("i", [], .int64), info("c", [], .bool), info("y_in", [1])],
                         outputs: [info("c_out", [], .bool), info("y_out", [1]), info("scan", [1])])
        let forLoop = try schema("Loop", inputs: ["M", "", "y"], outputs: ["y_final", "scans"], attributes: ["body": body])
        let outputs = try forLoop.infer([scalar(5), nil, fact([1])])
        #expect(outputs == [fact([1]), fact([5, 1])])
        #expect(forLoop.cost([scalar(5), nil, fact([1])], outputs) == nil)
        // A condition can end the loop early: the number of iterations is unknown.
        let whileLoop = try schema("Loop", inputs: ["M", "cond", "y"], outputs: ["y_final", "scans"], attributes: ["body": body])
        #expect(try whileLoop.infer([scalar(5), scalar(1, .bool), fact([1])])[1] == ValueFact(dtype: .float, shape: Shape([.unknown, .known(1)])))
    }

    @Test func loopFinalValueMergesInitialAndBody() throws {
        let body = graph(inputs: [info("i", [], .int64), info("c", [], .bool), info("y_in", nil)],
                         outputs: [info("c_out", [], .bool), info("y_out", [2, 3])])
        let loop = try schema("Loop", inputs: ["M", "", "y"], outputs: ["y_final"], attributes: ["body": body])
        // Zero iterations leave the initial [2, 1]; more give the body's [2, 3].
        #expect(try loop.infer([nil, nil, fact([2, 1])]) == [ValueFact(dtype: .float, shape: Shape([.known(2), .unknown]))])
        #expect(throws: ModelError.self) { try schema("Loop", inputs: ["M", "", "y", "z"], attributes: ["body": body]) }
        #expect(throws: ModelError.self) { try schema("Loop", inputs: ["M", "", "y"]) }
    }

    @Test func scanInsertsTheSequenceLengthAtTheOutputAxis() throws {
        let body = graph(inputs: [info("state", [2]), info("element", [2])], outputs: [info("state_out", [2]), info("out", [2])])
        let scan = try schema("Scan", inputs: ["init", "xs"], outputs: ["final", "ys"],
                              attributes: ["body": body, "num_scan_inputs": .int(1),
                                           "scan_input_axes": .ints([1]), "scan_output_axes": .ints([-1])], opset: 11)
        let outputs = try scan.infer([fact([2]), fact([2, 3])])
        #expect(outputs == [fact([2]), fact([2, 3])])
        #expect(scan.cost([fact([2]), fact([2, 3])], outputs) == nil)
        let defaultAxes = try schema("Scan", inputs: ["init", "xs"], outputs: ["final", "ys"],
                                     attributes: ["body": body, "num_scan_inputs": .int(1)], opset: 11)
        #expect(try defaultAxes.infer([fact([2]), fact([7, 2])]) == [fact([2]), fact([7, 2])])
    }

    @Test func opset8ScanIsBatched() throws {
        let body = graph(inputs: [info("state", [2]), info("element", [2])], outputs: [info("state_out", [2]), info("out", [2])])
        let scan = try schema("Scan", inputs: ["", "init", "xs"], outputs: ["final", "ys"],
                              attributes: ["body": body, "num_scan_inputs": .int(1)], opset: 8)
        #expect(try scan.infer([nil, fact([1, 2]), fact([1, 3, 2])]) == [fact([1, 2]), fact([1, 3, 2])])
    }

    @Test func scanAttributesAreChecked() throws {
        let body = graph(inputs: [info("state", [2]), info("element", [2])], outputs: [info("state_out", [2]), info("out", [2])])
        #expect(throws: ModelError.self) { try schema("Scan", inputs: ["init", "xs"], attributes: ["body": body, "num_scan_inputs": .int(0)], opset: 11) }
        #expect(throws: ModelError.self) { try schema("Scan", inputs: ["init", "xs"], attributes: ["body": body, "num_scan_inputs": .int(3)], opset: 11) }
        #expect(throws: ModelError.self) {
            try schema("Scan", inputs: ["init", "xs"], attributes: ["body": body, "num_scan_inputs": .int(1), "scan_input_axes": .ints([0, 1])], opset: 11)
        }
        let scan = try schema("Scan", inputs: ["init", "xs"], outputs: ["final", "ys"],
                              attributes: ["body": body, "num_scan_inputs": .int(1), "scan_input_axes": .ints([4])], opset: 11)
        #expect(throws: ModelError.self) { try scan.infer([fact([2]), fact([3, 2])]) }
    }

    @Test func sequenceOperatorsTrackOnlyTensorsAndLengths() throws {
        #expect(try schema("SequenceConstruct", inputs: ["a", "b"]).infer([fact([2]), fact([3])]) == [.unknown])
        let length = try schema("SequenceLength", inputs: ["s"])
        #expect(try length.infer([.unknown]) == [fact([], .int64)])
        #expect(length.cost([.unknown], [fact([], .int64)]) == .zero)
        #expect(try schema("SequenceAt", inputs: ["s", "i"]).infer([.unknown, scalar(0)]) == [.unknown])
        let split = try schema("SplitToSequence", inputs: ["x"], attributes: ["axis": .int(5)])
        #expect(throws: ModelError.self) { try split.infer([fact([2, 3])]) }
        #expect(throws: ModelError.self) { try schema("ConcatFromSequence", inputs: ["s"]) }
        #expect(throws: ModelError.self) { try schema("SequenceInsert", inputs: ["s"]) }
        #expect(throws: ModelError.self) { try schema("SequenceEmpty", inputs: [], attributes: ["dtype": .int(99)]) }
    }

    @Test func hostileNodesAreRejectedOrInferredSanely() {
        let ops = ["If", "Loop", "Scan", "SequenceMap", "SequenceEmpty", "SequenceConstruct", "SequenceInsert", "SequenceErase",
                   "SequenceAt", "SequenceLength", "SplitToSequence", "ConcatFromSequence", "Optional", "OptionalHasElement",
                   "OptionalGetElement"]
        #expect(HostileNodes.check(ops, rounds: 3000, seed: 2) == [])
    }

    @Test func optionalOperatorsKnowTensorsArePresent() throws {
        let has = try schema("OptionalHasElement", inputs: [])
        #expect(try has.infer([]) == [ValueFact(dtype: .bool, shape: Shape([Dim]()), value: KnownValue(scalar: .known(0)))])
        #expect(try has.infer([fact([4])])[0].value == KnownValue(scalar: .known(1)))
        #expect(try has.infer([.unknown])[0].value == nil)
        let get = try schema("OptionalGetElement", inputs: ["o"])
        #expect(try get.infer([fact([4])]) == [fact([4])])
        #expect(try get.infer([.unknown]) == [.unknown])
        #expect(try schema("Optional", inputs: ["x"]).infer([fact([4])]) == [.unknown])
    }
}
