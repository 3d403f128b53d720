import ModelCore

/// MnasNet 1.0 (Tan et al., 2019), the B1 variant torchvision builds, as one
/// flat `layers` sequence. Its BatchNorm keeps PyTorch's default epsilon
/// (1e-5); torchvision's momentum of 0.0003 only matters in training.
enum MnasNet {
    /// One stack of inverted residuals: output channels, depthwise kernel,
    /// stride of the first block, expansion factor, blocks.
    struct Stack {
        var out: Int, kernel: Int, stride: Int, expansion: Int, blocks: Int
    }

    /// The stacks at `layers.8` … `layers.13`, at width 1.0.
    static let stacks = [
        Stack(out: 24, kernel: 3, stride: 2, expansion: 3, blocks: 3),
        Stack(out: 40, kernel: 5, stride: 2, expansion: 3, blocks: 3),
        Stack(out: 80, kernel: 5, stride: 2, expansion: 6, blocks: 3),
        Stack(out: 96, kernel: 3, stride: 1, expansion: 6, blocks: 2),
        Stack(out: 192, kernel: 5, stride: 2, expansion: 6, blocks: 4),
        Stack(out: 320, kernel: 3, stride: 1, expansion: 6, blocks: 1),
    ]

    /// The layers from `input` to the class logits: a 3×3/2 conv to 32
    /// channels, a depthwise separable conv to 16, the stacks, a 1×1 conv to
    /// 1280, the spatial mean, fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let layers = Scope.root.child("layers")
        var index = 0
        func next() -> Scope {
            defer { index += 1 }
            return layers.child(index: index)
        }

        var x = try b.conv(input, next(), out: 32, kernel: 3, stride: 2, padding: 1, bias: false)
        x = try b.batchNorm(x, next())
        x = b.relu(x, next())
        x = try b.conv(x, next(), out: 32, kernel: 3, padding: 1, groups: 32, bias: false)
        x = try b.batchNorm(x, next())
        x = b.relu(x, next())
        x = try b.conv(x, next(), out: 16, kernel: 1, bias: false)
        x = try b.batchNorm(x, next())
        for stack in stacks {
            let stackScope = next()
            for block in 0..<stack.blocks {
                x = try invertedResidual(b, x, stackScope.child(index: block), stack: stack,
                                         stride: block == 0 ? stack.stride : 1)
            }
        }
        x = try b.conv(x, next(), out: 1280, kernel: 1, bias: false)
        x = try b.batchNorm(x, next())
        x = b.relu(x, next())

        x = mean(b, x, Scope.root.child("mean"))
        // Dropout (classifier.0) does nothing at inference and is left out.
        return try b.linear(x, Scope.root.child("classifier").child(index: 1), out: classes,
                            output: GraphBuilder.outputName)
    }

    /// `x.mean([2, 3])`, which torch.onnx writes at opset 17 as
    /// `ReduceMean(axes=[2, 3], keepdims=0)`: `[N, C, H, W]` → `[N, C]`.
    private static func mean(_ b: GraphBuilder, _ x: Activation, _ scope: Scope) -> Activation {
        b.add(node: scope.nodeName("ReduceMean"), "ReduceMean", inputs: [x.name], dims: [x.dims[0], x.channels],
              attributes: [Attribute(name: "axes", value: .ints([2, 3])), Attribute(name: "keepdims", value: .int(0))])
    }

    /// 1×1 expand, depthwise k×k, 1×1 project, each with BN, ReLU after the
    /// first two (`layers.0` … `layers.7`); a residual add when the shape is kept.
    private static func invertedResidual(_ b: GraphBuilder, _ input: Activation, _ scope: Scope, stack: Stack,
                                         stride: Int) throws(ModelError) -> Activation {
        let layers = scope.child("layers")
        let middle = input.channels * stack.expansion
        var x = try b.conv(input, layers.child(index: 0), out: middle, kernel: 1, bias: false)
        x = try b.batchNorm(x, layers.child(index: 1))
        x = b.relu(x, layers.child(index: 2))
        x = try b.conv(x, layers.child(index: 3), out: middle, kernel: stack.kernel, stride: stride,
                       padding: stack.kernel / 2, groups: middle, bias: false)
        x = try b.batchNorm(x, layers.child(index: 4))
        x = b.relu(x, layers.child(index: 5))
        x = try b.conv(x, layers.child(index: 6), out: stack.out, kernel: 1, bias: false)
        x = try b.batchNorm(x, layers.child(index: 7))
        return stride == 1 && input.channels == stack.out ? b.sum(x, input, scope) : x
    }
}
