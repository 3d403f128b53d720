import ModelCore

/// A Llama-style decoder as Hugging Face's `LlamaForCausalLM` defines it:
/// RMSNorm, rotary position embedding, grouped-query attention, a SwiGLU
/// MLP, all projections without bias, and an untied LM head.
enum Llama {
    struct Configuration: Sendable {
        var layers: Int
        var width: Int
        var heads: Int
        /// Fewer than `heads` for grouped-query attention: each key/value head
        /// serves `heads / kvHeads` query heads.
        var kvHeads: Int
        var mlpWidth: Int
        var vocabulary: Int
        var ropeTheta: Float = 10000
        var epsilon: Float = 1e-5

        var headWidth: Int { width / heads }
        var group: Int { heads / kvHeads }
    }

    /// `logits` and the `present.{i}` caches from `input_ids` and the `past_key_values.{i}` caches.
    static func build(_ g: DecoderGraph, _ c: Configuration, inputIDs: String,
                      past: [(key: String, value: String)]) throws(ModelError) -> [String] {
        let model = Scope.root.child("model")
        let embedding = try g.weight(model.child("embed_tokens"), "weight", dims: [c.vocabulary, c.width],
                                     WeightDistribution(low: -0.02, high: 0.02))
        var x = g.op("Gather", [embedding, inputIDs], model.child("embed_tokens"))
        let shared = try g.positions(inputIDs: inputIDs, pastKey: past[0].key, model)
        let rotary = try rotaryTables(g, positions: shared.positions, model.child("rotary_emb"), c)

        var presents: [String] = []
        for (i, cache) in past.enumerated() {
            let layer = model.child(node: "layers.\(i)", parameter: "layers.\(i)")
            let normed = try rmsNorm(g, x, layer.child("input_layernorm"), c)
            let (attended, present) = try attention(g, normed, layer.child("self_attn"), c, cache: cache, index: i,
                                                    rotary: rotary, maskBias: shared.maskBias)
            presents += present
            x = g.op("Add", [x, attended], layer)
            let mlp = try self.mlp(g, rmsNorm(g, x, layer.child("post_attention_layernorm"), c), layer.child("mlp"), c)
            x = g.op("Add", [x, mlp], layer)
        }
        x = try rmsNorm(g, x, model.child("norm"), c)

        let head = Scope.root.child("lm_head")
        let w = try g.weight(head, "weight", dims: [c.vocabulary, c.width], .fanIn(c.width))
        return [g.op("MatMul", [x, g.transpose(w, [1, 0], head)], head, name: DecoderModel.logitsName)] + presents
    }

    /// RMSNorm as torch.onnx writes HF's `LlamaRMSNorm`:
    /// `weight · x / √(mean(x²) + ε)`.
    private static func rmsNorm(_ g: DecoderGraph, _ x: String, _ scope: Scope, _ c: Configuration) throws(ModelError) -> String {
        let w = try g.weight(scope, "weight", dims: [c.width], WeightDistribution(low: 0.5, high: 1.5))
        let squares = g.op("Pow", [x, try g.scalar(2, scope)], scope)
        let mean = g.op("ReduceMean", [squares], scope, [Attribute(name: "axes", value: .ints([-1])),
                                                         Attribute(name: "keepdims", value: .int(1))])
        let root = g.op("Sqrt", [g.op("Add", [mean, try g.scalar(c.epsilon, scope)], scope)], scope)
        let normalized = g.op("Mul", [x, g.op("Reciprocal", [root], scope)], scope)
        return g.op("Mul", [w, normalized], scope)
    }

    /// The rotary tables cos and sin, float32 `[seq, head_dim]`, for the given
    /// positions: angle `p·θ^(−2i/head_dim)` in both halves. The inverse
    /// frequencies are computed from scalars (a stored table would count as
    /// parameters).
    private static func rotaryTables(_ g: DecoderGraph, positions: String, _ scope: Scope,
                                     _ c: Configuration) throws(ModelError) -> (cos: String, sin: String) {
        let even = g.op("Range", [try g.scalar(0, scope), try g.scalar(Float(c.headWidth), scope), try g.scalar(2, scope)], scope)
        let exponents = g.op("Div", [even, try g.scalar(Float(c.headWidth), scope)], scope)
        let inverse = g.op("Reciprocal", [g.op("Pow", [try g.scalar(c.ropeTheta, scope), exponents], scope)], scope)
        let floatPositions = g.op("Cast", [positions], scope, [Attribute(name: "to", value: .int(Int64(DType.float.rawValue)))])
        let angles = g.op("Mul", [try g.unsqueeze(floatPositions, axis: 1, scope), try g.unsqueeze(inverse, axis: 0, scope)], scope)
        let both = g.op("Concat", [angles, angles], scope, [Attribute(name: "axis", value: .int(-1))])
        return (g.op("Cos", [both], scope), g.op("Sin", [both], scope))
    }

