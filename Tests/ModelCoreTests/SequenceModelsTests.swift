import ModelCore
import Testing
import TestSupport

@Suite struct SequenceModelsTests {
    private func schema(_ op: String, domain: String = "", inputs: [String], outputs: [String] = ["y"],
                        attributes: [String: AttributeValue] = [:], opset: Int = 22) throws -> any OpSchema {
        let node = Node(name: "n", opType: op, domain: domain, inputs: inputs, outputs: outputs,
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        return try #require(try OpRegistry.schema(for: node, opset: opset))
    }

    private func fact(_ dims: [Dim], _ dtype: DType = .float) -> ValueFact {
        ValueFact(dtype: dtype, shape: Shape(dims))
    }

    private func fact(_ dims: [Int], _ dtype: DType = .float) -> ValueFact {
        fact(dims.map(Dim.known), dtype)
    }

    private func text(_ s: String) -> AttributeValue { .string(Array(s.utf8)) }

    @Test func lstmShapesAndCount() throws {
        let lstm = try schema("LSTM", inputs: ["X", "W", "R", "B"], outputs: ["Y", "Y_h", "Y_c"],
                              attributes: ["hidden_size": .int(20)])
        let inputs: [ValueFact?] = [fact([5, 2, 10]), fact([1, 80, 10]), fact([1, 80, 20]), fact([1, 160])]
        let outputs = try lstm.infer(inputs)
        #expect(outputs.map(\.shape) == [Shape([5, 1, 2, 20]), Shape([1, 2, 20]), Shape([1, 2, 20])])
        // Products: 5 steps · 2 rows · 4 gates · 20 units · (10 + 20) = 24000 MACs.
        // Per unit and step: 4 sums + 3 Sigmoid (4 each) + 2 Tanh + cell update 3 + output product 1 = 22,
        // plus 2 biases per gate = 8: 30 FLOPs · 200 unit-steps = 6000.
        #expect(lstm.cost(inputs, outputs) == OpCost(macs: 24000, flops: 54000))
        #expect(lstm.holdsParameters(input: 1) && lstm.holdsParameters(input: 3))
        #expect(!lstm.holdsParameters(input: 0) && !lstm.holdsParameters(input: 5))
    }

    @Test func bidirectionalBatchFirstGRUTakesHiddenSizeFromR() throws {
        let gru = try schema("GRU", inputs: ["X", "W", "R"], outputs: ["Y", "Y_h"],
                             attributes: ["direction": text("bidirectional"), "layout": .int(1)])
        let inputs: [ValueFact?] = [fact([3, 4, 6]), fact([2, 24, 6]), fact([2, 24, 8])]
        let outputs = try gru.infer(inputs)
        #expect(outputs.map(\.shape) == [Shape([3, 4, 2, 8]), Shape([3, 2, 8])])
        // 4 steps · 3 rows · 2 directions · 3 gates · 8 units · (6 + 8) = 8064 MACs.
        // Per unit: 3 sums + 2 Sigmoid (8) + Tanh 1 + reset and blend 5 = 17; 4 · 3 · 8 · 2 = 192 unit-steps.
        #expect(gru.cost(inputs, outputs) == OpCost(macs: 8064, flops: 2 * 8064 + 192 * 17))
    }

    @Test func rnnKeepsASymbolicBatch() throws {
        let rnn = try schema("RNN", inputs: ["X", "W", "R"], outputs: ["Y"], attributes: ["hidden_size": .int(4)])
        let outputs = try rnn.infer([fact([.known(7), .symbol("N"), .known(3)]), fact([1, 4, 3]), fact([1, 4, 4])])
        #expect(outputs == [fact([.known(7), .known(1), .symbol("N"), .known(4)])])
    }

    @Test func recurrentAttributesAreChecked() throws {
        #expect(throws: ModelError.self) { try schema("LSTM", inputs: ["X", "W", "R"], attributes: ["direction": text("sideways")]) }
        #expect(throws: ModelError.self) { try schema("GRU", inputs: ["X", "W", "R"], attributes: ["hidden_size": .int(0)]) }
        #expect(throws: ModelError.self) {
            try schema("RNN", inputs: ["X", "W", "R"], attributes: ["activations": .strings([Array("Tanh".utf8), Array("Relu".utf8)])])
        }
        #expect(throws: ModelError.self) { try schema("RNN", inputs: ["X", "W", "R"], attributes: ["activations": .strings([Array("Cube".utf8)])]) }
        #expect(throws: ModelError.self) { try schema("LSTM", inputs: ["X", "W", "R"], attributes: ["layout": .int(2)]) }
        // W's 21 rows are not 4 gates of hidden_size 5.
        let lstm = try schema("LSTM", inputs: ["X", "W", "R"], attributes: ["hidden_size": .int(5)])
        #expect(throws: ModelError.self) { try lstm.infer([fact([2, 1, 3]), fact([1, 21, 3]), nil]) }
        #expect(throws: ModelError.self) { try lstm.infer([fact([2, 3]), nil, nil]) }
    }

