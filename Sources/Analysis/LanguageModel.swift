import ModelCore

/// What a decoder-only language model costs per token: a prefill of `seq`
/// tokens, one decode step with a KV cache, the cache's size, and where its
/// parameters sit.
///
/// A model is taken for a language model when a rank-2 integer input with a
/// symbolic second dimension (`input_ids: [batch, seq]`) feeds a `Gather`
/// as its indices (a token embedding) and an output ends in the embedding's
/// row count (logits over the vocabulary). Its KV-cache inputs are the float
/// inputs whose name contains `past`; their symbolic dimension other than
/// the batch is the cached length. Rules: docs/COUNTING.md, "Language models".
public struct LanguageModelFigures: Sendable, Equatable, Encodable {
    /// The work of one analysis at fixed token counts.
    public struct Step: Sendable, Equatable, Encodable {
        /// New tokens per sequence in this step.
        public var tokens: Int
        /// Tokens already in the KV cache.
        public var past: Int
        public var macs: Int
        public var flops: Int
        /// `flops` ÷ (batch × tokens).
        public var flopsPerToken: Int
        /// Whether every node was counted; if not, the figures are lower bounds.
        public var complete: Bool
    }

    /// The token input, e.g. `input_ids`.
    public var tokenInput: String
    /// The symbol of the new tokens' count, e.g. `seq`.
    public var sequenceSymbol: String
    /// The symbol of the cached tokens' count, e.g. `past`; nil without a KV cache.
    public var pastSymbol: String?
    /// The KV-cache inputs (`past_key_values.0.key`, …).
    public var cacheInputs: [String]
    /// `seq` tokens after `past` cached ones (none when `past` is not
    /// given); nil when `--symbol` does not give `seq`.
    public var prefill: Step?
    /// The token after the prefill: one token after `past + seq` cached
    /// ones; nil without a KV cache or when neither length is given.
    public var decode: Step?
    /// Bytes the cache grows by per token (all layers, keys and values, the batch).
    public var kvCacheBytesPerToken: Int?
    /// The cache after `past + seq` tokens.
    public var kvCacheBytes: Int?
    /// Unique parameters by what they serve.
    public var parameters: ParameterKinds
    /// The LM head uses the token embedding's tensor (counted once, under embedding).
    public var tiedHead: Bool
}

/// Unique parameter elements by what they serve, decided per tensor by its
/// consumers: see `LanguageModelFigures.classify`.
public struct ParameterKinds: Sendable, Equatable, Encodable {
    public var embedding = 0
    public var attention = 0
    public var mlp = 0
    public var normalization = 0
    public var head = 0
    /// Tensors that none of the rules places.
    public var other = 0
}

