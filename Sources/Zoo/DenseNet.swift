import ModelCore

/// DenseNet-121 (Huang et al., 2017) as torchvision defines it.
enum DenseNet {
    /// Channels each dense layer adds (the paper's k).
    static let growthRate = 32
    /// Layers of each dense block.
    static let blocks = [6, 12, 24, 16]
    /// Output channels of the stem.
    static let initialFeatures = 64
    /// A dense layer's 1×1 bottleneck has this many times k channels.
    static let bottleneckFactor = 4

    /// The layers from `input` to the class logits: a 7×7/2 stem and a 3×3/2
    /// max pool, dense blocks joined by transitions that halve the channels
    /// and the resolution, a final BN and ReLU, global average pool, fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let features = Scope.root.child("features")
        var x = try b.conv(input, features.child("conv0"), out: initialFeatures, kernel: 7, stride: 2,
                           padding: 3, bias: false)
        x = try b.batchNorm(x, features.child("norm0"))
        x = b.relu(x, features.child("relu0"))
        x = try b.maxPool(x, features.child("pool0"), kernel: 3, stride: 2, padding: 1)

        for (index, layers) in blocks.enumerated() {
            x = try denseBlock(b, x, features.child("denseblock\(index + 1)"), layers: layers)
            if index != blocks.count - 1 {
                x = try transition(b, x, features.child("transition\(index + 1)"), out: x.channels / 2)
            }
        }
        x = try b.batchNorm(x, features.child("norm5"))

        // The forward pass's functional ReLU, pooling and flatten have no
        // module name; these scopes name them.
        x = b.relu(x, Scope.root.child("relu"))
        x = b.globalAveragePool(x, Scope.root.child("avgpool"))
        x = b.flatten(x, Scope.root.child("flatten"))
        return try b.linear(x, Scope.root.child("classifier"), out: classes, output: GraphBuilder.outputName)
    }

    /// Each layer reads the concatenation of the block's input and every
    /// earlier layer's output and adds k channels; the block's output is the
    /// concatenation of them all.
    private static func denseBlock(_ b: GraphBuilder, _ input: Activation, _ scope: Scope,
                                   layers: Int) throws(ModelError) -> Activation {
        var features = [input]
        for index in 0..<layers {
            let layer = scope.child("denselayer\(index + 1)")
            // torchvision concatenates even the first layer's one-element list; torch.onnx keeps that Concat.
            var x = b.concat(features, axis: 1, layer)
            x = try b.batchNorm(x, layer.child("norm1"))
            x = b.relu(x, layer.child("relu1"))
            x = try b.conv(x, layer.child("conv1"), out: bottleneckFactor * growthRate,
                           kernel: 1, bias: false)
            x = try b.batchNorm(x, layer.child("norm2"))
            x = b.relu(x, layer.child("relu2"))
            x = try b.conv(x, layer.child("conv2"), out: growthRate, kernel: 3, padding: 1, bias: false)
            features.append(x)
        }
        return b.concat(features, axis: 1, scope)
    }

    /// BN, ReLU, a 1×1 conv to `out` channels, 2×2/2 average pooling.
    private static func transition(_ b: GraphBuilder, _ input: Activation, _ scope: Scope,
                                   out: Int) throws(ModelError) -> Activation {
        var x = try b.batchNorm(input, scope.child("norm"))
        x = b.relu(x, scope.child("relu"))
        x = try b.conv(x, scope.child("conv"), out: out, kernel: 1, bias: false)
        let pool = scope.child("pool")
        let dims = [x.dims[0], x.channels,
                    try GraphBuilder.slidingOutput(x.height, kernel: 2, stride: 2, padding: 0, at: pool),
                    try GraphBuilder.slidingOutput(x.width, kernel: 2, stride: 2, padding: 0, at: pool)]
        // `AvgPool2d(2, 2)` counts padding by default; there is none, so the flag changes nothing.
        return b.add(node: pool.nodeName("AveragePool"), "AveragePool", inputs: [x.name], dims: dims, attributes: [
            Attribute(name: "ceil_mode", value: .int(0)),
            Attribute(name: "count_include_pad", value: .int(1)),
            Attribute(name: "kernel_shape", value: .ints([2, 2])),
            Attribute(name: "pads", value: .ints([0, 0, 0, 0])),
            Attribute(name: "strides", value: .ints([2, 2])),
        ])
    }
}