    @Test func attentionGroupedQueryHeadsIn4D() throws {
        let attention = try schema("Attention", inputs: ["Q", "K", "V"], outputs: ["Y"], opset: 23)
        let inputs: [ValueFact?] = [fact([2, 8, 10, 16]), fact([2, 2, 12, 16]), fact([2, 2, 12, 32])]
        let outputs = try attention.infer(inputs)
        #expect(outputs == [fact([2, 8, 10, 32])])
        // QKᵀ and PV: 2 · 8 · 10 · 12 = 1920 scores, each 16 + 32 MACs; per score 1 (scale) + 5 (softmax).
        #expect(attention.cost(inputs, outputs) == OpCost(macs: 1920 * 48, flops: 2 * 1920 * 48 + 1920 * 6))
        #expect(!attention.holdsParameters(input: 1))
    }

    @Test func attention3DWithCacheGivesEveryOutput() throws {
        let attention = try schema("Attention", inputs: ["Q", "K", "V", "mask", "past_key", "past_value"],
                                   outputs: ["Y", "present_key", "present_value", "qk"],
                                   attributes: ["q_num_heads": .int(3), "kv_num_heads": .int(3), "softcap": .float(2)], opset: 23)
        let inputs: [ValueFact?] = [fact([2, 4, 24]), fact([2, 6, 24]), fact([2, 6, 30]), fact([4, 18]),
                                    fact([2, 3, 12, 8]), fact([2, 3, 12, 10])]
        let outputs = try attention.infer(inputs)
        #expect(outputs.map(\.shape) == [Shape([2, 4, 30]), Shape([2, 3, 18, 8]), Shape([2, 3, 18, 10]), Shape([2, 3, 4, 18])])
        // 2 · 3 · 4 · 18 = 432 scores of 8 + 10 MACs; per score scale 1, softmax 5, mask 1, softcap 3.
        #expect(attention.cost(inputs, outputs) == OpCost(macs: 432 * 18, flops: 2 * 432 * 18 + 432 * 10))
    }

