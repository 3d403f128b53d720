import ModelInfo
import Testing

/// If, Loop and Scan count the work of their bodies: the taken or larger
/// branch, the body times the trip count or sequence length, and "per
/// iteration" as a marked estimate when the count is not known.
@Suite struct ControlFlowCountingTests {
    static let float1x4 = ValueType.tensor(.float, [1, 4])

    static func int64(_ name: String, _ value: Int64) throws -> Tensor {
        try Tensor(name: name, dtype: .int64, dims: [], storage: .bytes(ByteRegion(copying: withUnsafeBytes(of: value) { Array($0) })))
    }

    /// A body `(i, cond, h) → (cond, h · W)` whose MatMul uses the outer weight `W` [4, 4].
    static let loopBody = Graph(
        nodes: [Node(name: "step", opType: "MatMul", inputs: ["h_in", "W"], outputs: ["h_out"]),
                Node(name: "keep", opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"])],
        inputs: [ValueInfo(name: "i", type: .tensor(.int64, [])), ValueInfo(name: "cond_in", type: .tensor(.bool, [])),
                 ValueInfo(name: "h_in", type: float1x4)],
        outputs: [ValueInfo(name: "cond_out", type: .tensor(.bool, [])), ValueInfo(name: "h_out", type: float1x4)])

    static func loopModel(tripCount: String, condition: String, initializers: [Tensor],
                          extraInputs: [ValueInfo] = []) throws -> Model {
        Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: Graph(
            nodes: [Node(name: "loop", opType: "Loop", inputs: [tripCount, condition, "x"], outputs: ["y"],
                         attributes: [Attribute(name: "body", value: .graph(loopBody))])],
            initializers: initializers + [try AnalyzerTests.floats("W", [4, 4])],
            inputs: [ValueInfo(name: "x", type: float1x4)] + extraInputs, outputs: [ValueInfo(name: "y")]))
    }

    @Test func aLoopWithAKnownTripCountCountsItsBodyThatOften() throws {
        let analysis = try Analyzer.analyze(try Self.loopModel(tripCount: "M", condition: "", initializers: [try Self.int64("M", 5)]))
        let loop = analysis.nodes[0]
        #expect(loop.status == .counted)
        #expect(loop.macs == 5 * 16)
        #expect(!loop.isEstimate)
        #expect(loop.params == 16, "the body's weight is counted once, not per iteration")
        #expect(analysis.totals.paramsUnique == 16)
        #expect(analysis.totals.estimatedNodes == 0)
    }

    @Test func aConditionMakesTheTripCountAnUpperBound() throws {
        let analysis = try Analyzer.analyze(try Self.loopModel(tripCount: "M", condition: "go", initializers: [try Self.int64("M", 5)],
                                                               extraInputs: [ValueInfo(name: "go", type: .tensor(.bool, []))]))
        let loop = analysis.nodes[0]
        #expect(loop.macs == 5 * 16)
        #expect(loop.note == "at most 5 iterations: the condition can end the loop early")
        #expect(analysis.totals.estimatedNodes == 1)
    }

    @Test func anUnknownTripCountCountsOneIteration() throws {
        let analysis = try Analyzer.analyze(try Self.loopModel(tripCount: "M", condition: "", initializers: [],
                                                               extraInputs: [ValueInfo(name: "M", type: .tensor(.int64, []))]))
        #expect(analysis.nodes[0].macs == 16)
        #expect(analysis.nodes[0].note == "per iteration: the trip count is not known")
    }

    static func ifModel(condition: Tensor?) throws -> Model {
        let big = Graph(nodes: [Node(name: "mm", opType: "MatMul", inputs: ["x", "W"], outputs: ["t"])],
                        outputs: [ValueInfo(name: "t", type: float1x4)])
        let small = Graph(nodes: [Node(name: "add", opType: "Add", inputs: ["x", "x"], outputs: ["e"])],
                          outputs: [ValueInfo(name: "e", type: float1x4)])
        return Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: Graph(
            nodes: [Node(name: "if", opType: "If", inputs: ["c"], outputs: ["y"],
                         attributes: [Attribute(name: "then_branch", value: .graph(big)),
                                      Attribute(name: "else_branch", value: .graph(small))])],
            initializers: [try AnalyzerTests.floats("W", [4, 4])] + (condition.map { [$0] } ?? []),
            inputs: [ValueInfo(name: "x", type: float1x4)] + (condition == nil ? [ValueInfo(name: "c", type: .tensor(.bool, []))] : []),
            outputs: [ValueInfo(name: "y")]))
    }

    @Test func anUnknownConditionCountsTheLargerBranch() throws {
        let node = try Analyzer.analyze(try Self.ifModel(condition: nil)).nodes[0]
        #expect(node.macs == 16)
        #expect(node.flops == 32)
        #expect(node.note == "the larger branch (then_branch); the condition is not known")
        #expect(node.params == 16)
    }

    @Test func aKnownConditionCountsTheTakenBranchExactly() throws {
        let no = try Tensor(name: "c", dtype: .bool, dims: [], storage: .bytes(ByteRegion(copying: [0])))
        let node = try Analyzer.analyze(try Self.ifModel(condition: no)).nodes[0]
        #expect(node.macs == 0)
        #expect(node.flops == 4)
        #expect(!node.isEstimate)
    }

    /// A running sum over the 7 rows of a [7, 4] input: 7 × 4 additions.
    @Test func aScanCountsItsBodyPerSlice() throws {
        let body = Graph(nodes: [Node(name: "acc", opType: "Add", inputs: ["s_in", "row"], outputs: ["s_out"])],
                         inputs: [ValueInfo(name: "s_in", type: .tensor(.float, [4])), ValueInfo(name: "row", type: .tensor(.float, [4]))],
                         outputs: [ValueInfo(name: "s_out", type: .tensor(.float, [4]))])
        let model = Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: Graph(
            nodes: [Node(name: "scan", opType: "Scan", inputs: ["s0", "x"], outputs: ["s"],
                         attributes: [Attribute(name: "body", value: .graph(body)), Attribute(name: "num_scan_inputs", value: .int(1))])],
            initializers: [try AnalyzerTests.floats("s0", [4])],
            inputs: [ValueInfo(name: "x", type: .tensor(.float, [7, 4]))], outputs: [ValueInfo(name: "s")]))
        let node = try Analyzer.analyze(model).nodes[0]
        #expect(node.flops == 28)
        #expect(!node.isEstimate)
    }

    /// A Loop nested in a Loop: the inner body runs 3 × 5 times.
    @Test func nestedLoopsMultiply() throws {
        let inner = Graph(
            nodes: [Node(name: "innerLoop", opType: "Loop", inputs: ["N", "", "h_in"], outputs: ["h_out"],
                         attributes: [Attribute(name: "body", value: .graph(Self.loopBody))]),
                    Node(name: "keep", opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"])],
            initializers: [try Self.int64("N", 3)],
            inputs: Self.loopBody.inputs, outputs: Self.loopBody.outputs)
        let model = Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: Graph(
            nodes: [Node(name: "outerLoop", opType: "Loop", inputs: ["M", "", "x"], outputs: ["y"],
                         attributes: [Attribute(name: "body", value: .graph(inner))])],
            initializers: [try Self.int64("M", 5), try AnalyzerTests.floats("W", [4, 4])],
            inputs: [ValueInfo(name: "x", type: Self.float1x4)], outputs: [ValueInfo(name: "y")]))
        #expect(try Analyzer.analyze(model).nodes[0].macs == 15 * 16)
    }
}
