import Foundation
import ModelInfo
import Testing
import TestSupport
@testable import Zoo

/// The zoo's decoder language models: published parameter counts, analysis
/// through the symbolic shapes, causal masking with and without a cache,
/// lazy weights and `--layers`.
@Suite struct LanguageModelTests {
    /// `sum(p.numel() for p in model.parameters())` of transformers'
    /// `GPT2LMHeadModel` and `LlamaForCausalLM` with these configurations
    /// (a tied embedding is one parameter tensor).
    static let publishedCounts: [String: Int] = [
        "gpt2": 124_439_808, "gpt2-medium": 354_823_168, "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200,
        "llama-7b": 6_738_415_616, "llama-3-8b": 8_030_261_248, "tinyllama-1.1b": 1_100_048_384, "llama-tiny": 1_897_728,
    ]

    static let symbols = ["batch": 1, "seq": 128, "past": 0]

    @Test(arguments: Zoo.languageModels.map(\.name))
    func uniqueParametersMatchTransformers(_ name: String) throws {
        let analysis = try Analyzer.analyze(Zoo.build(name), options: AnalysisOptions(symbols: Self.symbols))
        #expect(analysis.totals.paramsUnique == Self.publishedCounts[name])
    }

    @Test func gpt2TiesItsHeadToTheTokenEmbedding() throws {
        let graph = try Zoo.build("gpt2").graph
        #expect(graph.initializers.contains { $0.name == "transformer.wte.weight" })
        #expect(!graph.initializers.contains { $0.name.hasPrefix("lm_head") })
        let head = try #require(graph.nodes.first { $0.name == "/lm_head/Transpose" })
        #expect(head.inputs == ["transformer.wte.weight"])
        #expect(graph.nodes.contains { $0.name == "/transformer/h.0/attn/MatMul" })
        #expect(graph.initializers.first { $0.name == "transformer.h.0.attn.c_attn.weight" }?.dims == [768, 2304])
    }

    /// Two layers of each family; the first attention's Q·Kᵀ does heads × seq
    /// × (past + seq) × head_dim multiply-adds, whatever the grouping of the key/value heads.
    @Test(arguments: [("gpt2", "/transformer/h.0/attn/MatMul", 12, 64),
                      ("llama-tiny", "/model/layers.0/self_attn/MatMul", 8, 32),
                      ("llama-3-8b", "/model/layers.0/self_attn/MatMul", 32, 128)])
    func everyNodeIsCountedGivenTheSymbols(_ name: String, _ scoresNode: String, _ heads: Int, _ headWidth: Int) throws {
        let analysis = try Analyzer.analyze(Zoo.build(name, layers: 2),
                                            options: AnalysisOptions(symbols: ["batch": 1, "seq": 128, "past": 16]))
        let uncounted = analysis.nodes.filter { $0.status != .counted }.map(\.node.name)
        #expect(uncounted.isEmpty, "\(uncounted.prefix(5))")
        let scores = try #require(analysis.nodes.first { $0.node.name == scoresNode })
        #expect(scores.cost?.macs == heads * 128 * (16 + 128) * headWidth)
    }

    /// Multiply-adds at batch 1, seq 128, past 0: 128 tokens through every
    /// projection (all parameters but the embedding table and the norms'
    /// weights; GPT-2's head through the tied table) plus 2 × 128 × 128 ×
    /// head_dim per head and layer for Q·Kᵀ and ·V.
    /// gpt2: 128 × 123,532,032 + 12 × 2 × 12 × 128² × 64 = 16,114,089,984;
    /// llama-7b: 128 × 6,607,077,376 + 32 × 2 × 32 × 128² × 128 = 850,000,871,424.
    @Test(arguments: [("gpt2", 16_114_089_984), ("llama-7b", 850_000_871_424)])
    func multiplyAddsFollowFromTheShapes(_ name: String, _ macs: Int) throws {
        let analysis = try Analyzer.analyze(Zoo.build(name), options: AnalysisOptions(symbols: Self.symbols))
        #expect(analysis.totals.macs == macs)
    }

