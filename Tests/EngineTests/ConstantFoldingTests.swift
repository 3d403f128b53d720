@testable import Engine
import ModelInfo
import Testing
import TestSupport

/// Nodes whose inputs are all constants run once, when the plan is made;
/// one that would make far more bytes than it reads stays a step.
@Suite struct ConstantFoldingTests {
    static func plan(_ nodes: [Node], initializers: [Tensor], inputs: [ValueInfo], outputs: [String]) throws -> ExecutionPlan {
        let graph = Graph(nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs.map { ValueInfo(name: $0) })
        return try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
    }

    static func floats(_ name: String, _ values: [Float], _ dims: [Int]) throws -> Tensor {
        try EngineTensor.holding(values, .float, dims).stored(name: name)
    }

    /// A tied head's shape: MatMul(x, Transpose(W)) with W stored.
    @Test func aTransposedWeightIsComputedOnce() throws {
        let w = try Self.floats("w", [1, 2, 3, 4, 5, 6], [3, 2])
        let plan = try Self.plan([Node(name: "t", opType: "Transpose", inputs: ["w"], outputs: ["wt"]),
                                  Node(name: "mm", opType: "MatMul", inputs: ["x", "wt"], outputs: ["y"])],
                                 initializers: [w], inputs: [ValueInfo(name: "x", type: .tensor(.float, [1, 2]))], outputs: ["y"])
        #expect(plan.steps.count == 1)
        let y = try #require(try plan.run(["x": .holding([Float(1), 10], .float, [1, 2])], context: ExecutionContext(threads: 1))["y"])
        #expect(Array(y.floats) == [21, 43, 65])
    }

    /// An Expand of one stored number into 2^20 floats makes far more than it reads: it runs with the graph.
    @Test func aLargeExpansionIsNotFolded() throws {
        let one = try Self.floats("one", [1], [1])
        let shape = try EngineTensor.holding([Int64(1 << 20)], .int64, [1]).stored(name: "shape")
        let plan = try Self.plan([Node(name: "e", opType: "Expand", inputs: ["one", "shape"], outputs: ["big"]),
                                  Node(name: "add", opType: "Add", inputs: ["big", "x"], outputs: ["y"])],
                                 initializers: [one, shape], inputs: [ValueInfo(name: "x", type: .tensor(.float, [1]))], outputs: ["y"])
        #expect(plan.steps.count == 2)
        let y = try #require(try plan.run(["x": .holding([Float(2)], .float, [1])], context: ExecutionContext(threads: 1))["y"])
        #expect(y.count == 1 << 20 && y.floats[0] == 3)
    }
}
