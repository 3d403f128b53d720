import ModelCore

/// GoogLeNet (Inception v1, Szegedy et al., 2014) as torchvision defines it,
/// for inference: no auxiliary classifiers, no input transform (torchvision's
/// defaults without pretrained weights). As in torchvision, the "5×5" branch
/// uses a 3×3 convolution.
enum GoogLeNet {
    /// One inception module's output channels: the 1×1 branch, the 3×3
    /// branch's reduction and output, the second 3×3 branch's reduction and
    /// output, and the pooling branch's projection.
    struct Inception {
        var name: String
        var oneByOne: Int, reduce3x3: Int, out3x3: Int, reduce5x5: Int, out5x5: Int, poolProjection: Int

        /// The columns in the order of the paper's Table 1.
        init(_ name: String, _ oneByOne: Int, _ reduce3x3: Int, _ out3x3: Int, _ reduce5x5: Int, _ out5x5: Int,
             _ poolProjection: Int) {
            self.name = name
            (self.oneByOne, self.reduce3x3, self.out3x3) = (oneByOne, reduce3x3, out3x3)
            (self.reduce5x5, self.out5x5, self.poolProjection) = (reduce5x5, out5x5, poolProjection)
        }
    }

    /// Modules of the paper's Table 1, with a 3×3/2 max pool (ceil mode)
    /// before stage 4 and a 2×2/2 one before stage 5.
    static let stages: [[Inception]] = [
        [Inception("inception3a", 64, 96, 128, 16, 32, 32),
         Inception("inception3b", 128, 128, 192, 32, 96, 64)],
        [Inception("inception4a", 192, 96, 208, 16, 48, 64),
         Inception("inception4b", 160, 112, 224, 24, 64, 64),
         Inception("inception4c", 128, 128, 256, 24, 64, 64),
         Inception("inception4d", 112, 144, 288, 32, 64, 64),
         Inception("inception4e", 256, 160, 320, 32, 128, 128)],
        [Inception("inception5a", 256, 160, 320, 32, 128, 128),
         Inception("inception5b", 384, 192, 384, 48, 128, 128)],
    ]

    /// torchvision's BatchNorm epsilon for GoogLeNet.
    static let epsilon: Float = 1e-3

    /// The layers from `input` to the class logits: a 7×7/2 stem, 3×3/2 max
    /// pool, 1×1 and 3×3 convs, 3×3/2 max pool, the inception stages, global
    /// average pool, fully connected (dropout is identity at inference).
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let root = Scope.root
        var x = try basicConv(b, input, root.child("conv1"), out: 64, kernel: 7, stride: 2, padding: 3)
        x = try b.maxPool(x, root.child("maxpool1"), kernel: 3, stride: 2, ceilMode: true)
        x = try basicConv(b, x, root.child("conv2"), out: 64, kernel: 1)
        x = try basicConv(b, x, root.child("conv3"), out: 192, kernel: 3, padding: 1)
        x = try b.maxPool(x, root.child("maxpool2"), kernel: 3, stride: 2, ceilMode: true)

        for (index, stage) in stages.enumerated() {
            if index == 1 { x = try b.maxPool(x, root.child("maxpool3"), kernel: 3, stride: 2, ceilMode: true) }
            if index == 2 { x = try b.maxPool(x, root.child("maxpool4"), kernel: 2, stride: 2, ceilMode: true) }
            for module in stage {
                x = try inception(b, x, root.child(module.name), module)
            }
        }

        x = b.globalAveragePool(x, root.child("avgpool"))
        x = b.flatten(x, root.child("flatten"))
        return try b.linear(x, root.child("fc"), out: classes, output: GraphBuilder.outputName)
    }

    /// torchvision's `BasicConv2d`: conv without bias, BN (epsilon 1e-3), and
    /// a functional ReLU, which torch.onnx names after the module itself.
    private static func basicConv(_ b: GraphBuilder, _ x: Activation, _ scope: Scope, out: Int, kernel: Int,
                                  stride: Int = 1, padding: Int = 0) throws(ModelError) -> Activation {
        var y = try b.conv(x, scope.child("conv"), out: out, kernel: kernel, stride: stride, padding: padding, bias: false)
        y = try b.batchNorm(y, scope.child("bn"), epsilon: epsilon)
        return b.relu(y, scope)
    }

    /// Four parallel branches concatenated along the channels: 1×1; 1×1 then
    /// 3×3; 1×1 then 3×3; 3×3/1 max pool (ceil mode) then 1×1.
    private static func inception(_ b: GraphBuilder, _ x: Activation, _ scope: Scope,
                                  _ module: Inception) throws(ModelError) -> Activation {
        let branch1 = try basicConv(b, x, scope.child("branch1"), out: module.oneByOne, kernel: 1)

        let scope2 = scope.child("branch2")
        var branch2 = try basicConv(b, x, scope2.child(index: 0), out: module.reduce3x3, kernel: 1)
        branch2 = try basicConv(b, branch2, scope2.child(index: 1), out: module.out3x3, kernel: 3, padding: 1)

        let scope3 = scope.child("branch3")
        var branch3 = try basicConv(b, x, scope3.child(index: 0), out: module.reduce5x5, kernel: 1)
        branch3 = try basicConv(b, branch3, scope3.child(index: 1), out: module.out5x5, kernel: 3, padding: 1)

        let scope4 = scope.child("branch4")
        var branch4 = try b.maxPool(x, scope4.child(index: 0), kernel: 3, stride: 1, padding: 1, ceilMode: true)
        branch4 = try basicConv(b, branch4, scope4.child(index: 1), out: module.poolProjection, kernel: 1)

        return b.concat([branch1, branch2, branch3, branch4], axis: 1, scope)
    }
}