    @Test func attentionRejectsInvalidForms() throws {
        let noHeads = try schema("Attention", inputs: ["Q", "K", "V"], opset: 23)
        #expect(throws: ModelError.self) { try noHeads.infer([fact([2, 4, 24]), fact([2, 6, 24]), fact([2, 6, 24])]) }
        #expect(throws: ModelError.self) {
            try schema("Attention", inputs: ["Q", "K", "V"], attributes: ["q_num_heads": .int(3), "kv_num_heads": .int(2)], opset: 23)
        }
        // nonpad_kv_seqlen, the seventh input, arrived in opset 24.
        let seven = ["Q", "K", "V", "", "", "", "lengths"]
        #expect(throws: ModelError.self) { try schema("Attention", inputs: seven, opset: 23) }
        _ = try schema("Attention", inputs: seven, opset: 24)
        let heads = try schema("Attention", inputs: ["Q", "K", "V"], attributes: ["q_num_heads": .int(4), "kv_num_heads": .int(2)], opset: 23)
        #expect(throws: ModelError.self) { try heads.infer([fact([2, 4, 30]), nil, nil]) }
    }

    @Test func flexAttentionIsFourDimensionalAndModifiersLeaveItUncounted() throws {
        let modifier = Graph(name: "score_mod", outputs: [ValueInfo(name: "s")])
        let flex = try schema("FlexAttention", domain: "ai.onnx.preview", inputs: ["Q", "K", "V"],
                              attributes: ["score_mod": .graph(modifier)], opset: 1)
        let inputs: [ValueFact?] = [fact([1, 2, 3, 4]), fact([1, 2, 5, 4]), fact([1, 2, 5, 6])]
        let outputs = try flex.infer(inputs)
        #expect(outputs == [fact([1, 2, 3, 6])])
        #expect(flex.cost(inputs, outputs) == nil)
        #expect(throws: ModelError.self) { try flex.infer([fact([1, 3, 8]), nil, nil]) }
        let plain = try schema("FlexAttention", domain: "ai.onnx.preview", inputs: ["Q", "K", "V"], opset: 1)
        #expect(plain.cost(inputs, outputs) == OpCost(macs: 30 * 10, flops: 2 * 300 + 30 * 6))
    }

    @Test func linearAttentionShapesAndCount() throws {
        let attention = try schema("LinearAttention", inputs: ["q", "k", "v"], outputs: ["y", "state"],
                                   attributes: ["q_num_heads": .int(8), "kv_num_heads": .int(4)], opset: 27)
        let inputs: [ValueFact?] = [fact([2, 4, 64]), fact([2, 4, 32]), fact([2, 4, 32])]
        let outputs = try attention.infer(inputs)
        #expect(outputs == [fact([2, 4, 64]), fact([2, 4, 8, 8])])
        // gated_delta, 8 tokens: output 8 · 8 · 8 = 512, update 4 · 8 · 8 = 256, Sᵀk 256 MACs per token;
        // decay 256, difference and β 2 · 4 · 8 = 64, scale 8 · 8 = 64 FLOPs per token.
        #expect(attention.cost(inputs, outputs) == OpCost(macs: 8 * 1024, flops: 2 * 8 * 1024 + 8 * 384))
        #expect(throws: ModelError.self) { try schema("LinearAttention", inputs: ["q", "k", "v"], attributes: ["q_num_heads": .int(8)], opset: 27) }
        #expect(throws: ModelError.self) {
            try schema("LinearAttention", inputs: ["q", "k", "v"],
                       attributes: ["q_num_heads": .int(6), "kv_num_heads": .int(4)], opset: 27)
        }
    }

    @Test func rotaryEmbeddingRotatesPartOfEachHead() throws {
        let rotary = try schema("RotaryEmbedding", inputs: ["x", "cos", "sin"],
                                attributes: ["num_heads": .int(4), "rotary_embedding_dim": .int(4)], opset: 23)
        let inputs: [ValueFact?] = [fact([2, 3, 32]), fact([2, 3, 2]), fact([2, 3, 2])]
        let outputs = try rotary.infer(inputs)
        #expect(outputs == [fact([2, 3, 32])])
        // 24 heads of 8 features, 4 rotated each: 96 elements at 3 FLOPs.
        #expect(rotary.cost(inputs, outputs) == OpCost(macs: 0, flops: 288))
        let noHeads = try schema("RotaryEmbedding", inputs: ["x", "cos", "sin"], opset: 23)
        #expect(throws: ModelError.self) { try noHeads.infer(inputs) }
        #expect(throws: ModelError.self) { try schema("RotaryEmbedding", inputs: ["x", "cos", "sin"], attributes: ["rotary_embedding_dim": .int(3)], opset: 23) }
    }

    @Test func hostileNodesAreRejectedOrInferredSanely() {
        let ops = ["RNN", "GRU", "LSTM", "Attention", "LinearAttention", "RotaryEmbedding", "CausalConvWithState",
                   "ai.onnx.preview.FlexAttention"]
        #expect(HostileNodes.check(ops, rounds: 4000, seed: 1) == [])
    }

    @Test func causalConvolutionCarriesKernelMinusOneSteps() throws {
        let conv = try schema("CausalConvWithState", inputs: ["x", "w", "b"], outputs: ["y", "state"],
                              attributes: ["activation": text("silu")], opset: 27)
        let inputs: [ValueFact?] = [fact([2, 4, 8]), fact([4, 1, 4]), fact([4])]
        let outputs = try conv.infer(inputs)
        #expect(outputs == [fact([2, 4, 8]), fact([2, 4, 3])])
        // 64 outputs · 4 taps = 256 MACs; bias 1 and SiLU 5 per output.
        #expect(conv.cost(inputs, outputs) == OpCost(macs: 256, flops: 512 + 64 * 6))
        #expect(throws: ModelError.self) { try conv.infer([fact([2, 4, 8]), fact([5, 1, 4]), nil]) }
        #expect(throws: ModelError.self) { try schema("CausalConvWithState", inputs: ["x", "w"], attributes: ["activation": text("gelu")], opset: 27) }
    }
}

/// Nodes and input facts built from extreme values, for checking that schemas
/// reject or survive whatever a file declares, and never report impossible results.
enum HostileNodes {
    static let integers: [Int64] = [0, 1, -1, 2, 3, Int64.max, Int64.min, 1 << 40]

