@testable import Engine
import ModelInfo
import Testing

/// A BatchNormalization read only by a Relu or a Clip runs as one step that
/// normalises and clamps; NaN passes the clamp, as Relu and Clip let it. A
/// BatchNorm whose output is read elsewhere, or is a graph output, stays apart.
@Suite struct NormActivationFusionTests {
    static let channels = 3
    /// Two values per channel, among them NaN and values either side of the clamp.
    static let inputs: [Float] = [-4, 0.5, 2, .nan, 9, -0.25]
    static let scale: [Float] = [2, 0.5, -1], bias: [Float] = [1, -0.5, 0.25], mean: [Float] = [0.5, 0, -1], variance: [Float] = [1, 4, 0.25]
    static let epsilon: Float = 1e-5

    static func stored(_ name: String, _ values: [Float], dims: [Int]? = nil) throws -> Tensor {
        try Tensor(name: name, dtype: .float, dims: dims ?? [values.count], storage: .bytes(ByteRegion(copying: values.withUnsafeBytes { Array($0) })))
    }

    /// BatchNormalization → `activation` (with Clip's bounds as constant inputs), whose output is `y`.
    static func plan(_ activation: Node, outputs: [String]) throws -> ExecutionPlan {
        let norm = Node(name: "bn", opType: "BatchNormalization", inputs: ["x", "scale", "bias", "mean", "var"], outputs: ["n"],
                        attributes: [Attribute(name: "epsilon", value: .float(epsilon))])
        let graph = Graph(nodes: [norm, activation],
                          initializers: [try stored("scale", scale), try stored("bias", bias), try stored("mean", mean),
                                         try stored("var", variance), try stored("low", [-1], dims: []), try stored("high", [1.5], dims: [])],
                          inputs: [ValueInfo(name: "x", type: .tensor(.float, [1, channels, 2]))],
                          outputs: outputs.map { ValueInfo(name: $0) })
        return try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
    }

    static func expected(low: Float, high: Float) -> [Float] {
        inputs.enumerated().map { i, x in
            let c = i / 2
            let a = scale[c] / (variance[c] + epsilon).squareRoot()
            let y = a * x + (bias[c] - mean[c] * a)
            return y.isNaN ? y : min(max(y, low), high)
        }
    }

    static func run(_ plan: ExecutionPlan) throws -> [String: EngineTensor] {
        try plan.run(["x": .holding(inputs, .float, [1, channels, 2])], context: ExecutionContext(threads: 1))
    }

    @Test(arguments: [(Node(name: "relu", opType: "Relu", inputs: ["n"], outputs: ["y"]), Float(0), Float.infinity),
                      (Node(name: "clip", opType: "Clip", inputs: ["n", "low", "high"], outputs: ["y"]), Float(-1), Float(1.5))])
    func batchNormAndItsActivationAreOneStep(_ activation: Node, low: Float, high: Float) throws {
        let plan = try Self.plan(activation, outputs: ["y"])
        #expect(plan.steps.count == 1)
        #expect(plan.steps.first?.nodes.count == 2)
        let y = try #require(try Self.run(plan)["y"])
        for (value, exact) in zip(y.floats, Self.expected(low: low, high: high)) {
            #expect(exact.isNaN ? value.isNaN : abs(value - exact) <= 1e-6 * max(1, abs(exact)), "expected \(exact), got \(value)")
        }
    }

    @Test func aBatchNormReadElsewhereIsNotFused() throws {
        let plan = try Self.plan(Node(name: "relu", opType: "Relu", inputs: ["n"], outputs: ["y"]), outputs: ["y", "n"])
        #expect(plan.steps.count == 2)
        let outputs = try Self.run(plan)
        let n = try #require(outputs["n"]), y = try #require(outputs["y"])
        #expect(n.floats[0] < 0 && y.floats[0] == 0)
    }
}
