import Foundation
import ModelInfo
import Testing
import TestSupport

/// onnxruntime's com.microsoft kernels on one-node graphs. Inputs follow
/// `values(count, shift)`; the expected figures were computed by
/// onnxruntime 1.32 (CPU, graph optimisations off) on the same inputs.
@Suite struct ContribKernelTests {
    /// ((7i + shift) mod 11 − 5) / 4: small, exact in float32, of both signs.
    private func values(_ count: Int, _ shift: Int = 0) -> [Float] {
        (0..<count).map { Float(($0 * 7 + shift) % 11 - 5) / 4 }
    }

    private func tensor<T>(_ values: [T], _ dtype: DType, _ shape: [Int]) throws -> EngineTensor { try .holding(values, dtype, shape) }

    private func floats(_ values: [Float], _ shape: [Int]) throws -> EngineTensor { try tensor(values, .float, shape) }

    /// Runs com.microsoft `op` on `inputs` (nil: omitted) and returns its outputs.
    private func run(_ op: String, _ inputs: [EngineTensor?], attributes: [String: AttributeValue] = [:], outputs: Int = 1,
                     domain: String = "com.microsoft") throws -> [EngineTensor] {
        let names = inputs.indices.map { inputs[$0] == nil ? "" : "x\($0)" }, outputNames = (0..<outputs).map { "y\($0)" }
        let node = Node(name: "n", opType: op, domain: domain, inputs: names, outputs: outputNames,
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        let given = zip(names, inputs).compactMap { name, t in t.map { (name, $0) } }
        let graph = Graph(nodes: [node], inputs: given.map { ValueInfo(name: $0.0, type: .tensor($0.1.dtype, Shape($0.1.shape))) },
                          outputs: outputNames.map { ValueInfo(name: $0) })
        let model = Model(irVersion: 9, opsets: [OpsetID(domain: "", version: 17), OpsetID(domain: "com.microsoft", version: 1)], graph: graph)
        let results = try ExecutionPlan(model: model).run(Dictionary(uniqueKeysWithValues: given), context: ExecutionContext(threads: 2))
        return try outputNames.map { try #require(results[$0]) }
    }

    private func expectClose(_ actual: EngineTensor, _ expected: [Float], _ shape: [Int], _ what: String) {
        #expect(actual.shape == shape, "\(what) shape")
        guard actual.shape == shape else { return }
        for (i, e) in expected.enumerated() {
            let a = actual.floats[i]
            #expect(abs(a - e) <= 1e-5 + 1e-4 * abs(e), "\(what)[\(i)]: \(a), onnxruntime \(e)")
        }
    }

    @Test func activationsMatchOnnxruntime() throws {
        let x = try floats(values(12), [2, 6]), bias = try floats(values(6, 3), [6])
        expectClose(try run("Gelu", [x])[0], [-0.132062, 0.345731, -0.154269, 1.11794, 0.149677, -0.169971, 0.841345, 0, -0.158655, 0.580029, -0.100323, -0.132062], [2, 6], "Gelu")
        expectClose(try run("FastGelu", [x, bias])[0], [-0.0702046, 1.6798, -0.100325, 0.345714, 1.11771, -0.170039, 0.345714, 1.11771, -0.170039, 0, 0.579961, -0.132286], [2, 6], "FastGelu")
        expectClose(try run("BiasGelu", [x, bias])[0], [-0.0701035, 1.6799, -0.100323, 0.345731, 1.11794, -0.169971, 0.345731, 1.11794, -0.169971, 0, 0.580029, -0.132062], [2, 6], "BiasGelu")
        expectClose(try run("QuickGelu", [x], attributes: ["alpha": .float(1.5)])[0], [-0.166205, 0.339589, -0.160411, 1.08379, 0.148167, -0.183814, 0.817574, 0, -0.182426, 0.566186, -0.101833, -0.166205], [2, 6], "QuickGelu")
    }

    /// onnxruntime has no CPU BiasAdd; the sum is exact in float32.
    @Test func biasAddSumsItsThreeInputs() throws {
        let (x, bias, skip) = (values(12), values(6, 3), values(12, 5))
        let y = try run("BiasAdd", [try floats(x, [1, 2, 6]), try floats(bias, [6]), try floats(skip, [1, 2, 6])])[0]
        expectClose(y, (0..<12).map { x[$0] + bias[$0 % 6] + skip[$0] }, [1, 2, 6], "BiasAdd")
    }

    @Test func skipNormalisationsMatchOnnxruntime() throws {
        let x = try floats(values(12), [1, 2, 6]), skip = try floats(values(12, 4), [1, 2, 6])
        let gamma = try floats(values(6, 1), [6]), beta = try floats(values(6, 2), [6]), bias = try floats(values(6, 9), [6])
        let sum: [Float] = [-0.5, -0.75, -1, 1.5, 1.25, -1.75, 1.25, 1, -2, 0.5, 0.25, -2.75]
        let full = try run("SkipLayerNormalization", [x, skip, gamma, beta, bias], attributes: ["epsilon": .float(1e-5)], outputs: 4)
        expectClose(full[0], [-0.503894, 0.65721, 0.167001, -2.80185, 1.36527, 0.400423, -1.76189, 1.63585, 0.280322, -1.64953, 0.927765, 0.55678], [1, 2, 6], "SkipLayerNormalization")
        expectClose(full[1], [-0.208333, -0.291667], [1, 2, 1], "SkipLayerNormalization mean")
        expectClose(full[2], [0.843792, 0.656364], [1, 2, 1], "SkipLayerNormalization inv_std_var")
        expectClose(full[3], sum, [1, 2, 6], "SkipLayerNormalization input_skip_bias_sum")
        let rms = try run("SkipSimplifiedLayerNormalization", [x, skip, gamma, bias], attributes: ["epsilon": .float(1e-5)], outputs: 4)
        expectClose(rms[0], [0.415525, -0.467465, 0.207762, -1.55822, 0.519406, 0.727168, -0.805821, 0.483493, 0.322329, -0.402911, 0.0805821, 0.886403], [1, 2, 6], "SkipSimplifiedLayerNormalization")
        expectClose(rms[2], [0.831049, 0.644657], [1, 2, 1], "SkipSimplifiedLayerNormalization inv_std_var")
        expectClose(rms[3], sum, [1, 2, 6], "SkipSimplifiedLayerNormalization sum")
        let simplified = try run("SimplifiedLayerNormalization", [x, gamma], attributes: ["epsilon": .float(1e-5)], domain: "")
        expectClose(simplified[0], [1.48521, 0.445563, 0.148521, -1.85651, 0.148521, 0.445563, -1.197, 0, 0.299251, -1.12219, -0.149625, 0.748127], [1, 2, 6], "SimplifiedLayerNormalization")
    }

    @Test func fusedMatMulTransposesAndScales() throws {
        let y = try run("FusedMatMul", [try floats(values(12), [2, 3, 2]), try floats(values(8, 2), [4, 2])],
                        attributes: ["transB": .int(1), "alpha": .float(0.5)])[0]
        expectClose(y, [0.71875, -0.25, -0.53125, 0.90625, 0.8125, -0.625, -0.34375, 0.625, -0.46875, 0.375, 0.1875, -0.34375,
                        -0.375, 0, 0.375, -0.625, 0.75, -0.375, -0.46875, 0.8125, -0.53125, 0.625, 0.0625, -0.15625], [2, 3, 4], "FusedMatMul")
    }

    /// Two heads of 2 over 3 tokens, causal: with a raw mask hiding the last token, then with a cache of 2 tokens.
    @Test func attentionMatchesOnnxruntime() throws {
        let x = try floats(values(12), [1, 3, 4]), w = try floats(values(48, 6), [4, 12]), b = try floats(values(12, 8), [12])
        let attributes: [String: AttributeValue] = ["num_heads": .int(2), "unidirectional": .int(1)]
        let masked = try run("Attention", [x, w, b, try tensor([1, 1, 0] as [Int32], .int32, [1, 3])], attributes: attributes, outputs: 2)
        expectClose(masked[0], [-0.1875, 0.1875, -0.8125, -0.4375, 0.48878, -0.0427229, -0.812524, -0.437417, 0.30511, 0.0198031, -0.818522, -0.416655], [1, 3, 4], "Attention")
        expectClose(masked[1], [-0.3125, 1.4375, -1.5625, 0.375, 2.6875, 0, -0.9375, 2.875, 1.625, -1.9375, 0.0625, -0.5625,
                                -0.1875, 0.1875, 2.75, -0.8125, -0.5, 2.3125, -0.8125, -0.4375, -1.625, 2.375, -3.125, -0.3125], [2, 1, 2, 3, 2], "Attention present")
        let cached = try run("Attention", [x, w, b, nil, try floats(values(16, 3), [2, 1, 2, 2, 2])], attributes: attributes, outputs: 2)
        expectClose(cached[0], [0.00272308, -0.538042, -0.376703, 0.56115, 0.464183, -0.502553, -0.807154, -0.362995, 0.0838624, -0.411625, -0.91555, 0.35228], [1, 3, 4], "Attention with past")
        #expect(cached[1].shape == [2, 1, 2, 5, 2])
    }

    @Test func multiHeadAttentionMatchesOnnxruntime() throws {
        let y = try run("MultiHeadAttention", [try floats(values(12), [1, 3, 4]), try floats(values(8, 1), [1, 2, 4]),
                                               try floats(values(8, 2), [1, 2, 4]), try floats(values(12, 3), [12])],
                        attributes: ["num_heads": .int(2)])[0]
        expectClose(y, [-0.951695, -0.290254, -0.207382, -0.651142, -0.504642, -0.662798, -0.28695, -0.55566, -0.949586, -0.292012, 0.366198, -1.33944], [1, 3, 4], "MultiHeadAttention")
    }

    /// K 32, N 2, 4 bits in blocks of 16, with packed zero points.
    @Test func matMulNBitsMatchesOnnxruntime() throws {
        let b = try tensor((0..<32).map { UInt8($0 * 37 % 256) }, .uint8, [2, 2, 8])
        let scales = try floats(values(4, 1).map { $0 / 10 }, [4])
        let y = try run("MatMulNBits", [try floats(values(64), [2, 32]), b, scales, try tensor([0x93, 0x5a] as [UInt8], .uint8, [2])],
                        attributes: ["K": .int(32), "N": .int(2), "bits": .int(4), "block_size": .int(16)])[0]
        expectClose(y, [-1.8625, 1.56875, 1.225, 0.04375], [2, 2], "MatMulNBits")
    }

    /// Two heads of 4 over 3 tokens; caches cos/sin(position · (1, 0.3)) for 6 positions.
    @Test func rotaryEmbeddingMatchesOnnxruntime() throws {
        let angles = (0..<6).flatMap { p in [1.0, 0.3].map { Double(p) * $0 } }
        let cos = try floats(angles.map { Float(Foundation.cos($0)) }, [6, 2]), sin = try floats(angles.map { Float(Foundation.sin($0)) }, [6, 2])
        let x = try floats(values(24), [1, 3, 8])
        let halves = try run("RotaryEmbedding", [x, try tensor([2, 0, 5] as [Int64], .int64, [1, 3]), cos, sin], attributes: ["num_heads": .int(2)])[0]
        expectClose(halves, [0.974832, -0.293135, -0.928548, 1.31399, -1.01333, -0.619002, -0.188822, -0.423482, -1, 0.75, -0.25, -1.25,
                             0.5, -0.5, 1.25, 0.25, -0.212747, 1.06823, 0.719193, 0.926758, -0.985909, -0.516432, -1.07377, -0.214005], [1, 3, 8], "RotaryEmbedding")
        let pairs = try run("RotaryEmbedding", [x, try tensor([1] as [Int64], .int64, [1]), cos, sin],
                            attributes: ["num_heads": .int(2), "interleaved": .int(1)])[0]
        expectClose(pairs, [-1.09611, -0.781688, -0.847069, 1.04641, 0.766179, -0.194859, 0.955337, 0.29552, -0.265826, -1.22141, 0.499469, -1.17283,
                            0.246575, 0.662722, 0.890509, 0.912137, 0.601374, -1.09583, 0.783327, -0.62161, -0.707214, 0.353338, -1.16868, -0.668354], [1, 3, 8], "RotaryEmbedding interleaved")
    }

    @Test func attentionRefusesAMalformedMask() throws {
        let x = try floats(values(12), [1, 3, 4]), w = try floats(values(48, 6), [4, 12])
        #expect(throws: ModelError.self) {
            _ = try run("Attention", [x, w, nil, try tensor([1, 1] as [Int32], .int32, [1, 2])], attributes: ["num_heads": .int(2)])
        }
    }
}