extension LanguageModelFigures {
    /// The figures for `model` when it is a language model, else nil.
    /// `analysis` is the model analysed with `options`; the prefill and decode
    /// steps are analysed again with their token counts.
    public static func measure(_ model: Model, analysis: ModelAnalysis,
                               options: AnalysisOptions) throws(ModelError) -> LanguageModelFigures? {
        let graph = model.graph
        guard let (tokenInput, sequenceSymbol) = tokenInput(graph) else { return nil }
        let cache = graph.runtimeInputs.filter { info in
            guard case .tensor(let dtype, let shape?)? = info.type else { return false }
            return info.name.lowercased().contains("past") && dtype.isFloatingPoint && shape.rank >= 3
        }
        let pastSymbol = cache.lazy.compactMap { info -> String? in
            guard case .tensor(_, let shape?)? = info.type else { return nil }
            return shape.dims.dropFirst().lazy.compactMap { if case .symbol(let s) = $0, s != sequenceSymbol { s } else { nil } }.first
        }.first

        let seq = options.symbols[sequenceSymbol]
        let past = pastSymbol.flatMap { options.symbols[$0] }
        // The re-analyses set the token counts through symbols only.
        var base = options
        for name in [tokenInput] + cache.map(\.name) { base.inputShapes[name] = nil }
        func step(tokens: Int, past cached: Int) throws(ModelError) -> Step {
            var stepOptions = base
            stepOptions.symbols[sequenceSymbol] = tokens
            if let pastSymbol { stepOptions.symbols[pastSymbol] = cached }
            let totals = try Analyzer.analyze(model, options: stepOptions).totals
            let batch = stepOptions.batch ?? 1
            return Step(tokens: tokens, past: cached, macs: totals.macs, flops: totals.flops,
                        flopsPerToken: totals.flops / max(1, batch * tokens), complete: totals.countedNodes == totals.nodes)
        }
        let prefill = try seq.map { tokens throws(ModelError) in try step(tokens: tokens, past: past ?? 0) }
        // The decode step is the token after the prefill: the cache then holds past + seq tokens.
        let cachedTokens = (past ?? 0) + (seq ?? 0)
        let decode = pastSymbol == nil || (seq == nil && past == nil) ? nil : try step(tokens: 1, past: cachedTokens)

        var perToken: Int? = cache.isEmpty ? nil : 0
        for info in cache {
            guard case .tensor(let dtype, let shape?)? = info.type else { perToken = nil; break }
            var values = options.symbols
            if let pastSymbol { values[pastSymbol] = 1 }
            var dims = shape.dims.map { $0.substituting(values) }
            if let batch = options.batch, let first = dims.first, first.value == nil { dims[0] = .known(batch) }
            guard let elements = Shape(dims).elementCount, let bytes = dtype.byteCount(elements: elements),
                  let sum = perToken?.addingReportingOverflow(bytes), !sum.overflow else { perToken = nil; break }
            perToken = sum.partialValue
        }
        let (parameters, tied) = classify(analysis, graph: graph)
        return LanguageModelFigures(
            tokenInput: tokenInput, sequenceSymbol: sequenceSymbol, pastSymbol: pastSymbol, cacheInputs: cache.map(\.name),
            prefill: prefill, decode: decode, kvCacheBytesPerToken: perToken,
            kvCacheBytes: seq == nil && past == nil ? nil : perToken.flatMap { Count.product($0, cachedTokens) },
            parameters: parameters, tiedHead: tied)
    }

