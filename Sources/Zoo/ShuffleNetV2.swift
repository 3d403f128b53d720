import ModelCore

/// ShuffleNet V2 (Ma et al., 2018) as torchvision defines it, width 1.0.
enum ShuffleNetV2 {
    /// Blocks of stages 2, 3 and 4.
    static let repeats = [4, 8, 4]
    /// Output channels of the stem, stages 2–4 and the final 1×1 conv (width 1.0).
    static let channels = [24, 116, 232, 464, 1024]

    /// The layers from `input` to the class logits: a 3×3/2 stem and a 3×3/2
    /// max pool, three stages whose first block halves the resolution, a 1×1
    /// conv, the mean over the spatial axes, fully connected.
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let root = Scope.root
        var x = try convNormReLU(b, input, root.child("conv1"), out: channels[0], kernel: 3, stride: 2)
        x = try b.maxPool(x, root.child("maxpool"), kernel: 3, stride: 2, padding: 1)

        for (stage, count) in repeats.enumerated() {
            let scope = root.child("stage\(stage + 2)")
            for index in 0..<count {
                x = try block(b, x, scope.child(index: index), out: channels[stage + 1], stride: index == 0 ? 2 : 1)
            }
        }
        x = try convNormReLU(b, x, root.child("conv5"), out: channels[4], kernel: 1)

        // torchvision's `x.mean([2, 3])`; torch.onnx writes it as ReduceMean without kept axes.
        x = b.add(node: root.child("globalpool").nodeName("ReduceMean"), "ReduceMean", inputs: [x.name],
                  dims: [x.dims[0], x.channels], attributes: [
                      Attribute(name: "axes", value: .ints([2, 3])), Attribute(name: "keepdims", value: .int(0)),
                  ])
        return try b.linear(x, root.child("fc"), out: classes, output: GraphBuilder.outputName)
    }

    /// A conv without bias (index 0), BN (1), ReLU (2), as torchvision's
    /// `Sequential` stem and final conv.
    private static func convNormReLU(_ b: GraphBuilder, _ x: Activation, _ scope: Scope, out: Int, kernel: Int,
                                     stride: Int = 1) throws(ModelError) -> Activation {
        var y = try b.conv(x, scope.child(index: 0), out: out, kernel: kernel, stride: stride,
                           padding: (kernel - 1) / 2, bias: false)
        y = try b.batchNorm(y, scope.child(index: 1))
        return b.relu(y, scope.child(index: 2))
    }

    /// torchvision's `InvertedResidual`. With stride 1 the input's channels are
    /// split in halves: the first passes through, the second goes through
    /// `branch2`. With stride 2 both branches read the whole input, `branch1`
    /// being a depthwise 3×3/2 and a 1×1 conv. The two halves are concatenated
    /// and their channels shuffled.
    private static func block(_ b: GraphBuilder, _ input: Activation, _ scope: Scope, out: Int,
                              stride: Int) throws(ModelError) -> Activation {
        let half = out / 2
        let kept: Activation
        let branchInput: Activation
        if stride == 1 {
            precondition(input.channels == out, "a stride-1 block keeps its channels")
            // `x.chunk(2, dim=1)` as two Slices along the channels.
            let axes = try b.integers([1], dims: [1], scope).name
            var slices: [Activation] = []
            for (start, end) in [(0, half), (half, out)] {
                let starts = try b.integers([Int64(start)], dims: [1], scope).name
                let ends = try b.integers([Int64(end)], dims: [1], scope).name
                var dims = input.dims
                dims[1] = end - start
                slices.append(b.add(node: scope.nodeName(b.numbered("Slice", scope)), "Slice", inputs: [input.name, starts, ends, axes],
                                    dims: dims))
            }
            (kept, branchInput) = (slices[0], slices[1])
        } else {
            let branch1 = scope.child("branch1")
            var y = try b.conv(input, branch1.child(index: 0), out: input.channels, kernel: 3, stride: stride,
                               padding: 1, groups: input.channels, bias: false)
            y = try b.batchNorm(y, branch1.child(index: 1))
            y = try b.conv(y, branch1.child(index: 2), out: half, kernel: 1, bias: false)
            y = try b.batchNorm(y, branch1.child(index: 3))
            kept = b.relu(y, branch1.child(index: 4))
            branchInput = input
        }

        let branch2 = scope.child("branch2")
        var y = try b.conv(branchInput, branch2.child(index: 0), out: half, kernel: 1, bias: false)
        y = try b.batchNorm(y, branch2.child(index: 1))
        y = b.relu(y, branch2.child(index: 2))
        y = try b.conv(y, branch2.child(index: 3), out: half, kernel: 3, stride: stride, padding: 1, groups: half,
                       bias: false)
        y = try b.batchNorm(y, branch2.child(index: 4))
        y = try b.conv(y, branch2.child(index: 5), out: half, kernel: 1, bias: false)
        y = try b.batchNorm(y, branch2.child(index: 6))
        y = b.relu(y, branch2.child(index: 7))

        let joined = b.concat([kept, y], axis: 1, scope)
        return try channelShuffle(b, joined, scope, groups: 2)
    }

    /// torchvision's `channel_shuffle`: view as `[N, groups, C/groups, H, W]`,
    /// swap axes 1 and 2, view back as `[N, C, H, W]`.
    private static func channelShuffle(_ b: GraphBuilder, _ x: Activation, _ scope: Scope,
                                       groups: Int) throws(ModelError) -> Activation {
        let (n, c, h, w) = (x.dims[0], x.channels, x.height, x.width)
        let y = b.transpose(try b.reshape(x, to: [n, groups, c / groups, h, w], scope), perm: [0, 2, 1, 3, 4], scope)
        return try b.reshape(y, to: [n, c, h, w], scope)
    }
}