    static let attributeNames = [
        "hidden_size", "layout", "q_num_heads", "kv_num_heads", "num_heads", "rotary_embedding_dim", "axis", "num_scan_inputs",
        "sample_size", "output_height", "output_width", "sampling_ratio", "block_size", "n_targets", "group", "offset_group",
        "new_axis", "keepdims", "onesided", "inverse", "to", "dtype", "output_dtype", "output_datatype", "maxsplit",
        "min_gram_length", "max_gram_length", "qk_matmul_output_mode", "softmax_precision", "is_causal", "center_point_box",
    ]
    static let listNames = ["kernel_shape", "strides", "pads", "shape", "pooled_shape", "ngram_indexes", "scan_input_axes",
                            "scan_output_axes", "dilations", "pool_int64s"]

    static func fact<G: RandomNumberGenerator>(_ random: inout G) -> ValueFact? {
        // The reader turns negative declared dims into unknown ones, so facts never hold them.
        let dims: [Dim] = [.known(0), .known(1), .known(2), .known(3), .known(4), .known(Int.max), .symbol("N"), .unknown]
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return nil
        case 1: return .unknown
        case 2: return ValueFact(dtype: .int64, value: KnownValue(scalar: .known(Int(integers.randomElement(using: &random) ?? 0))))
        default:
            // Most operators here take rank 3 or 4, so those ranks come up most.
            let rank = Bool.random(using: &random) ? Int.random(in: 3...4, using: &random) : Int.random(in: 0...5, using: &random)
            let shape = Shape((0..<rank).map { _ in dims.randomElement(using: &random) ?? .unknown })
            return ValueFact(dtype: [DType.float, .int64, .uint8, .string, .bool].randomElement(using: &random), shape: shape)
        }
    }

    static func node<G: RandomNumberGenerator>(_ op: String, domain: String, _ random: inout G) -> Node {
        var attributes: [Attribute] = []
        // Few attributes each, so that many nodes get past their checks to inference.
        for name in attributeNames where Int.random(in: 0..<8, using: &random) == 0 {
            attributes.append(Attribute(name: name, value: .int(integers.randomElement(using: &random) ?? 0)))
        }
        for name in listNames where Int.random(in: 0..<8, using: &random) == 0 {
            let count = Int.random(in: 0...4, using: &random)
            attributes.append(Attribute(name: name, value: .ints((0..<count).map { _ in integers.randomElement(using: &random) ?? 0 })))
        }
        let body = Graph(inputs: (0..<Int.random(in: 0...4, using: &random)).map { ValueInfo(name: "i\($0)", type: .tensor(.float, [2])) },
                         outputs: (0..<Int.random(in: 0...4, using: &random)).map { ValueInfo(name: "o\($0)", type: .tensor(.float, [3])) })
        for name in ["body", "then_branch", "else_branch", "score_mod"] where Bool.random(using: &random) {
            attributes.append(Attribute(name: name, value: .graph(body)))
        }
        let inputs = (0..<Int.random(in: 0...9, using: &random)).map { Bool.random(using: &random) ? "in\($0)" : "" }
        let outputs = (0..<Int.random(in: 1...5, using: &random)).map { "out\($0)" }
        return Node(name: "hostile", opType: op, domain: domain, inputs: inputs, outputs: outputs, attributes: attributes)
    }

    /// Runs `rounds` random nodes of each operator; returns the impossible results found (negative dims or counts).
    static func check(_ ops: [String], domain: String = "", rounds: Int = 1000, seed: UInt64) -> [String] {
        var random = SeededGenerator(seed: seed)
        var problems: [String] = []
        for op in ops {
            let domain = op.contains(".") ? String(op[..<(op.lastIndex(of: ".") ?? op.endIndex)]) : domain
            let name = op.split(separator: ".").last.map(String.init) ?? op
            for _ in 0..<rounds {
                let node = node(name, domain: domain, &random)
                guard let schema = try? OpRegistry.schema(for: node, opset: Int.random(in: 1...28, using: &random)) else { continue }
                let inputs = node.inputs.map { _ in fact(&random) }
                guard let outputs = try? schema.infer(inputs) else { continue }
                for output in outputs where output.shape?.dims.contains(where: { ($0.value ?? 0) < 0 }) == true {
                    problems.append("\(op) inferred \(output.shape?.description ?? "") from \(inputs.map { $0?.shape?.description ?? "nil" })")
                }
                if let cost = schema.cost(inputs, outputs), cost.macs < 0 || cost.flops < cost.macs {
                    problems.append("\(op) counted \(cost)")
                }
            }
        }
        return problems
    }
}
