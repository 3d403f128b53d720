import ModelCore

/// EfficientNet-B0 (Tan and Le, 2019) as torchvision defines it: MBConv
/// blocks with squeeze-excitation and SiLU. torchvision builds B0 with
/// `nn.BatchNorm2d`'s default epsilon, 1e-5 (only B5–B7 and V2 pass 1e-3).
enum EfficientNet {
    /// One row of the B0 table: expansion ratio, depthwise kernel, stride of
    /// the first block, output channels, blocks.
    struct Stage {
        var expansion: Int, kernel: Int, stride: Int, out: Int, blocks: Int
    }

    /// B0's stages; at width and depth 1.0 no channel count or depth is rescaled.
    static let stages = [
        Stage(expansion: 1, kernel: 3, stride: 1, out: 16, blocks: 1),
        Stage(expansion: 6, kernel: 3, stride: 2, out: 24, blocks: 2),
        Stage(expansion: 6, kernel: 5, stride: 2, out: 40, blocks: 2),
        Stage(expansion: 6, kernel: 3, stride: 2, out: 80, blocks: 3),
        Stage(expansion: 6, kernel: 5, stride: 1, out: 112, blocks: 3),
        Stage(expansion: 6, kernel: 5, stride: 2, out: 192, blocks: 4),
        Stage(expansion: 6, kernel: 3, stride: 1, out: 320, blocks: 1),
    ]

    /// The layers from `input` to the class logits: a 3×3/2 stem to 32
    /// channels (`features.0`), one `features.N` per stage, a 1×1 conv to four
    /// times the last width (`features.8`), global average pool, fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let features = Scope.root.child("features")
        var x = try convNormSiLU(b, input, features.child(index: 0), out: 32, kernel: 3, stride: 2)
        for (index, stage) in stages.enumerated() {
            let stageScope = features.child(index: index + 1)
            for block in 0..<stage.blocks {
                x = try mbConv(b, x, stageScope.child(index: block), stage: stage, stride: block == 0 ? stage.stride : 1)
            }
        }
        x = try convNormSiLU(b, x, features.child(index: stages.count + 1), out: 4 * x.channels, kernel: 1)

        x = b.globalAveragePool(x, Scope.root.child("avgpool"))
        x = b.flatten(x, Scope.root.child("flatten"))
        // Dropout (classifier.0) does nothing at inference and is left out.
        return try b.linear(x, Scope.root.child("classifier").child(index: 1), out: classes,
                            output: GraphBuilder.outputName)
    }

    /// torchvision's `Conv2dNormActivation` with SiLU: conv without bias (index
    /// 0), BN (1), SiLU (2); "same" padding for the odd kernel.
    private static func convNormSiLU(_ b: GraphBuilder, _ x: Activation, _ scope: Scope, out: Int, kernel: Int,
                                     stride: Int = 1, groups: Int = 1) throws(ModelError) -> Activation {
        var y = try b.conv(x, scope.child(index: 0), out: out, kernel: kernel, stride: stride,
                           padding: (kernel - 1) / 2, groups: groups, bias: false)
        y = try b.batchNorm(y, scope.child(index: 1))
        return b.silu(y, scope.child(index: 2))
    }

    /// MBConv: expand with a 1×1 conv (left out when the ratio is 1), filter
    /// with a depthwise k×k, squeeze-excite to a quarter of the block's input
    /// channels, project with a 1×1 conv and BN; a residual add when the shape
    /// is kept (stochastic depth is the identity at inference).
    private static func mbConv(_ b: GraphBuilder, _ input: Activation, _ scope: Scope, stage: Stage,
                               stride: Int) throws(ModelError) -> Activation {
        let layers = scope.child("block")
        // torchvision rounds this to a multiple of 8; in B0 every input width already is one.
        let expanded = input.channels * stage.expansion
        var index = 0
        func next() -> Scope {
            defer { index += 1 }
            return layers.child(index: index)
        }

        var x = input
        if expanded != input.channels {
            x = try convNormSiLU(b, x, next(), out: expanded, kernel: 1)
        }
        x = try convNormSiLU(b, x, next(), out: expanded, kernel: stage.kernel, stride: stride, groups: expanded)
        x = try SqueezeExcitation.apply(b, x, next(), squeeze: max(1, input.channels / 4)) { b, x, scope in
            b.silu(x, scope)
        }
        let project = next()
        x = try b.conv(x, project.child(index: 0), out: stage.out, kernel: 1, bias: false)
        x = try b.batchNorm(x, project.child(index: 1))
        return stride == 1 && input.channels == stage.out ? b.sum(x, input, scope) : x
    }
}
