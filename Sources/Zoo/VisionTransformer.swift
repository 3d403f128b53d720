import ModelCore

/// The Vision Transformer (Dosovitskiy et al., 2021) as torchvision defines it.
enum VisionTransformer {
    /// The sizes that tell ViT variants apart.
    struct Configuration {
        var imageSize: Int, patchSize: Int, layers: Int, heads: Int, hiddenDim: Int, mlpDim: Int

        /// Patches per side of the image.
        var patchesPerSide: Int { imageSize / patchSize }
        /// Tokens through the encoder: one per patch and the class token.
        var sequenceLength: Int { patchesPerSide * patchesPerSide + 1 }
    }

    /// ViT-B/16 at torchvision's 224×224.
    static let base16 = Configuration(imageSize: 224, patchSize: 16, layers: 12, heads: 12, hiddenDim: 768, mlpDim: 3072)

    /// torchvision's LayerNorm epsilon throughout the ViT.
    static let epsilon: Float = 1e-6

    /// The layers from `input` to the class logits: a patch-size conv
    /// projection, the patches as tokens after a learned class token, a
    /// learned position embedding, the encoder blocks, a final LayerNorm, and
    /// a Linear head on the class token.
    /// - Throws: `ModelError(.usage)` for an image of another size than the
    ///   configuration's: the position embedding has one entry per token of
    ///   that size.
    static func logits(_ b: GraphBuilder, _ input: Activation, _ configuration: Configuration,
                       classes: Int) throws(ModelError) -> Activation {
        let c = configuration
        guard input.height == c.imageSize, input.width == c.imageSize else {
            throw ModelError(.usage, "the ViT is defined only at \(c.imageSize)×\(c.imageSize): its position embedding "
                             + "has \(c.sequenceLength) entries, one per \(c.patchSize)×\(c.patchSize) patch and the class token")
        }
        let root = Scope.root
        let batch = input.dims[0]
        var x = try b.conv(input, root.child("conv_proj"), out: c.hiddenDim, kernel: c.patchSize, stride: c.patchSize,
                           bias: true)
        x = try b.reshape(x, to: [batch, c.hiddenDim, c.sequenceLength - 1], root)
        x = b.transpose(x, perm: [0, 2, 1], root)

        let classToken = Activation(name: try b.weight("class_token", dims: [1, 1, c.hiddenDim], small), dims: [1, 1, c.hiddenDim])
        let shape = try b.integers([Int64(batch), 1, Int64(c.hiddenDim)], dims: [3], root)
        let classTokens = b.add(node: root.nodeName("Expand"), "Expand", inputs: [classToken.name, shape.name],
                                dims: [batch, 1, c.hiddenDim])
        x = b.concat([classTokens, x], axis: 1, root)

        let encoder = root.child("encoder")
        let positions = try b.weight(encoder.parameterName("pos_embedding"), dims: [1, c.sequenceLength, c.hiddenDim], small)
        // Dropout after the position embedding is the identity at inference.
        x = b.binary("Add", x, Activation(name: positions, dims: [1, c.sequenceLength, c.hiddenDim]), encoder)
        let layers = encoder.child("layers")
        for index in 0..<c.layers {
            x = try encoderBlock(b, x, layers.child("encoder_layer_\(index)"), c)
        }
        x = try b.layerNorm(x, encoder.child("ln"), epsilon: epsilon)

        let first = try b.integers([0], dims: [], root)
        x = b.add(node: root.nodeName(b.numbered("Gather", root)), "Gather", inputs: [x.name, first.name],
                  dims: [batch, c.hiddenDim], attributes: [Attribute(name: "axis", value: .int(1))])
        return try b.linear(x, root.child("heads").child("head"), out: classes, output: GraphBuilder.outputName)
    }

    /// The spread of the class token and position embedding (torchvision
    /// draws the embedding with standard deviation 0.02).
    private static let small = WeightDistribution(low: -0.05, high: 0.05)

