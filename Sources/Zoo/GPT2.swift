import ModelCore

/// GPT-2 (Radford et al., 2019) as Hugging Face's `GPT2LMHeadModel` defines
/// it: learned position embedding, pre-LayerNorm blocks, fused QKV in
/// `Conv1D` layers, the tanh approximation of GELU, and an LM head tied to
/// the token embedding.
enum GPT2 {
    struct Configuration: Sendable {
        var layers: Int
        var width: Int
        var heads: Int
        var vocabulary = 50257
        var positions = 1024

        var headWidth: Int { width / heads }
    }

    /// LayerNorm's epsilon in every GPT-2.
    static let epsilon: Float = 1e-5

    /// `logits` and the `present.{i}` caches from `input_ids` and the `past_key_values.{i}` caches.
    static func build(_ g: DecoderGraph, _ c: Configuration, inputIDs: String,
                      past: [(key: String, value: String)]) throws(ModelError) -> [String] {
        let model = Scope.root.child("transformer")
        let wte = try g.weight(model.child("wte"), "weight", dims: [c.vocabulary, c.width], WeightDistribution(low: -0.02, high: 0.02))
        let wpe = try g.weight(model.child("wpe"), "weight", dims: [c.positions, c.width], WeightDistribution(low: -0.02, high: 0.02))
        let shared = try g.positions(inputIDs: inputIDs, pastKey: past[0].key, model)
        let tokens = g.op("Gather", [wte, inputIDs], model.child("wte"))
        let positions = g.op("Gather", [wpe, shared.positions], model.child("wpe"))
        var x = g.op("Add", [tokens, positions], model)

        var presents: [String] = []
        for (i, cache) in past.enumerated() {
            let block = model.child(node: "h.\(i)", parameter: "h.\(i)")
            let normed = try layerNorm(g, x, block.child("ln_1"), width: c.width)
            let (attended, present) = try attention(g, normed, block.child("attn"), c, cache: cache, index: i,
                                                    maskBias: shared.maskBias)
            presents += present
            x = g.op("Add", [x, attended], block)
            let mlp = try self.mlp(g, layerNorm(g, x, block.child("ln_2"), width: c.width), block.child("mlp"), c)
            x = g.op("Add", [x, mlp], block)
        }
        x = try layerNorm(g, x, model.child("ln_f"), width: c.width)

        // The head shares the token embedding's initializer: tied, stored once.
        let head = Scope.root.child("lm_head")
        let transposed = g.transpose(wte, [1, 0], head)
        return [g.op("MatMul", [x, transposed], head, name: DecoderModel.logitsName)] + presents
    }

    /// `LayerNormalization` over the last axis, with weight and bias.
    private static func layerNorm(_ g: DecoderGraph, _ x: String, _ scope: Scope, width: Int) throws(ModelError) -> String {
        let w = try g.weight(scope, "weight", dims: [width], WeightDistribution(low: 0.5, high: 1.5))
        let b = try g.weight(scope, "bias", dims: [width], WeightDistribution(low: -0.1, high: 0.1))
        return g.op("LayerNormalization", [x, w, b], scope, [Attribute(name: "axis", value: .int(-1)),
                                                             Attribute(name: "epsilon", value: .float(epsilon))])
    }

    /// Causal self-attention: fused QKV projection split in three, heads
    /// `[batch, heads, seq, head_dim]`, the cache extended by the new keys and values.
    private static func attention(_ g: DecoderGraph, _ x: String, _ scope: Scope, _ c: Configuration,
                                  cache: (key: String, value: String), index: Int,
                                  maskBias: String) throws(ModelError) -> (String, [String]) {
        let qkv = try g.conv1D(x, scope.child("c_attn"), in: c.width, out: 3 * c.width)
        let parts = g.node("Split", [qkv, try g.integers([c.width, c.width, c.width], scope)], scope, outputs: 3,
                           attributes: [Attribute(name: "axis", value: .int(2))])
        var heads: [String] = []
        for part in parts {
            let split = try g.reshape(part, [0, 0, c.heads, c.headWidth], scope)
            heads.append(g.transpose(split, [0, 2, 1, 3], scope))
        }
        let keys = g.op("Concat", [cache.key, heads[1]], scope, name: DecoderModel.presentName(index, "key"),
                        [Attribute(name: "axis", value: .int(2))])
        let values = g.op("Concat", [cache.value, heads[2]], scope, name: DecoderModel.presentName(index, "value"),
                          [Attribute(name: "axis", value: .int(2))])
        let context = try g.attention(heads[0], keys: keys, values: values, scale: 1 / Float(c.headWidth).squareRoot(),
                                      maskBias: maskBias, scope, rank: 4)
        let merged = try g.reshape(g.transpose(context, [0, 2, 1, 3], scope), [0, 0, c.width], scope)
        return (try g.conv1D(merged, scope.child("c_proj"), in: c.width, out: c.width), [keys, values])
    }

    /// The MLP: `Conv1D` to 4·width, GELU, `Conv1D` back.
    private static func mlp(_ g: DecoderGraph, _ x: String, _ scope: Scope, _ c: Configuration) throws(ModelError) -> String {
        let hidden = try g.conv1D(x, scope.child("c_fc"), in: c.width, out: 4 * c.width)
        let activated = try gelu(g, hidden, scope.child("act"))
        return try g.conv1D(activated, scope.child("c_proj"), in: 4 * c.width, out: c.width)
    }

    /// HF's `gelu_new`, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), in the
    /// standard operators torch.onnx writes for it.
    private static func gelu(_ g: DecoderGraph, _ x: String, _ scope: Scope) throws(ModelError) -> String {
        let half = g.op("Mul", [try g.scalar(0.5, scope), x], scope)
        let cube = g.op("Pow", [x, try g.scalar(3, scope)], scope)
        let inner = g.op("Add", [x, g.op("Mul", [try g.scalar(0.044715, scope), cube], scope)], scope)
        let scaled = g.op("Mul", [try g.scalar(Float((2 / Double.pi).squareRoot()), scope), inner], scope)
        let onePlus = g.op("Add", [try g.scalar(1, scope), g.op("Tanh", [scaled], scope)], scope)
        return g.op("Mul", [half, onePlus], scope)
    }
}
