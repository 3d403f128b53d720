import ModelInfo
import Testing

/// Sequence and optional values: the value type's own rules, and plans that
/// pass sequences and optionals between nodes and return them as outputs.
@Suite struct SequenceValueTests {
    private func floats(_ values: [Float], _ shape: [Int]) throws -> EngineTensor { try EngineTensor(floats: values, shape: shape) }

    private func int64(_ value: Int64) throws -> EngineTensor {
        let t = try EngineTensor(dtype: .int64, shape: [])
        t.elements(Int64.self)[0] = value
        return t
    }

    /// Runs a graph of `nodes` on `feeds`, returning every named output.
    private func run(_ nodes: [Node], inputs: [ValueInfo], outputs: [String], _ feeds: [String: EngineValue]) throws -> [String: EngineValue] {
        let graph = Graph(nodes: nodes, inputs: inputs, outputs: outputs.map { ValueInfo(name: $0) })
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 21)], graph: graph))
        return try plan.run(values: feeds, context: ExecutionContext(threads: 1))
    }

    @Test func sequencePositionsCountFromEitherEnd() throws {
        let a = try floats([1], [1]), b = try floats([2], [1])
        let sequence = try EngineSequence(elementType: .float, [a, b])
        #expect(try sequence.position(-1) == 1)
        #expect(try sequence.position(2, allowingEnd: true) == 2)
        #expect(throws: ModelError.self) { try sequence.position(2) }
        #expect(throws: ModelError.self) { try sequence.position(-3) }
        let inserted = try sequence.inserting(try floats([3], [1]), at: 0)
        #expect(inserted.elements.map { $0.floats[0] } == [3, 1, 2])
        #expect(try inserted.removing(at: -1).elements.map { $0.floats[0] } == [3, 1])
        // The original is a value: editing a copy leaves it as it was.
        #expect(sequence.elements.count == 2)
    }

    /// Appending shares the store with the sequence appended to; a second
    /// append to that same sequence must not see (or disturb) the first.
    @Test func appendsToOneSequenceStayApart() throws {
        let base = try EngineSequence(elementType: .float, [try floats([1], [1])])
        let first = try base.inserting(try floats([2], [1]), at: 1)
        let second = try base.inserting(try floats([3], [1]), at: 1)
        let longer = try first.inserting(try floats([4], [1]), at: 2)
        #expect(base.elements.map { $0.floats[0] } == [1])
        #expect(first.elements.map { $0.floats[0] } == [1, 2])
        #expect(second.elements.map { $0.floats[0] } == [1, 3])
        #expect(longer.elements.map { $0.floats[0] } == [1, 2, 4])
        #expect(try first.removing(at: 0).elements.map { $0.floats[0] } == [2])
        #expect(first.elements.map { $0.floats[0] } == [1, 2])
    }

    /// A Loop that appends to a sequence every iteration: the carried
    /// sequence grows to 20,000 tensors, each append without copying the
    /// ones before (copying made this quadratic: 20,000 took 7 s).
    @Test func aLoopAppendsToASequenceInLinearTime() throws {
        let body = Graph(
            nodes: [Node(name: "keep", opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
                    Node(name: "append", opType: "SequenceInsert", inputs: ["s_in", "i"], outputs: ["s_out"])],
            inputs: [ValueInfo(name: "i", type: .tensor(.int64, [])), ValueInfo(name: "cond_in", type: .tensor(.bool, [])),
                     ValueInfo(name: "s_in", type: .sequence(.tensor(.int64, nil)))],
            outputs: [ValueInfo(name: "cond_out"), ValueInfo(name: "s_out")])
        let nodes = [
            Node(name: "empty", opType: "SequenceEmpty", inputs: [], outputs: ["s0"],
                 attributes: [Attribute(name: "dtype", value: .int(7))]),
            Node(name: "loop", opType: "Loop", inputs: ["n", "", "s0"], outputs: ["s"],
                 attributes: [Attribute(name: "body", value: .graph(body))]),
            Node(name: "length", opType: "SequenceLength", inputs: ["s"], outputs: ["count"]),
        ]
        let outputs = try run(nodes, inputs: [ValueInfo(name: "n", type: .tensor(.int64, []))], outputs: ["count"],
                              ["n": .tensor(try int64(20_000))])
        let count = try #require(outputs["count"]).tensor("count")
        #expect(count.elements(Int64.self)[0] == 20_000)
    }

    @Test func sequenceRefusesAnElementOfAnotherType() throws {
        let sequence = try EngineSequence(elementType: .float)
        #expect(throws: ModelError.self) { try sequence.inserting(try int64(1), at: 0) }
    }

    @Test func valueKindIsCheckedWhereATensorIsNeeded() throws {
        let value = EngineValue.sequence(try EngineSequence(elementType: .float))
        #expect(throws: ModelError.self) { try value.tensor("x") }
        let stored = try EngineValue.optional(.tensor(try floats([5], [1]))).stored(name: "y")
        guard case .optional(.tensor(let tensor)?) = stored else { Issue.record("not an optional tensor"); return }
        #expect(tensor.dims == [1])
    }

    @Test func sequencesFlowBetweenNodesAndOut() throws {
        // Split [1..6] into 3 parts of 2, drop the last, insert a tensor at the front, read and join.
        let nodes = [
            Node(name: "split", opType: "SplitToSequence", inputs: ["x", "two"], outputs: ["s"]),
            Node(name: "erase", opType: "SequenceErase", inputs: ["s"], outputs: ["e"]),
            Node(name: "insert", opType: "SequenceInsert", inputs: ["e", "front", "zero"], outputs: ["i"]),
            Node(name: "length", opType: "SequenceLength", inputs: ["i"], outputs: ["n"]),
            Node(name: "at", opType: "SequenceAt", inputs: ["i", "minusOne"], outputs: ["last"]),
            Node(name: "concat", opType: "ConcatFromSequence", inputs: ["i"], outputs: ["joined"],
                 attributes: [Attribute(name: "axis", value: .int(0))]),
            Node(name: "copy", opType: "Identity", inputs: ["i"], outputs: ["same"]),
        ]
        let inputs = ["x", "two", "front", "zero", "minusOne"].map { ValueInfo(name: $0) }
        let results = try run(nodes, inputs: inputs, outputs: ["n", "last", "joined", "same"], [
            "x": .tensor(try floats([1, 2, 3, 4, 5, 6], [6])), "two": .tensor(try int64(2)),
            "front": .tensor(try floats([9], [1])), "zero": .tensor(try int64(0)), "minusOne": .tensor(try int64(-1)),
        ])
        #expect(try results["n"]?.tensor("n").elements(Int64.self)[0] == 3)
        #expect(Array(try #require(results["last"]).tensor("last").floats) == [3, 4])
        #expect(Array(try #require(results["joined"]).tensor("joined").floats) == [9, 1, 2, 3, 4])
        #expect(try #require(results["same"]).sequence("same").elements.count == 3)
    }

    @Test func optionalsWrapTestAndUnwrap() throws {
        let nodes = [
            Node(name: "wrap", opType: "Optional", inputs: ["x"], outputs: ["o"]),
            Node(name: "has", opType: "OptionalHasElement", inputs: ["o"], outputs: ["has"]),
            Node(name: "get", opType: "OptionalGetElement", inputs: ["o"], outputs: ["got"]),
            Node(name: "none", opType: "Optional", inputs: [], outputs: ["empty"],
                 attributes: [Attribute(name: "type", value: .type(.tensor(.float, nil)))]),
            Node(name: "hasNone", opType: "OptionalHasElement", inputs: ["empty"], outputs: ["hasNone"]),
        ]
        let results = try run(nodes, inputs: [ValueInfo(name: "x")], outputs: ["has", "got", "hasNone", "empty"],
                              ["x": .tensor(try floats([7], [1]))])
        #expect(try results["has"]?.tensor("has").elements(UInt8.self)[0] == 1)
        #expect(try results["hasNone"]?.tensor("hasNone").elements(UInt8.self)[0] == 0)
        #expect(Array(try #require(results["got"]).tensor("got").floats) == [7])
        guard case .optional(nil)? = results["empty"] else { Issue.record("not an empty optional"); return }
    }

    @Test func aTensorKernelRefusesASequence() throws {
        let nodes = [
            Node(name: "construct", opType: "SequenceConstruct", inputs: ["x"], outputs: ["s"]),
            Node(name: "relu", opType: "Relu", inputs: ["s"], outputs: ["y"]),
        ]
        #expect(throws: ModelError.self) {
            try run(nodes, inputs: [ValueInfo(name: "x")], outputs: ["y"], ["x": .tensor(try floats([1], [1]))])
        }
    }
}
