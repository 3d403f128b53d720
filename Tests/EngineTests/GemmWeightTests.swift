@testable import Engine
import ModelInfo
import Testing
import TestSupport

/// Gemm with a constant B: transposed or not, at few rows (B read in place)
/// and at many (B packed, on demand when transposed), with a bias C
/// broadcast from each shape Gemm allows; against a float64 product.
@Suite struct GemmWeightTests {
    static let (k, n) = (37, 53)

    static func value(_ i: Int, _ salt: Int) -> Float { Float((i * 7919 + salt * 104729) % 2001 - 1000) / 1000 }

    static func plan(transB: Bool, bias: [Int]) throws -> ExecutionPlan {
        let b = (0..<k * n).map { value($0, 1) }
        let c = (0..<bias.reduce(1, *)).map { value($0, 2) }
        let initializers = [try EngineTensor.holding(b, .float, transB ? [n, k] : [k, n]).stored(name: "b"),
                            try EngineTensor.holding(c, .float, bias).stored(name: "c")]
        let node = Node(name: "gemm", opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"],
                        attributes: [Attribute(name: "transB", value: .int(transB ? 1 : 0)), Attribute(name: "beta", value: .float(0.5))])
        let graph = Graph(nodes: [node], initializers: initializers, inputs: [ValueInfo(name: "a")], outputs: [ValueInfo(name: "y")])
        return try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
    }

    @Test(arguments: [[n], [1, n], [1, 1]])
    func productsMatchAtFewAndManyRows(bias: [Int]) throws {
        for transB in [false, true] {
            let plan = try Self.plan(transB: transB, bias: bias)
            // 3 rows read a transposed B in place; 40 pack it, and the second run reuses the packing.
            for m in [3, 40, 40] {
                let a = (0..<m * Self.k).map { Self.value($0, 3) }
                let y = try #require(try plan.run(["a": .holding(a, .float, [m, Self.k])], context: ExecutionContext(threads: 2))["y"])
                #expect(y.shape == [m, Self.n])
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<Self.n {
                        var sum = 0.0
                        for p in 0..<Self.k {
                            sum += Double(a[i * Self.k + p]) * Double(Self.value(transB ? j * Self.k + p : p * Self.n + j, 1))
                        }
                        let c = Self.value(bias == [Self.n] || bias == [1, Self.n] ? j : 0, 2)
                        worst = max(worst, abs(Double(y.floats[i * Self.n + j]) - (sum + 0.5 * Double(c))))
                    }
                }
                #expect(worst < 1e-5, "transB \(transB), \(m) rows, bias \(bias)")
            }
        }
    }
}
