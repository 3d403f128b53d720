import ModelInfo
import Testing
import TestSupport

/// Per-token cost, KV cache and parameters by kind of decoder-only language
/// models, against figures worked out by hand from the published shapes.
@Suite struct LanguageModelFiguresTests {
    static func figures(_ name: String, symbols: [String: Int] = [:]) throws -> LanguageModelFigures? {
        let model = try Zoo.build(name)
        let options = AnalysisOptions(batch: 1, symbols: symbols)
        return try LanguageModelFigures.measure(model, analysis: try Analyzer.analyze(model, options: options), options: options)
    }

    /// GPT-2 at 128 tokens: 12 layers of projections (768·2304 + 768·768 +
    /// 2·768·3072 = 7,077,888 MACs per token), attention (2 · 12 heads ·
    /// 128 · 128 · 64 per layer) and the head (768 · 50257 per token). The
    /// decode step after them attends to 129 keys.
    @Test func gpt2PrefillAndDecode() throws {
        let lm = try #require(try Self.figures("gpt2", symbols: ["seq": 128, "past": 0]))
        #expect(lm.tokenInput == "input_ids" && lm.sequenceSymbol == "seq" && lm.pastSymbol == "past")
        #expect(lm.cacheInputs.count == 24)
        let prefill = try #require(lm.prefill)
        #expect(prefill.macs == 128 * 12 * 7_077_888 + 12 * 2 * 12 * 128 * 128 * 64 + 128 * 768 * 50_257)
        #expect(prefill.macs == 16_114_089_984)
        #expect(prefill.complete && prefill.flopsPerToken == prefill.flops / 128)
        let decode = try #require(lm.decode)
        #expect(decode.tokens == 1 && decode.past == 128)
        #expect(decode.macs == 12 * 7_077_888 + 12 * 2 * 12 * 129 * 64 + 768 * 50_257)
        #expect(decode.complete)
        // Keys and values of 12 layers, 12 heads of 64 float32 values each, per token.
        #expect(lm.kvCacheBytesPerToken == 12 * 2 * 12 * 64 * 4)
        #expect(lm.kvCacheBytes == 128 * 73_728)
    }

    /// The tied head counts once, under the embedding: 50257·768 + 1024·768.
    @Test func gpt2ParametersByKind() throws {
        let lm = try #require(try Self.figures("gpt2"))
        #expect(lm.prefill == nil && lm.decode == nil, "no figures without the tokens")
        #expect(lm.tiedHead)
        let p = lm.parameters
        #expect(p.embedding == 39_383_808)
        #expect(p.attention == 12 * (768 * 2304 + 2304 + 768 * 768 + 768))
        #expect(p.mlp == 12 * (768 * 3072 + 3072 + 3072 * 768 + 768))
        #expect(p.normalization == 25 * 2 * 768)
        #expect(p.head == 0 && p.other == 0)
        #expect(p.embedding + p.attention + p.mlp + p.normalization == 124_439_808)
    }

    /// Llama-2-7B: 4·4096² attention and 3·4096·11008 MLP weights per layer,
    /// an untied head, RMSNorm scales.
    @Test func llama7bParametersByKind() throws {
        let lm = try #require(try Self.figures("llama-7b"))
        let p = lm.parameters
        #expect(!lm.tiedHead)
        #expect(p.embedding == 32_000 * 4096 && p.head == 32_000 * 4096)
        #expect(p.attention == 32 * 4 * 4096 * 4096)
        #expect(p.mlp == 32 * 3 * 4096 * 11_008)
        #expect(p.normalization == 65 * 4096)
        #expect(p.other == 0)
    }

    /// Grouped-query attention caches 8 key/value heads of 128, not 32.
    @Test func groupedQueryAttentionShrinksTheCache() throws {
        let lm = try #require(try Self.figures("llama-3-8b", symbols: ["seq": 1, "past": 0]))
        #expect(lm.kvCacheBytesPerToken == 32 * 2 * 8 * 128 * 4)
    }

    /// torch.onnx reshapes the ids before the embedding's Gather; the
    /// symbols are whatever the exporter named them.
    @Test func tokenIdsAreFollowedThroughAReshape() throws {
        let graph = Graph(
            nodes: [Node(name: "/flat", opType: "Reshape", inputs: ["ids", "shape"], outputs: ["flat_ids"]),
                    Node(name: "/wte/Gather", opType: "Gather", inputs: ["wte", "flat_ids"], outputs: ["h"]),
                    Node(name: "/lm_head/MatMul", opType: "MatMul", inputs: ["h", "head"], outputs: ["logits"])],
            initializers: [try AnalyzerTests.floats("wte", [10, 4]), try AnalyzerTests.floats("head", [4, 10]),
                           try AnalyzerTests.int64s("shape", [-1, 0])],
            inputs: [ValueInfo(name: "ids", type: .tensor(.int64, Shape([Dim.symbol("batch"), Dim.symbol("sequence")])))],
            outputs: [ValueInfo(name: "logits", type: .tensor(.float, Shape([Dim.symbol("batch"), Dim.symbol("sequence"), .known(10)])))])
        let model = Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: graph)
        let options = AnalysisOptions(batch: 1, symbols: ["sequence": 6])
        let lm = try #require(try LanguageModelFigures.measure(model, analysis: try Analyzer.analyze(model, options: options),
                                                              options: options))
        #expect(lm.sequenceSymbol == "sequence" && lm.pastSymbol == nil && lm.decode == nil)
        #expect(lm.prefill?.macs == 6 * 4 * 10)
        #expect(lm.parameters.embedding == 40 && lm.parameters.head == 40)
    }

    @Test func imageClassifiersAndEncodersAreNotLanguageModels() throws {
        #expect(try Self.figures("resnet18") == nil)
        let encoder = try ONNXReader.read(path: Fixtures.path("valid/encoder.onnx"))
        #expect(try LanguageModelFigures.measure(encoder, analysis: try Analyzer.analyze(encoder), options: AnalysisOptions()) == nil)
    }
}