    /// The first rank-2 integer input with a symbolic second dimension that a
    /// `Gather` reads as indices from a stored table (directly or after a
    /// reshape or cast), and that symbol, when
    /// some graph output ends in the table's row count: logits over the
    /// vocabulary, which an encoder's hidden states are not.
    static func tokenInput(_ graph: Graph) -> (String, String)? {
        let tables = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var consumers: [String: [Node]] = [:]
        for node in graph.nodes {
            for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(node) }
        }
        /// The rows of the table a `Gather` reads with `value` as its indices,
        /// following exporters' reshapes and casts of the ids on the way.
        func vocabulary(_ value: String, steps: Int = 3) -> Int? {
            for node in consumers[value] ?? [] where node.domain.isEmpty {
                if node.opType == "Gather", node.inputs.count > 1, node.inputs[1] == value,
                   let table = tables[node.inputs[0]], table.dims.count == 2 {
                    return table.dims[0]
                }
                if steps > 0, ["Reshape", "Cast", "Identity", "Unsqueeze", "Squeeze", "Flatten"].contains(node.opType),
                   node.inputs.first == value, let next = node.outputs.first, let rows = vocabulary(next, steps: steps - 1) {
                    return rows
                }
            }
            return nil
        }
        let outputWidths = Set(graph.outputs.compactMap { info -> Int? in
            guard case .tensor(_, let shape?)? = info.type else { return nil }
            return shape.dims.last?.value
        })
        for info in graph.runtimeInputs {
            guard case .tensor(let dtype, let shape?)? = info.type, [.signedInteger, .unsignedInteger].contains(dtype.kind),
                  shape.rank == 2, case .symbol(let symbol) = shape.dims[1],
                  let rows = vocabulary(info.name), outputWidths.contains(rows) else { continue }
            return (info.name, symbol)
        }
        return nil
    }

    /// Places each unique parameter tensor by the first rule that applies:
    /// read by a `Gather` as its table → embedding; a normalisation
    /// operator's scale or shift → normalisation; the tensor's name says a
    /// kind (`norm`/`ln_`, `lm_head`, `attn`/`attention`, `mlp`/`ffn`/
    /// `feed_forward`/`intermediate`) → that kind; used by a node that leads
    /// to a graph output within two steps → head; a consumer's name says a
    /// kind (torch.onnx node paths keep module names) → that kind; else
    /// other. Returns the counts and whether the head reuses the
    /// embedding's tensor.
    static func classify(_ analysis: ModelAnalysis, graph: Graph) -> (ParameterKinds, Bool) {
        let outputs = Set(graph.outputs.map(\.name))
        var consumers: [String: [Node]] = [:]
        for report in analysis.nodes {
            for input in report.node.inputs { consumers[input, default: []].append(report.node) }
        }
        /// Writes a graph output, directly or within two steps of bias Add,
        /// Reshape, Transpose (a tied table read transposed) or the product itself.
        func leadsToOutput(_ node: Node, steps: Int = 2) -> Bool {
            node.outputs.contains { name in
                outputs.contains(name) || (steps > 0 && (consumers[name] ?? []).contains { next in
                    ["Add", "Reshape", "Transpose", "MatMul", "Gemm"].contains(next.opType) && leadsToOutput(next, steps: steps - 1)
                })
            }
        }
        let normalizers: Set<String> = ["LayerNormalization", "RMSNormalization", "SimplifiedLayerNormalization",
                                        "SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "BatchNormalization",
                                        "GroupNormalization", "InstanceNormalization"]
        /// A normalisation's scale or shift; the bias that a fused
        /// SkipLayerNormalization adds first (input 4) belongs to the projection before it.
        func normalizes(_ node: Node, _ source: String) -> Bool {
            guard normalizers.contains(node.opType) else { return false }
            return !(node.opType.hasPrefix("Skip") && node.inputs.count > 4 && node.inputs[4] == source)
        }
        var users: [String: (elements: Int, nodes: [Node])] = [:]
        for report in analysis.nodes {
            for use in report.parameters {
                users[use.source, default: (use.elements, [])].nodes.append(report.node)
            }
        }
        /// The kind a module name says: `…ln_1.weight`, `/h.0/attn/…`.
        func kind(named names: [String]) -> WritableKeyPath<ParameterKinds, Int>? {
            let words: [(WritableKeyPath<ParameterKinds, Int>, [String])] = [
                (\.normalization, ["norm", "ln_"]), (\.head, ["lm_head"]), (\.attention, ["attn", "attention"]),
                (\.mlp, ["mlp", "ffn", "feed_forward", "intermediate"]),
            ]
            return words.first { _, keys in names.contains { name in keys.contains { name.contains($0) } } }?.0
        }
        var kinds = ParameterKinds()
        var tied = false
        for (source, entry) in users {
            let embedding = entry.nodes.contains { $0.opType == "Gather" && $0.inputs.first == source }
            let head = entry.nodes.contains { leadsToOutput($0) }
            let place: WritableKeyPath<ParameterKinds, Int>
            if embedding {
                place = \.embedding
                tied = tied || head
            } else if entry.nodes.contains(where: { normalizes($0, source) }) {
                place = \.normalization
            } else if let byName = kind(named: [source.lowercased()]) {
                // The tensor's own name first: a fused node's name (SkipLayerNorm_AddBias_0) can mislead.
                place = byName
            } else if head {
                place = \.head
            } else {
                place = kind(named: entry.nodes.map { $0.name.lowercased() }) ?? \.other
            }
            kinds[keyPath: place] += entry.elements
        }
        return (kinds, tied)
    }
}
