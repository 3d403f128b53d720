import ModelCore

/// ConvNeXt (Liu et al., 2022) as torchvision defines it.
enum ConvNeXt {
    /// One stage: `blocks` blocks of `channels` channels.
    struct Stage {
        var channels: Int, blocks: Int
    }

    /// ConvNeXt-T: 96, 192, 384, 768 channels; 3, 3, 9, 3 blocks.
    static let tiny = [Stage(channels: 96, blocks: 3), Stage(channels: 192, blocks: 3),
                       Stage(channels: 384, blocks: 9), Stage(channels: 768, blocks: 3)]

    /// torchvision's LayerNorm epsilon throughout ConvNeXt.
    static let epsilon: Float = 1e-6

    /// The layers from `input` to the class logits: a 4×4/4 patchify stem
    /// with LayerNorm, the stages of blocks with a LayerNorm and a 2×2/2 conv
    /// between stages, global average pool, LayerNorm, fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, stages: [Stage],
                       classes: Int) throws(ModelError) -> Activation {
        let features = Scope.root.child("features")
        var index = 0
        func next() -> Scope {
            defer { index += 1 }
            return features.child(index: index)
        }

        let stem = next()
        var x = try b.conv(input, stem.child(index: 0), out: stages[0].channels, kernel: 4, stride: 4, bias: true)
        x = try layerNorm2d(b, x, stem.child(index: 1))
        for (number, stage) in stages.enumerated() {
            let scope = next()
            for block in 0..<stage.blocks {
                x = try self.block(b, x, scope.child(index: block))
            }
            if number + 1 < stages.count {
                let downsample = next()
                x = try layerNorm2d(b, x, downsample.child(index: 0))
                x = try b.conv(x, downsample.child(index: 1), out: stages[number + 1].channels, kernel: 2, stride: 2,
                               bias: true)
            }
        }

        x = b.globalAveragePool(x, Scope.root.child("avgpool"))
        let classifier = Scope.root.child("classifier")
        x = try layerNorm2d(b, x, classifier.child(index: 0))
        x = b.flatten(x, classifier.child(index: 1))
        return try b.linear(x, classifier.child(index: 2), out: classes, output: GraphBuilder.outputName)
    }

    /// torchvision's `LayerNorm2d`: LayerNorm over the channels of an NCHW
    /// map, written as a move of the channels last and back.
    private static func layerNorm2d(_ b: GraphBuilder, _ x: Activation, _ scope: Scope) throws(ModelError) -> Activation {
        var y = b.transpose(x, perm: [0, 2, 3, 1], scope)
        y = try b.layerNorm(y, scope, epsilon: epsilon)
        return b.transpose(y, perm: [0, 3, 1, 2], scope)
    }

    /// `CNBlock`: 7×7 depthwise conv, channels last, LayerNorm, Linear to 4×,
    /// GELU, Linear back, channels first, times the learned layer scale, plus
    /// the input. Stochastic depth is the identity at inference.
    private static func block(_ b: GraphBuilder, _ input: Activation, _ scope: Scope) throws(ModelError) -> Activation {
        let layers = scope.child("block")
        let channels = input.channels
        var x = try b.conv(input, layers.child(index: 0), out: channels, kernel: 7, padding: 3, groups: channels, bias: true)
        x = b.transpose(x, perm: [0, 2, 3, 1], layers.child(index: 1))
        x = try b.layerNorm(x, layers.child(index: 2), epsilon: epsilon)
        x = try b.matMulLinear(x, layers.child(index: 3), out: 4 * channels)
        x = try b.gelu(x, layers.child(index: 4))
        x = try b.matMulLinear(x, layers.child(index: 5), out: channels)
        x = b.transpose(x, perm: [0, 3, 1, 2], layers.child(index: 6))
        // torchvision initialises the scale to 1e-6; small values keep the residual path dominant.
        let scale = Activation(name: try b.weight(scope.parameterName("layer_scale"), dims: [channels, 1, 1],
                                                  WeightDistribution(low: 0, high: 0.2)),
                               dims: [channels, 1, 1])
        x = b.binary("Mul", scale, x, scope)
        return b.binary("Add", x, input, scope)
    }
}
