import ModelInfo
import Testing

/// The opset 23 attention kernel on a decoder step, against figures worked
/// out independently (onnxruntime 1.32, when the test was written).
@Suite struct SequenceKernelTests {
    private func tensor(_ values: [Float], _ shape: [Int]) throws -> EngineTensor {
        let t = try EngineTensor(dtype: .float, shape: shape)
        try #require(t.count == values.count)
        for (i, v) in values.enumerated() { t.floats[i] = v }
        return t
    }

    /// Four query heads share two key/value heads; two new positions follow two cached ones, causally.
    /// Query row 0 sees keys 0…2 and row 1 all four: the frontier is offset by the cache's length.
    @Test(arguments: [1, 3])
    func groupedCausalAttentionWithACacheMatchesOnnxruntime(threads: Int) throws {
        let feeds: [String: EngineTensor] = [
            "q": try tensor([-1.0, -0.25, 0.5, 1.25, -0.75, 0.0, 0.75, -1.25, -0.5, 0.25, 1.0, -1.0, -0.25, 0.5, 1.25, -0.75], [1, 4, 2, 2]),
            "k": try tensor([-0.75, 0.5, -1.0, 0.25, -1.25, 0.0, 1.25, -0.25], [1, 2, 2, 2]),
            "v": try tensor([-0.5, 1.25, 0.25, -0.75, 1.0, 0.0, -1.0, 0.75], [1, 2, 2, 2]),
            "pk": try tensor([-0.25, 0.25, 0.75, 1.25, -1.0, -0.5, 0.0, 0.5], [1, 2, 2, 2]),
            "pv": try tensor([0.0, 1.0, -0.75, 0.25, 1.25, -0.5, 0.5, -1.25], [1, 2, 2, 2]),
        ]
        let node = Node(name: "attention", opType: "Attention", inputs: ["q", "k", "v", "", "pk", "pv"], outputs: ["y", "present_key"],
                        attributes: [Attribute(name: "is_causal", value: .int(1))])
        let graph = Graph(nodes: [node],
                          inputs: ["q", "k", "v", "pk", "pv"].map { ValueInfo(name: $0, type: .tensor(.float, Shape(feeds[$0]!.shape))) },
                          outputs: [ValueInfo(name: "y"), ValueInfo(name: "present_key")])
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 23)], graph: graph))
        let results = try plan.run(feeds, context: ExecutionContext(threads: threads))
        let y = try #require(results["y"]), present = try #require(results["present_key"])
        let expected: [Float] = [-0.35708025, 1.0110805, -0.46587047, 0.41425955, -0.37797701, 0.96009874, -0.2228767, 0.48190442,
                                 0.94425434, -0.51048809, -0.26483577, 0.19919509, 0.89923936, -0.57887459, -0.40495303, 0.26691163]
        #expect(y.shape == [1, 4, 2, 2])
        for (i, e) in expected.enumerated() { #expect(abs(y.floats[i] - e) <= 1e-6, "Y[\(i)]") }
        #expect(present.shape == [1, 2, 4, 2])
        #expect(Array(present.floats) == [-0.25, 0.25, 0.75, 1.25, -0.75, 0.5, -1.0, 0.25, -1.0, -0.5, 0.0, 0.5, -1.25, 0.0, 1.25, -0.25])
    }
}
