@testable import Engine
import Foundation
import ModelInfo
import Testing
import TestSupport

/// Sigmoid feeding only Mul(x, Sigmoid(x)) runs as one SiLU step, in either
/// operand order; a Sigmoid read elsewhere, or a graph output, stays apart.
@Suite struct SiLUFusionTests {
    static let inputs: [Float] = [-100, -20, -3, -1, -0.25, 0, 0.25, 1, 3, 20, 100, .nan]

    static func plan(_ mulInputs: [String], outputs: [String], dtype: DType = .float) throws -> ExecutionPlan {
        let nodes = [Node(name: "sigmoid", opType: "Sigmoid", inputs: ["x"], outputs: ["s"]),
                     Node(name: "mul", opType: "Mul", inputs: mulInputs, outputs: ["y"])]
        let graph = Graph(nodes: nodes, inputs: [ValueInfo(name: "x", type: .tensor(dtype, [inputs.count]))],
                          outputs: outputs.map { ValueInfo(name: $0) })
        return try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
    }

    @Test func siluIsOneStepInEitherOrder() throws {
        for mulInputs in [["x", "s"], ["s", "x"]] {
            let plan = try Self.plan(mulInputs, outputs: ["y"])
            #expect(plan.steps.count == 1)
            let y = try #require(try plan.run(["x": .holding(Self.inputs, .float, [Self.inputs.count])], context: ExecutionContext(threads: 1))["y"])
            for (x, value) in zip(Self.inputs, y.floats) {
                let exact = Double(x) / (1 + Foundation.exp(-Double(x)))
                #expect(x.isNaN ? value.isNaN : abs(Double(value) - exact) <= 2e-7 * max(1, abs(exact)), "x = \(x)")
            }
        }
    }

    @Test func aSigmoidReadElsewhereIsNotFused() throws {
        let plan = try Self.plan(["x", "s"], outputs: ["y", "s"])
        #expect(plan.steps.count == 2)
        let outputs = try plan.run(["x": .holding(Self.inputs, .float, [Self.inputs.count])], context: ExecutionContext(threads: 1))
        #expect(outputs["s"] != nil && outputs["y"] != nil)
    }

    @Test func float16TakesBothKernelsInTurn() throws {
        let plan = try Self.plan(["s", "x"], outputs: ["y"], dtype: .float16)
        #expect(plan.steps.count == 1)
        let halves = Self.inputs.map { Float16($0).bitPattern }
        let y = try #require(try plan.run(["x": .holding(halves, .float16, [halves.count])], context: ExecutionContext(threads: 1))["y"])
        #expect(y.dtype == .float16)
        let values = y.elements(UInt16.self).map { Float(Float16(bitPattern: $0)) }
        #expect(abs(values[7] - 0.7310586) < 1e-3 && values[5] == 0 && values[11].isNaN)
    }
}