    /// `x·cos + rotate_half(x)·sin`, where rotate_half(x) = (−x₂, x₁) for the halves x₁, x₂ of the last axis.
    private static func rotate(_ g: DecoderGraph, _ x: String, _ rotary: (cos: String, sin: String), _ scope: Scope,
                               _ c: Configuration) throws(ModelError) -> String {
        let half = c.headWidth / 2
        let axis = try g.integers([-1], scope)
        let first = g.op("Slice", [x, try g.integers([0], scope), try g.integers([half], scope), axis], scope)
        let second = g.op("Slice", [x, try g.integers([half], scope), try g.integers([Int(Int64.max)], scope), axis], scope)
        let rotated = g.op("Concat", [g.op("Neg", [second], scope), first], scope, [Attribute(name: "axis", value: .int(-1))])
        return g.op("Add", [g.op("Mul", [x, rotary.cos], scope), g.op("Mul", [rotated, rotary.sin], scope)], scope)
    }

    /// Grouped-query attention. Queries are arranged `[batch, kv_heads, group,
    /// seq, head_dim]` and keys and values `[batch, kv_heads, 1, past + seq,
    /// head_dim]`, so MatMul's broadcasting shares each key/value head with its
    /// group of query heads (query head h uses key/value head h / group, as
    /// HF's `repeat_kv` does) without copying anything.
    private static func attention(_ g: DecoderGraph, _ x: String, _ scope: Scope, _ c: Configuration,
                                  cache: (key: String, value: String), index: Int, rotary: (cos: String, sin: String),
                                  maskBias: String) throws(ModelError) -> (String, [String]) {
        let kvWidth = c.kvHeads * c.headWidth
        let q = try g.reshape(g.linear(x, scope.child("q_proj"), in: c.width, out: c.width),
                              [0, 0, c.kvHeads, c.group, c.headWidth], scope)
        let k = try g.reshape(g.linear(x, scope.child("k_proj"), in: c.width, out: kvWidth),
                              [0, 0, c.kvHeads, c.headWidth], scope)
        let v = try g.reshape(g.linear(x, scope.child("v_proj"), in: c.width, out: kvWidth),
                              [0, 0, c.kvHeads, c.headWidth], scope)
        let queries = try rotate(g, g.transpose(q, [0, 2, 3, 1, 4], scope), rotary, scope, c)
        let newKeys = try rotate(g, g.transpose(k, [0, 2, 1, 3], scope), rotary, scope, c)
        let keys = g.op("Concat", [cache.key, newKeys], scope, name: DecoderModel.presentName(index, "key"),
                        [Attribute(name: "axis", value: .int(2))])
        let values = g.op("Concat", [cache.value, g.transpose(v, [0, 2, 1, 3], scope)], scope,
                          name: DecoderModel.presentName(index, "value"), [Attribute(name: "axis", value: .int(2))])
        let context = try g.attention(queries, keys: g.unsqueeze(keys, axis: 2, scope),
                                      values: g.unsqueeze(values, axis: 2, scope),
                                      scale: 1 / Float(c.headWidth).squareRoot(), maskBias: maskBias, scope, rank: 5)
        let merged = try g.reshape(g.transpose(context, [0, 3, 1, 2, 4], scope), [0, 0, c.width], scope)
        return (try g.linear(merged, scope.child("o_proj"), in: c.width, out: c.width), [keys, values])
    }

    /// SwiGLU: `down(silu(gate(x)) · up(x))`, SiLU written as `x · Sigmoid(x)`.
    private static func mlp(_ g: DecoderGraph, _ x: String, _ scope: Scope, _ c: Configuration) throws(ModelError) -> String {
        let gate = try g.linear(x, scope.child("gate_proj"), in: c.width, out: c.mlpWidth)
        let activated = g.op("Mul", [gate, g.op("Sigmoid", [gate], scope.child("act_fn"))], scope.child("act_fn"))
        let up = try g.linear(x, scope.child("up_proj"), in: c.width, out: c.mlpWidth)
        return try g.linear(g.op("Mul", [activated, up], scope), scope.child("down_proj"), in: c.mlpWidth, out: c.width)
    }
}
