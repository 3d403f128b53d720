import ModelCore

extension Zoo {
    /// One decoder-only language model of the zoo.
    public struct LanguageModel: Sendable {
        /// The name used on the command line and in `zoo:NAME`, e.g. `gpt2`.
        public let name: String
        /// One line saying what the model is.
        public let summary: String
        let family: DecoderModel.Family
    }

    /// The language models, in the order `zoo list` shows them.
    public static let languageModels: [LanguageModel] = [
        gpt2("gpt2", GPT2.Configuration(layers: 12, width: 768, heads: 12)),
        gpt2("gpt2-medium", GPT2.Configuration(layers: 24, width: 1024, heads: 16)),
        gpt2("gpt2-large", GPT2.Configuration(layers: 36, width: 1280, heads: 20)),
        gpt2("gpt2-xl", GPT2.Configuration(layers: 48, width: 1600, heads: 25)),
        llama("llama-7b", "Llama-2-7B", Llama.Configuration(layers: 32, width: 4096, heads: 32, kvHeads: 32,
                                                            mlpWidth: 11008, vocabulary: 32000)),
        llama("llama-3-8b", "Llama-3-8B", Llama.Configuration(layers: 32, width: 4096, heads: 32, kvHeads: 8, mlpWidth: 14336,
                                                              vocabulary: 128256, ropeTheta: 500_000)),
        llama("tinyllama-1.1b", "TinyLlama-1.1B", Llama.Configuration(layers: 22, width: 2048, heads: 32, kvHeads: 4,
                                                                      mlpWidth: 5632, vocabulary: 32000)),
        llama("llama-tiny", "A small Llama-style decoder for tests", Llama.Configuration(
            layers: 2, width: 256, heads: 8, kvHeads: 2, mlpWidth: 688, vocabulary: 1000, epsilon: 1e-6)),
    ]

    private static func gpt2(_ name: String, _ c: GPT2.Configuration) -> LanguageModel {
        LanguageModel(name: name, summary: "GPT-2, \(c.layers) layers, width \(c.width), \(c.heads) heads, "
                          + "vocabulary \(c.vocabulary), tied LM head", family: .gpt2(c))
    }

    private static func llama(_ name: String, _ title: String, _ c: Llama.Configuration) -> LanguageModel {
        LanguageModel(name: name, summary: "\(title): \(c.layers) layers, width \(c.width), \(c.heads) heads, "
                          + "\(c.kvHeads) key/value heads, MLP \(c.mlpWidth), vocabulary \(c.vocabulary)", family: .llama(c))
    }

    /// Builds the language model `model`, with `layers` blocks instead of its
    /// own number when given.
    static func build(_ model: LanguageModel, layers: Int?, seed: UInt64) throws(ModelError) -> Model {
        var family = model.family
        if let layers {
            guard (1...DecoderModel.layerLimit).contains(layers) else {
                throw ModelError(.usage, "zoo model '\(model.name)': --layers \(layers) must lie in 1...\(DecoderModel.layerLimit)")
            }
            family.layers = layers
        }
        let g = DecoderGraph(seed: seed)
        let graph = try DecoderModel.graph(g, name: model.name, family: family)
        return Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], producerName: "modelinfo-zoo",
                     docString: "\(model.summary)" + (layers.map { ", built with \($0) layers" } ?? "")
                         + ", seeded random weights (seed \(seed))", graph: graph)
    }
}

/// What GPT-2 and Llama share: the graph's inputs and outputs and their names.
///
/// Inputs are `input_ids` int64 `[batch, seq]` and, per layer,
/// `past_key_values.{i}.key` / `.value` float32 `[batch, kv_heads, past,
/// head_dim]` (`past` may be 0); outputs are `logits` `[batch, seq,
/// vocabulary]` and `present.{i}.key` / `.value` `[batch, kv_heads, total,
/// head_dim]`, where `total` is past + seq.
enum DecoderModel {
    enum Family: Sendable {
        case gpt2(GPT2.Configuration)
        case llama(Llama.Configuration)

        var layers: Int {
            get {
                switch self {
                case .gpt2(let c): c.layers
                case .llama(let c): c.layers
                }
            }
            set {
                switch self {
                case .gpt2(var c): c.layers = newValue; self = .gpt2(c)
                case .llama(var c): c.layers = newValue; self = .llama(c)
                }
            }
        }
    }

    /// Upper bound for `--layers`, far above any published model, so that a
    /// typo cannot ask for a graph of millions of nodes.
    static let layerLimit = 1024
    static let inputIDsName = "input_ids"
    static let logitsName = "logits"

    static func pastName(_ layer: Int, _ part: String) -> String { "past_key_values.\(layer).\(part)" }
    static func presentName(_ layer: Int, _ part: String) -> String { "present.\(layer).\(part)" }

    static func graph(_ g: DecoderGraph, name: String, family: Family) throws(ModelError) -> Graph {
        let (kvHeads, headWidth, vocabulary): (Int, Int, Int)
        switch family {
        case .gpt2(let c): (kvHeads, headWidth, vocabulary) = (c.heads, c.headWidth, c.vocabulary)
        case .llama(let c): (kvHeads, headWidth, vocabulary) = (c.kvHeads, c.headWidth, c.vocabulary)
        }
        let batch = Dim.symbol("batch"), seq = Dim.symbol("seq")
        let cache = { (length: Dim) in Shape([batch, .known(kvHeads), length, .known(headWidth)]) }
        let past = (0..<family.layers).map { (key: pastName($0, "key"), value: pastName($0, "value")) }
        let outputs: [String]
        switch family {
        case .gpt2(let c): outputs = try GPT2.build(g, c, inputIDs: inputIDsName, past: past)
        case .llama(let c): outputs = try Llama.build(g, c, inputIDs: inputIDsName, past: past)
        }
        var inputs = [ValueInfo(name: inputIDsName, type: .tensor(.int64, Shape([batch, seq])))]
        var declared = [ValueInfo(name: outputs[0], type: .tensor(.float, Shape([batch, seq, .known(vocabulary)])))]
        // `outputs` holds the logits, then each layer's present key and value.
        for (i, layer) in past.enumerated() {
            inputs += [ValueInfo(name: layer.key, type: .tensor(.float, cache(.symbol("past")))),
                       ValueInfo(name: layer.value, type: .tensor(.float, cache(.symbol("past"))))]
            declared += outputs[(1 + 2 * i)...(2 + 2 * i)].map {
                ValueInfo(name: $0, type: .tensor(.float, cache(.symbol("total"))))
            }
        }
        return Graph(name: name, nodes: g.builder.nodes, initializers: g.builder.initializers,
                     inputs: inputs, outputs: declared)
    }
}