    @Test func shapesKeepTheirSymbolsWithoutValues() throws {
        let analysis = try Analyzer.analyze(Zoo.build("llama-tiny"))
        #expect(analysis.facts["logits"]?.shape == Shape([.symbol("batch"), .symbol("seq"), .known(1000)]))
        #expect(analysis.facts["present.1.key"]?.shape == Shape([.symbol("batch"), .known(2), .symbol("total"), .known(32)]))
        // The projections depend on batch·seq only, and are counted symbolically.
        let query = try #require(analysis.nodes.first { $0.node.name == "/model/layers.0/self_attn/q_proj/MatMul" })
        #expect(query.outputs.first??.shape == Shape([.symbol("batch"), .symbol("seq"), .known(256)]))
    }

    @Test func analysisGeneratesNoWeights() throws {
        let model = try Zoo.build("llama-7b")
        _ = try Analyzer.analyze(model, options: AnalysisOptions(symbols: Self.symbols))
        _ = try Analyzer.analyze(model)
        #expect(model.graph.initializers.allSatisfy { ($0.bytes?.owner as? GeneratedWeights)?.isGenerated == false })
    }

    @Test func layersReplaceTheDepth() throws {
        let two = try Zoo.build("gpt2", layers: 2).graph
        #expect(two.inputs.count == 1 + 2 * 2 && two.outputs.count == 1 + 2 * 2)
        #expect(two.initializers.contains { $0.name.hasPrefix("transformer.h.1.") })
        #expect(!two.initializers.contains { $0.name.hasPrefix("transformer.h.2.") })
        #expect { try Zoo.build("resnet18", layers: 2) } throws: { "\($0)".contains("--layers applies only to the language models") }
        #expect(throws: ModelError.self) { try Zoo.build("gpt2", layers: 0) }
        #expect(throws: ModelError.self) { try Zoo.build("gpt2", batch: 2) }
    }

    /// Changing a later token leaves the logits of earlier ones unchanged, with
    /// an empty cache and with a filled one; the later logits do change.
    /// (GPT-2 builds the same mask; its 50,257-word head is too slow for a unit test.)
    @Test func theMaskIsCausal() throws {
        let model = try Zoo.build("llama-tiny")
        let plan = try ExecutionPlan(model: model)
        for past in [0, 3] {
            let seq = 5
            var feeds = try ModelInputs.random(for: model, options: AnalysisOptions(symbols: ["batch": 1, "seq": seq, "past": past]), seed: 1)
            let first = try #require(try plan.run(feeds, context: ExecutionContext(threads: 2))["logits"])
            let ids = try #require(feeds["input_ids"]).elements(Int64.self)
            let changed = try EngineTensor(dtype: .int64, shape: [1, seq])
            for i in 0..<seq { changed.elements(Int64.self)[i] = i == seq - 1 ? (ids[i] + 1) % 10 : ids[i] }
            feeds["input_ids"] = changed
            let second = try #require(try plan.run(feeds, context: ExecutionContext(threads: 2))["logits"])
            let vocabulary = first.shape[2]
            let (a, b) = (Array(first.floats), Array(second.floats))
            #expect(a.allSatisfy(\.isFinite) && b.allSatisfy(\.isFinite))
            let last = (seq - 1) * vocabulary
            let earlierUnchanged = a[..<last] == b[..<last], lastChanged = a[last...] != b[last...]
            #expect(earlierUnchanged, "past \(past): a later token changed earlier logits")
            #expect(lastChanged, "past \(past): the changed token did not change its own logits")
        }
    }

    @Test func theCommandWritesAShallowCopyAndRefusesLayersForImageModels() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("tiny.onnx").path
        let written = try CommandLineTool.run(["zoo", "llama-tiny", "--layers", "1", "-o", path])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stdout.hasPrefix("wrote \(path): "), "small weights stay in the model file")
        let model = try Model.load(path: path).model
        #expect(model.graph.outputs.map(\.name) == ["logits", "present.0.key", "present.0.value"])
        let refused = try CommandLineTool.run(["zoo", "resnet18", "--layers", "2", "-o", path])
        #expect(refused.status == 2 && refused.stderr.contains("--layers applies only to the language models"))
        let listed = try CommandLineTool.run(["zoo", "list"])
        #expect(listed.stdout.split(separator: "\n").contains {
            $0.hasPrefix("gpt2 ") && $0.contains(" 124,439,808  GPT-2")
        })
    }
}
