import ModelCore

/// MobileNetV2 (Sandler et al., 2018) as torchvision defines it, width 1.0.
enum MobileNetV2 {
    /// One row of the paper's Table 2: expansion factor t, output channels c,
    /// repeats n, stride s of the first repeat.
    struct Stage {
        var t: Int, c: Int, n: Int, s: Int
    }

    static let stages = [
        Stage(t: 1, c: 16, n: 1, s: 1),
        Stage(t: 6, c: 24, n: 2, s: 2),
        Stage(t: 6, c: 32, n: 3, s: 2),
        Stage(t: 6, c: 64, n: 4, s: 2),
        Stage(t: 6, c: 96, n: 3, s: 1),
        Stage(t: 6, c: 160, n: 3, s: 2),
        Stage(t: 6, c: 320, n: 1, s: 1),
    ]

    /// The layers from `input` to the class logits: a 3×3 stem to 32
    /// channels, the inverted residual blocks, a 1×1 conv to 1280, global
    /// average pool, fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let features = Scope.root.child("features")
        var index = 0
        func next() -> Scope {
            defer { index += 1 }
            return features.child(index: index)
        }

        var x = try convNormReLU6(b, input, next(), out: 32, kernel: 3, stride: 2)
        for stage in stages {
            for repeatIndex in 0..<stage.n {
                x = try invertedResidual(b, x, next(), out: stage.c, stride: repeatIndex == 0 ? stage.s : 1,
                                         expansion: stage.t)
            }
        }
        x = try convNormReLU6(b, x, next(), out: 1280, kernel: 1)

        x = b.globalAveragePool(x, Scope.root.child("avgpool"))
        x = b.flatten(x, Scope.root.child("flatten"))
        // Dropout (classifier.0) does nothing at inference and is left out.
        return try b.linear(x, Scope.root.child("classifier").child(index: 1), out: classes, output: GraphBuilder.outputName)
    }

    /// torchvision's `Conv2dNormActivation`: conv without bias (index 0), BN (1), ReLU6 (2).
    private static func convNormReLU6(_ b: GraphBuilder, _ x: Activation, _ scope: Scope, out: Int, kernel: Int,
                                      stride: Int = 1, groups: Int = 1) throws(ModelError) -> Activation {
        var y = try b.conv(x, scope.child(index: 0), out: out, kernel: kernel, stride: stride, padding: (kernel - 1) / 2,
                           groups: groups, bias: false)
        y = try b.batchNorm(y, scope.child(index: 1))
        return try b.relu6(y, scope.child(index: 2))
    }

    /// Expand with a 1×1 conv (skipped when t = 1), filter with a depthwise
    /// 3×3, project linearly with a 1×1 conv; a residual add when the shape is kept.
    private static func invertedResidual(_ b: GraphBuilder, _ input: Activation, _ scope: Scope, out: Int, stride: Int,
                                         expansion: Int) throws(ModelError) -> Activation {
        let conv = scope.child("conv")
        let hidden = input.channels * expansion
        var index = 0
        var x = input
        if expansion != 1 {
            x = try convNormReLU6(b, x, conv.child(index: index), out: hidden, kernel: 1)
            index += 1
        }
        x = try convNormReLU6(b, x, conv.child(index: index), out: hidden, kernel: 3, stride: stride, groups: hidden)
        x = try b.conv(x, conv.child(index: index + 1), out: out, kernel: 1, bias: false)
        x = try b.batchNorm(x, conv.child(index: index + 2))
        return stride == 1 && input.channels == out ? b.sum(input, x, scope) : x
    }
}
