import ModelCore

/// ResNet (He et al., 2015) as torchvision defines it.
enum ResNet {
    /// The residual block a network is made of.
    enum Block {
        /// Two 3×3 convs (ResNet-18/34).
        case basic
        /// 1×1 reduce, 3×3, 1×1 expand ×4 (ResNet-50/101/152). `strideOnFirst`
        /// puts a stage's stride on the first 1×1 conv, as in the paper (v1);
        /// torchvision puts it on the 3×3 conv (v1.5).
        case bottleneck(strideOnFirst: Bool)

        /// Output channels per `planes`.
        var expansion: Int {
            switch self {
            case .basic: return 1
            case .bottleneck: return 4
            }
        }
    }

    /// The layers from `input` to the class logits: a 7×7 stem, four stages
    /// of `blocks[i]` blocks (64, 128, 256, 512 planes; stages 2–4 halve the
    /// resolution in their first block), global average pool, fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, block: Block, blocks: [Int],
                       classes: Int) throws(ModelError) -> Activation {
        let root = Scope.root
        var x = input
        x = try b.conv(x, root.child("conv1"), out: 64, kernel: 7, stride: 2, padding: 3, bias: false)
        x = try b.batchNorm(x, root.child("bn1"))
        x = b.relu(x, root.child("relu"))
        x = try b.maxPool(x, root.child("maxpool"), kernel: 3, stride: 2, padding: 1)

        for (stage, count) in blocks.enumerated() {
            let layer = root.child("layer\(stage + 1)")
            let planes = 64 << stage
            for index in 0..<count {
                let stride = stage > 0 && index == 0 ? 2 : 1
                x = try residual(b, x, layer.child(index: index), block: block, planes: planes, stride: stride)
            }
        }

        x = b.globalAveragePool(x, root.child("avgpool"))
        x = b.flatten(x, root.child("flatten"))
        return try b.linear(x, root.child("fc"), out: classes, output: GraphBuilder.outputName)
    }

    /// One block; a 1×1 conv + BN projects the shortcut when the shape changes.
    private static func residual(_ b: GraphBuilder, _ input: Activation, _ scope: Scope, block: Block, planes: Int,
                                 stride: Int) throws(ModelError) -> Activation {
        var x = input
        let finalRelu: String
        switch block {
        case .basic:
            x = try b.conv(x, scope.child("conv1"), out: planes, kernel: 3, stride: stride, padding: 1, bias: false)
            x = try b.batchNorm(x, scope.child("bn1"))
            x = b.relu(x, scope.child("relu"))
            x = try b.conv(x, scope.child("conv2"), out: planes, kernel: 3, padding: 1, bias: false)
            x = try b.batchNorm(x, scope.child("bn2"))
            finalRelu = "relu_1"
        case .bottleneck(let strideOnFirst):
            x = try b.conv(x, scope.child("conv1"), out: planes, kernel: 1, stride: strideOnFirst ? stride : 1, bias: false)
            x = try b.batchNorm(x, scope.child("bn1"))
            x = b.relu(x, scope.child("relu"))
            x = try b.conv(x, scope.child("conv2"), out: planes, kernel: 3, stride: strideOnFirst ? 1 : stride,
                           padding: 1, bias: false)
            x = try b.batchNorm(x, scope.child("bn2"))
            x = b.relu(x, scope.child("relu_1"))
            x = try b.conv(x, scope.child("conv3"), out: planes * 4, kernel: 1, bias: false)
            x = try b.batchNorm(x, scope.child("bn3"))
            finalRelu = "relu_2"
        }

        var shortcut = input
        if stride != 1 || input.channels != planes * block.expansion {
            let downsample = scope.child("downsample")
            shortcut = try b.conv(input, downsample.child(index: 0), out: planes * block.expansion, kernel: 1,
                                  stride: stride, bias: false)
            shortcut = try b.batchNorm(shortcut, downsample.child(index: 1))
        }
        x = b.sum(x, shortcut, scope)
        // torchvision calls one ReLU module repeatedly; torch.onnx numbers the calls.
        return b.relu(x, scope.child(finalRelu))
    }
}
