import ModelInfo
import Testing

/// onnxruntime's transformer and quantisation operators (`com.microsoft`),
/// and the parameters of quantised weights: shapes and figures worked out by
/// hand from the counting rules in docs/COUNTING.md.
@Suite struct ContribOperatorTests {
    /// A stored tensor of zeros.
    static func tensor(_ name: String, _ dtype: DType, _ dims: [Int]) throws -> Tensor {
        let bytes = dtype.byteCount(elements: dims.reduce(1, *)) ?? 0
        return try Tensor(name: name, dtype: dtype, dims: dims, storage: .bytes(ByteRegion(copying: [UInt8](repeating: 0, count: bytes))))
    }

    /// One node in a model that imports com.microsoft, its runtime inputs given by name and shape.
    static func analyze(_ node: Node, inputs: [(String, DType, Shape)], initializers: [Tensor] = []) throws -> ModelAnalysis {
        let graph = Graph(nodes: [node], initializers: initializers,
                          inputs: inputs.map { ValueInfo(name: $0.0, type: .tensor($0.1, $0.2)) },
                          outputs: node.outputs.filter { !$0.isEmpty }.map { ValueInfo(name: $0) })
        let model = Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17), OpsetID(domain: "com.microsoft", version: 1)], graph: graph)
        return try Analyzer.analyze(model)
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [String: AttributeValue]) -> Node {
        Node(name: op.lowercased(), opType: op, domain: "com.microsoft", inputs: inputs, outputs: outputs,
             attributes: attributes.sorted { $0.key < $1.key }.map { Attribute(name: $0.key, value: $0.value) })
    }

    /// BERT's fused layer: B = 2, S = 8, E = 16, 4 heads of 4.
    @Test func attentionCountsProjectionAndCore() throws {
        let analysis = try Self.analyze(
            Self.node("Attention", ["x", "w", "b", "mask"], ["y", "present"], ["num_heads": .int(4)]),
            inputs: [("x", .float, [2, 8, 16]), ("mask", .int32, [2])],
            initializers: [try Self.tensor("w", .float, [16, 48]), try Self.tensor("b", .float, [48])])
        let node = analysis.nodes[0]
        #expect(node.status == .counted)
        #expect(analysis.facts["y"]?.shape == Shape([2, 8, 16]))
        #expect(analysis.facts["present"]?.shape == Shape([2, 2, 4, 8, 4]))
        // Projection 2·8·16·48, then Q·Kᵀ and ·V: 2·4·8·8·(4 + 4).
        #expect(node.macs == 12_288 + 4_096)
        // 2 per MAC, the bias once per projected element, 7 per score (scale, softmax, mask).
        #expect(node.flops == 2 * 16_384 + 2 * 8 * 48 + 2 * 4 * 8 * 8 * 7)
        #expect(node.params == 16 * 48 + 48)
    }

    /// GPT-2's form with a cache: 3 new tokens after 5.
    @Test func attentionWithPast() throws {
        let analysis = try Self.analyze(
            Self.node("Attention", ["x", "w", "", "", "past"], ["y", "present"], ["num_heads": .int(4), "unidirectional": .int(1)]),
            inputs: [("x", .float, [1, 3, 16]), ("past", .float, [2, 1, 4, 5, 4])],
            initializers: [try Self.tensor("w", .float, [16, 48])])
        let node = analysis.nodes[0]
        #expect(analysis.facts["y"]?.shape == Shape([1, 3, 16]))
        #expect(analysis.facts["present"]?.shape == Shape([2, 1, 4, 8, 4]))
        #expect(node.macs == 1 * 3 * 16 * 48 + 1 * 4 * 3 * 8 * (4 + 4))
        #expect(node.flops == 2 * node.macs + 4 * 3 * 8 * 7)
    }

    /// `qkv_hidden_sizes` with a narrower V: Q and K 16 wide, V 8.
    @Test func attentionWithHiddenSizes() throws {
        let analysis = try Self.analyze(
            Self.node("Attention", ["x", "w"], ["y"], ["num_heads": .int(4), "qkv_hidden_sizes": .ints([16, 16, 8])]),
            inputs: [("x", .float, [1, 3, 16])], initializers: [try Self.tensor("w", .float, [16, 40])])
        #expect(analysis.facts["y"]?.shape == Shape([1, 3, 8]))
        #expect(analysis.nodes[0].macs == 1 * 3 * 16 * 40 + 1 * 4 * 3 * 3 * (4 + 2))
        #expect(analysis.nodes[0].flops == 2 * analysis.nodes[0].macs + 4 * 3 * 3 * 6)
    }

    @Test func attentionRejectsSizesThatDoNotAddUp() throws {
        let analysis = try Self.analyze(
            Self.node("Attention", ["x", "w"], ["y"], ["num_heads": .int(4), "qkv_hidden_sizes": .ints([16, 16, 8])]),
            inputs: [("x", .float, [1, 3, 16])], initializers: [try Self.tensor("w", .float, [16, 48])])
        guard case .invalid(let message) = analysis.nodes[0].status else { Issue.record("not rejected"); return }
        #expect(message.contains("do not add up"))
    }

    /// Self-attention on projected Q, K, V with a cache of 6 and the projection's bias.
    @Test func multiHeadAttentionWithPast() throws {
        let analysis = try Self.analyze(
            Self.node("MultiHeadAttention", ["q", "k", "v", "b", "", "", "pk", "pv"], ["y", "present_k", "present_v"],
                      ["num_heads": .int(4), "unidirectional": .int(1)]),
            inputs: [("q", .float, [2, 4, 16]), ("k", .float, [2, 4, 16]), ("v", .float, [2, 4, 16]),
                     ("pk", .float, [2, 4, 6, 4]), ("pv", .float, [2, 4, 6, 4])],
            initializers: [try Self.tensor("b", .float, [48])])
        let node = analysis.nodes[0]
        #expect(analysis.facts["y"]?.shape == Shape([2, 4, 16]))
        #expect(analysis.facts["present_k"]?.shape == Shape([2, 4, 10, 4]))
        #expect(analysis.facts["present_v"]?.shape == Shape([2, 4, 10, 4]))
        #expect(node.macs == 2 * 4 * 4 * 10 * 8)
        // 7 per score; the bias once per element of Q, K and V.
        #expect(node.flops == 2 * 2_560 + 2 * 4 * 4 * 10 * 7 + 3 * 2 * 4 * 16)
        #expect(node.params == 48)
    }

    @Test func multiHeadAttentionPackedAndSplitForms() throws {
        let packed = try Self.analyze(Self.node("MultiHeadAttention", ["qkv"], ["y"], ["num_heads": .int(2)]),
                                      inputs: [("qkv", .float, [1, 5, 2, 3, 8])])
        #expect(packed.facts["y"]?.shape == Shape([1, 5, 16]))
        #expect(packed.nodes[0].macs == 1 * 2 * 5 * 5 * 16)
        #expect(packed.nodes[0].flops == 2 * 800 + 2 * 5 * 5 * 6)

        // Cross-attention whose keys and values are already split into heads: no cache to append to.
        let split = try Self.analyze(Self.node("MultiHeadAttention", ["q", "k", "v"], ["y", "pk"], ["num_heads": .int(4)]),
                                     inputs: [("q", .float, [1, 3, 16]), ("k", .float, [1, 4, 7, 4]), ("v", .float, [1, 4, 7, 4])])
        #expect(split.facts["y"]?.shape == Shape([1, 3, 16]))
        #expect(split.facts["pk"]?.shape == Shape([1, 4, 7, 4]))
        #expect(split.nodes[0].macs == 1 * 4 * 3 * 7 * 8)
    }

    /// 8 query heads sharing 2 key/value heads of 4, 4 new tokens after 6.
    @Test func groupQueryAttentionWithPast() throws {
        let analysis = try Self.analyze(
            Self.node("GroupQueryAttention", ["q", "k", "v", "pk", "pv", "seqlens", "total"], ["y", "present_k", "present_v"],
                      ["num_heads": .int(8), "kv_num_heads": .int(2)]),
            inputs: [("q", .float, [1, 4, 32]), ("k", .float, [1, 4, 8]), ("v", .float, [1, 4, 8]),
                     ("pk", .float, [1, 2, 6, 4]), ("pv", .float, [1, 2, 6, 4]), ("seqlens", .int32, [1]), ("total", .int32, [])])
        let node = analysis.nodes[0]
        #expect(node.status == .counted)
        #expect(analysis.facts["y"]?.shape == Shape([1, 4, 32]))
        #expect(analysis.facts["present_k"]?.shape == Shape([1, 2, 10, 4]))
        #expect(node.macs == 1 * 8 * 4 * 10 * 8)
        #expect(node.flops == 2 * 2_560 + 8 * 4 * 10 * 7, "causal by default")
    }

    /// Packed QKV with rotary embedding: the cos/sin caches are tables, not parameters.
    @Test func groupQueryAttentionPackedWithRotary() throws {
        let analysis = try Self.analyze(
            Self.node("GroupQueryAttention", ["qkv", "", "", "", "", "seqlens", "total", "cos", "sin"], ["y"],
                      ["num_heads": .int(8), "kv_num_heads": .int(2), "do_rotary": .int(1)]),
            inputs: [("qkv", .float, [1, 4, 48]), ("seqlens", .int32, [1]), ("total", .int32, [])],
            initializers: [try Self.tensor("cos", .float, [16, 2]), try Self.tensor("sin", .float, [16, 2])])
        let node = analysis.nodes[0]
        #expect(analysis.facts["y"]?.shape == Shape([1, 4, 32]))
        #expect(node.macs == 1 * 8 * 4 * 4 * 8)
        // 3 per rotated element: 4 features of each of the 8 + 2 Q and K heads at 4 positions.
        #expect(node.flops == 2 * 1_024 + 8 * 4 * 4 * 7 + 4 * 10 * 4 * 3)
        #expect(node.params == 0)
    }

    /// A past length the shapes do not give leaves the node uncounted rather than guessed.
    @Test func groupQueryAttentionWithUnknownPastIsUncounted() throws {
        let analysis = try Self.analyze(
            Self.node("GroupQueryAttention", ["q", "k", "v", "pk", "pv", "seqlens", "total"], ["y"],
                      ["num_heads": .int(8), "kv_num_heads": .int(2)]),
            inputs: [("q", .float, [1, 4, 32]), ("k", .float, [1, 4, 8]), ("v", .float, [1, 4, 8]),
                     ("pk", .float, Shape([.known(1), .known(2), .symbol("past"), .known(4)])),
                     ("pv", .float, Shape([.known(1), .known(2), .symbol("past"), .known(4)])),
                     ("seqlens", .int32, [1]), ("total", .int32, [])])
        #expect(analysis.nodes[0].status == .uncounted)
        #expect(analysis.nodes[0].cost == nil)
    }

    @Test func rotaryEmbeddingRotatesTheCachesWidth() throws {
        let caches = [try Self.tensor("cos", .float, [16, 4]), try Self.tensor("sin", .float, [16, 4])]
        let whole = try Self.analyze(Self.node("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"], [:]),
                                     inputs: [("x", .float, [1, 3, 32]), ("pos", .int64, [1, 3])], initializers: caches)
        #expect(whole.facts["y"]?.shape == Shape([1, 3, 32]))
        #expect(whole.nodes[0].flops == 96 * 3)
        #expect(whole.nodes[0].params == 0)

        // Half of each 8-wide head rotated: 4 heads × 3 positions × 4 features.
        let partial = try Self.analyze(
            Self.node("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"], ["num_heads": .int(4), "rotary_embedding_dim": .int(4)]),
            inputs: [("x", .float, [1, 3, 32]), ("pos", .int64, [1, 3])],
            initializers: [try Self.tensor("cos", .float, [16, 2]), try Self.tensor("sin", .float, [16, 2])])
        #expect(partial.nodes[0].flops == 4 * 3 * 4 * 3)
    }

    /// A 64×32 weight in 4 bits, blocks of 32: 2 blocks of 16 bytes per output feature.
    @Test func matMulNBitsCountsTheFloatWeightsValues() throws {
        let analysis = try Self.analyze(
            Self.node("MatMulNBits", ["a", "w", "scales", "zeros", "", "bias"], ["y"],
                      ["K": .int(64), "N": .int(32), "bits": .int(4), "block_size": .int(32)]),
            inputs: [("a", .float, [2, 3, 64])],
            initializers: [try Self.tensor("w", .uint8, [32, 2, 16]), try Self.tensor("scales", .float, [32, 2]),
                           try Self.tensor("zeros", .uint8, [32, 1]), try Self.tensor("bias", .float, [32])])
        let node = analysis.nodes[0]
        #expect(analysis.facts["y"]?.shape == Shape([2, 3, 32]))
        #expect(node.macs == 6 * 64 * 32)
        #expect(node.flops == 2 * 12_288 + 2 * 64 * 32 + 6 * 32, "dequantising each weight costs 2, the bias 1 per output")
        #expect(node.params == 64 * 32 + 32)
        #expect(node.weightBytes == 1_024 + 256 + 32 + 128)
        #expect(analysis.totals.paramsUnique == 64 * 32 + 32)
    }

    /// A 64×32 int8 weight with per-column scales and zero points, and a bias.
    @Test func dynamicQuantizeMatMulCountsAsMatMulPlusQuantisation() throws {
        let analysis = try Self.analyze(
            Self.node("DynamicQuantizeMatMul", ["a", "w", "scales", "zeros", "bias"], ["y"], [:]),
            inputs: [("a", .float, [2, 3, 64])],
            initializers: [try Self.tensor("w", .int8, [64, 32]), try Self.tensor("scales", .float, [32]),
                           try Self.tensor("zeros", .int8, [32]), try Self.tensor("bias", .float, [32])])
        let node = analysis.nodes[0]
        #expect(analysis.facts["y"]?.shape == Shape([2, 3, 32]) && analysis.facts["y"]?.dtype == .float)
        #expect(node.macs == 6 * 64 * 32)
        #expect(node.flops == 2 * 12_288 + 4 * 6 * 64 + 2 * 6 * 32, "quantising A costs 4 per element, scaling and bias 1 each per output")
        #expect(node.params == 64 * 32 + 32)
        #expect(node.weightBytes == 2_048 + 128 + 32 + 128)
    }

    @Test func matMulNBitsRejectsAMismatchedPacking() throws {
        let analysis = try Self.analyze(
            Self.node("MatMulNBits", ["a", "w", "scales"], ["y"], ["K": .int(64), "N": .int(32), "block_size": .int(32)]),
            inputs: [("a", .float, [2, 64])],
            initializers: [try Self.tensor("w", .uint8, [32, 4, 16]), try Self.tensor("scales", .float, [32, 4])])
        guard case .invalid = analysis.nodes[0].status else { Issue.record("not rejected"); return }
    }

    /// A QDQ model's int8 weight, int32 bias and their scales: the float model's parameter count, the quantised bytes.
    @Test func dequantizedWeightsAreParameters() throws {
        let nodes = [
            Node(name: "dqw", opType: "DequantizeLinear", inputs: ["wq", "ws", "wz"], outputs: ["w"]),
            Node(name: "dqb", opType: "DequantizeLinear", inputs: ["bq", "bs"], outputs: ["b"]),
            Node(name: "q", opType: "QuantizeLinear", inputs: ["x", "xs", "xz"], outputs: ["xq"]),
            Node(name: "dqx", opType: "DequantizeLinear", inputs: ["xq", "xs", "xz"], outputs: ["xd"]),
            Node(name: "fc", opType: "Gemm", inputs: ["xd", "w", "b"], outputs: ["y"]),
        ]
        let graph = Graph(nodes: nodes, initializers: [
            try Self.tensor("wq", .int8, [8, 4]), try Self.tensor("ws", .float, []), try Self.tensor("wz", .int8, []),
            try Self.tensor("bq", .int32, [4]), try Self.tensor("bs", .float, []),
            try Self.tensor("xs", .float, []), try Self.tensor("xz", .uint8, []),
        ], inputs: [ValueInfo(name: "x", type: .tensor(.float, [2, 8]))], outputs: [ValueInfo(name: "y")])
        let analysis = try Analyzer.analyze(Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 21)], graph: graph))
        #expect(analysis.totals.params == 8 * 4 + 4)
        #expect(analysis.totals.paramsUnique == 8 * 4 + 4)
        #expect(analysis.nodes[0].weightBytes == 32 + 4 + 1)
        #expect(analysis.nodes[1].weightBytes == 16 + 4)
        #expect(analysis.nodes[2].params == 0 && analysis.nodes[3].weightBytes == 0, "activations' scales are not weights")
        #expect(analysis.totals.macs == 2 * 8 * 4)
    }

    @Test func quantizedOperatorWeightsAreParameters() throws {
        let matmul = Node(name: "mm", opType: "MatMulInteger", inputs: ["x", "w", "", "wz"], outputs: ["y"])
        let integer = try Self.analyze(matmul, inputs: [("x", .uint8, [2, 8])],
                                       initializers: [try Self.tensor("w", .int8, [8, 4]), try Self.tensor("wz", .int8, [])])
        #expect(integer.totals.params == 32)
        #expect(integer.totals.weightBytes == 33)

        let conv = Node(name: "conv", opType: "QLinearConv",
                        inputs: ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], outputs: ["y"])
        let scalars = try ["xs", "ws", "ys"].map { try Self.tensor($0, .float, []) } + [try Self.tensor("xz", .uint8, []),
                                                                                        try Self.tensor("wz", .int8, [4]), try Self.tensor("yz", .uint8, [])]
        let linear = try Self.analyze(conv, inputs: [("x", .uint8, [1, 3, 8, 8])],
                                      initializers: [try Self.tensor("w", .int8, [4, 3, 3, 3]), try Self.tensor("b", .int32, [4])] + scalars)
        #expect(linear.totals.params == 4 * 27 + 4)
        // The weight, its scale and zero points, and the bias; the input's and output's scales are not weights.
        #expect(linear.totals.weightBytes == 108 + 4 + 4 + 16)
        #expect(linear.totals.macs == 4 * 6 * 6 * 27)
    }
}
