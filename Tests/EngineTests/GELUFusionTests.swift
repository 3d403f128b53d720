@testable import Engine
import Foundation
import ModelInfo
import Testing
import TestSupport

/// GELU's five-node erf form runs as one step, in the orders exporters write
/// it; a chain whose inner value is read elsewhere, or whose constant is not
/// √2, stays apart; other element types run the chain's own kernels.
@Suite struct GELUFusionTests {
    static let inputs: [Float] = [-20, -5, -3, -1, -0.25, 0, 0.25, 1, 3, 5, 20, .nan]

    static func scalar(_ name: String, _ value: Float, _ dtype: DType) throws -> Tensor {
        dtype == .float16 ? try EngineTensor.holding([Float16(value).bitPattern], .float16, []).stored(name: name)
                          : try EngineTensor.holding([value], .float, []).stored(name: name)
    }

    /// x → (Div x, √2 | Mul x, 1/√2) → Erf → Add 1 → Mul x → Mul 0.5, or with the half taken of x first.
    static func plan(halfFirst: Bool = false, multiplyByInverse: Bool = false, root: Float = 1.4142135,
                     outputs: [String] = ["y"], dtype: DType = .float) throws -> ExecutionPlan {
        var nodes = [multiplyByInverse ? Node(name: "scale", opType: "Mul", inputs: ["inverse", "x"], outputs: ["d"])
                                       : Node(name: "scale", opType: "Div", inputs: ["x", "root"], outputs: ["d"]),
                     Node(name: "erf", opType: "Erf", inputs: ["d"], outputs: ["e"]),
                     Node(name: "plus", opType: "Add", inputs: ["one", "e"], outputs: ["a"])]
        if halfFirst {
            nodes += [Node(name: "half", opType: "Mul", inputs: ["x", "half"], outputs: ["h"]),
                      Node(name: "product", opType: "Mul", inputs: ["a", "h"], outputs: ["y"])]
        } else {
            nodes += [Node(name: "product", opType: "Mul", inputs: ["x", "a"], outputs: ["p"]),
                      Node(name: "half", opType: "Mul", inputs: ["p", "half"], outputs: ["y"])]
        }
        let initializers = [try scalar("root", root, dtype), try scalar("inverse", 1 / root, dtype),
                            try scalar("one", 1, dtype), try scalar("half", 0.5, dtype)]
        let graph = Graph(nodes: nodes, initializers: initializers,
                          inputs: [ValueInfo(name: "x", type: .tensor(dtype, [inputs.count]))], outputs: outputs.map { ValueInfo(name: $0) })
        return try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
    }

    static func checkFloat(_ plan: ExecutionPlan) throws {
        let y = try #require(try plan.run(["x": .holding(inputs, .float, [inputs.count])], context: ExecutionContext(threads: 1))["y"])
        for (x, value) in zip(inputs, y.floats) {
            let exact = 0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))
            #expect(x.isNaN ? value.isNaN : abs(Double(value) - exact) <= 4e-7 * max(1, abs(exact)), "x = \(x)")
        }
    }

    @Test func eachExportedOrderIsOneStep() throws {
        for (halfFirst, multiplyByInverse) in [(false, false), (true, false), (false, true), (true, true)] {
            let plan = try Self.plan(halfFirst: halfFirst, multiplyByInverse: multiplyByInverse)
            #expect(plan.steps.count == 1, "half first \(halfFirst), inverse \(multiplyByInverse)")
            // The step names its own node (the last) first, then the four fused into it.
            #expect(plan.stepNodes.first?.nodes == [4, 0, 1, 2, 3])
            try Self.checkFloat(plan)
        }
    }

    /// GPT-2's form: x·0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as its exporter writes the nodes.
    @Test func theTanhFormIsOneStep() throws {
        let nodes = [Node(name: "half", opType: "Mul", inputs: ["half", "x"], outputs: ["h"]),
                     Node(name: "cube", opType: "Pow", inputs: ["x", "three"], outputs: ["p"]),
                     Node(name: "small", opType: "Mul", inputs: ["p", "c"], outputs: ["q"]),
                     Node(name: "sum", opType: "Add", inputs: ["x", "q"], outputs: ["s"]),
                     Node(name: "scale", opType: "Mul", inputs: ["k", "s"], outputs: ["t"]),
                     Node(name: "tanh", opType: "Tanh", inputs: ["t"], outputs: ["u"]),
                     Node(name: "plus", opType: "Add", inputs: ["u", "one"], outputs: ["a"]),
                     Node(name: "product", opType: "Mul", inputs: ["h", "a"], outputs: ["y"])]
        let initializers = [try Self.scalar("half", 0.5, .float), try Self.scalar("three", 3, .float), try Self.scalar("c", 0.044715, .float),
                            try Self.scalar("k", 0.7978845608, .float), try Self.scalar("one", 1, .float)]
        let graph = Graph(nodes: nodes, initializers: initializers,
                          inputs: [ValueInfo(name: "x", type: .tensor(.float, [Self.inputs.count]))], outputs: [ValueInfo(name: "y")])
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
        #expect(plan.steps.count == 1)
        let y = try #require(try plan.run(["x": .holding(Self.inputs, .float, [Self.inputs.count])], context: ExecutionContext(threads: 1))["y"])
        for (x, value) in zip(Self.inputs, y.floats) {
            let v = Double(x)
            let exact = 0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v)))
            #expect(x.isNaN ? value.isNaN : abs(Double(value) - exact) <= 4e-7 * max(1, abs(exact)), "x = \(x)")
        }
    }

    @Test func anInnerValueReadElsewhereOrAnotherConstantIsNotFused() throws {
        let read = try Self.plan(outputs: ["y", "e"])
        #expect(read.steps.count == 5)
        try Self.checkFloat(read)
        let other = try Self.plan(root: 1.5)
        #expect(other.steps.count == 5)
    }

    @Test func float16RunsTheChainsKernels() throws {
        for halfFirst in [false, true] {
            let plan = try Self.plan(halfFirst: halfFirst, dtype: .float16)
            #expect(plan.steps.count == 1)
            let halves = Self.inputs.map { Float16($0).bitPattern }
            let y = try #require(try plan.run(["x": .holding(halves, .float16, [halves.count])], context: ExecutionContext(threads: 1))["y"])
            #expect(y.dtype == .float16)
            let values = y.elements(UInt16.self).map { Float(Float16(bitPattern: $0)) }
            // GELU(1) = 0.841345, GELU(−1) = −0.158655.
            #expect(abs(values[7] - 0.841345) < 1e-3 && abs(values[3] + 0.158655) < 1e-3 && values[5] == 0 && values[11].isNaN)
        }
    }
}