    /// `EncoderBlock`: LayerNorm, self-attention, residual add; LayerNorm,
    /// MLP (Linear, GELU, Linear), residual add. Dropout is left out.
    private static func encoderBlock(_ b: GraphBuilder, _ input: Activation, _ scope: Scope,
                                     _ c: Configuration) throws(ModelError) -> Activation {
        var x = try b.layerNorm(input, scope.child("ln_1"), epsilon: epsilon)
        x = try selfAttention(b, x, scope.child("self_attention"), c)
        x = b.binary("Add", x, input, scope)

        let mlp = scope.child("mlp")
        var y = try b.layerNorm(x, scope.child("ln_2"), epsilon: epsilon)
        y = try b.matMulLinear(y, mlp.child(index: 0), out: c.mlpDim)
        y = try b.gelu(y, mlp.child(index: 1))
        y = try b.matMulLinear(y, mlp.child(index: 3), out: c.hiddenDim)
        return b.binary("Add", x, y, scope, node: "Add_1")
    }

    /// `nn.MultiheadAttention(batch_first=True)` on `[N, L, E]` as torch.onnx
    /// writes it at opset 17, with the shapes it computes at run time
    /// written as constants.
    ///
    /// Sequence first (`[L, N, E]`); one in-projection to Q, K and V
    /// (`[L, N, 3E]`), split by a reshape to `[L, N, 3, E]`, a transpose of
    /// the three to the front (torch.onnx: Unsqueeze, Transpose, Squeeze) and
    /// a `Gather` each; heads `[N, h, L, d]`; Q·Kᵀ with both sides scaled by
    /// (1/√d)^½; Softmax; ·V; heads merged to `[L·N, E]` and the
    /// out-projection as `Gemm`; back to `[N, L, E]`.
    private static func selfAttention(_ b: GraphBuilder, _ input: Activation, _ scope: Scope,
                                      _ c: Configuration) throws(ModelError) -> Activation {
        let (n, l, e, h) = (input.dims[0], input.dims[1], c.hiddenDim, c.heads)
        let d = e / h
        var x = b.transpose(input, perm: [1, 0, 2], scope)
        let weight = try b.weight(scope.parameterName("in_proj_weight"), dims: [e, 3 * e], .fanIn(e))
        x = b.add(node: scope.nodeName(b.numbered("MatMul", scope)), "MatMul", inputs: [x.name, weight], dims: [l, n, 3 * e])
        let bias = try b.weight(scope.parameterName("in_proj_bias"), dims: [3 * e], .fanIn(e))
        x = b.binary("Add", Activation(name: bias, dims: [3 * e]), x, scope, node: b.numbered("Add", scope))
        x = try b.reshape(x, to: [l, n, 3, e], scope)
        let qkv = b.transpose(x, perm: [2, 0, 1, 3], scope)

        func head(_ index: Int64) throws(ModelError) -> Activation {
            let position = try b.integers([index], dims: [], scope)
            var y = b.add(node: scope.nodeName(b.numbered("Gather", scope)), "Gather", inputs: [qkv.name, position.name],
                          dims: [l, n, e], attributes: [Attribute(name: "axis", value: .int(0))])
            y = try b.reshape(y, to: [l, n * h, d], scope)
            y = b.transpose(y, perm: [1, 0, 2], scope)
            return try b.reshape(y, to: [n, h, l, d], scope)
        }
        let (q, k, v) = (try head(0), try head(1), try head(2))

        let scale = Float((1 / Double(d).squareRoot()).squareRoot())
        let scaledQ = b.binary("Mul", q, try b.scalar(scale, scope), scope, node: b.numbered("Mul", scope))
        let keysT = b.transpose(k, perm: [0, 1, 3, 2], scope)
        let scaledK = b.binary("Mul", keysT, try b.scalar(scale, scope), scope, node: b.numbered("Mul", scope))
        var attention = b.add(node: scope.nodeName(b.numbered("MatMul", scope)), "MatMul",
                              inputs: [scaledQ.name, scaledK.name], dims: [n, h, l, l])
        attention = b.unary("Softmax", attention, scope, attributes: [Attribute(name: "axis", value: .int(-1))])
        x = b.add(node: scope.nodeName(b.numbered("MatMul", scope)), "MatMul", inputs: [attention.name, v.name],
                  dims: [n, h, l, d])

        x = b.transpose(x, perm: [2, 0, 1, 3], scope)
        x = try b.reshape(x, to: [l * n, e], scope)
        // The out-projection is called inside the attention's forward, so its
        // node sits in the attention's scope while its weights are `out_proj.*`.
        let outProjection = Scope(nodePath: scope.nodePath, parameterPath: scope.parameterPath + ["out_proj"])
        x = try b.linear(x, outProjection, out: e)
        x = try b.reshape(x, to: [l, n, e], scope)
        return b.transpose(x, perm: [1, 0, 2], scope)
    }
}
