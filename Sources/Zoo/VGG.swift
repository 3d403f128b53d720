import ModelCore

/// VGG (Simonyan & Zisserman, 2014) as torchvision defines it: 3×3 convs
/// with bias in five blocks, each closed by a 2×2 max pool, then three
/// fully connected layers.
enum VGG {
    /// Output channels of each conv, block by block: the paper's configurations.
    enum Configuration {
        case a, b, d, e

        var blocks: [[Int]] {
            switch self {
            case .a: return [[64], [128], [256, 256], [512, 512], [512, 512]]
            case .b: return [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]]
            case .d: return [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
            case .e: return [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]]
            }
        }
    }

    /// The layers from `input` to the class logits; `batchNorm` adds a
    /// BatchNormalization after every conv (torchvision's `vgg*_bn`).
    ///
    /// Nodes are named by block (`/features/block2/conv2_1/Conv`) so that the
    /// stages show; weights keep torchvision's keys (`features.5.weight`).
    static func logits(_ b: GraphBuilder, _ input: Activation, configuration: Configuration, batchNorm: Bool,
                       classes: Int) throws(ModelError) -> Activation {
        let features = Scope.root.child("features")
        // Position in torchvision's `features` Sequential: conv, [bn,] relu per conv, one per pool.
        var index = 0
        var x = input
        for (blockIndex, widths) in configuration.blocks.enumerated() {
            let block = "block\(blockIndex + 1)"
            for (convIndex, width) in widths.enumerated() {
                let layer = "\(blockIndex + 1)_\(convIndex + 1)"
                x = try b.conv(x, features.child(node: "\(block)/conv\(layer)", parameter: String(index)),
                               out: width, kernel: 3, padding: 1, bias: true)
                index += 1
                if batchNorm {
                    x = try b.batchNorm(x, features.child(node: "\(block)/bn\(layer)", parameter: String(index)))
                    index += 1
                }
                x = b.relu(x, features.child("\(block)/relu\(layer)"))
                index += 1
            }
            x = try b.maxPool(x, features.child("\(block)/pool\(blockIndex + 1)"), kernel: 2, stride: 2)
            index += 1
        }

        x = try b.adaptiveAveragePool(x, Scope.root.child("avgpool"), size: 7)
        x = b.flatten(x, Scope.root.child("flatten"))

        // Dropout (classifier.2 and .5) does nothing at inference and is left out.
        let classifier = Scope.root.child("classifier")
        x = try b.linear(x, classifier.child(node: "fc1", parameter: "0"), out: 4096)
        x = b.relu(x, classifier.child("relu1"))
        x = try b.linear(x, classifier.child(node: "fc2", parameter: "3"), out: 4096)
        x = b.relu(x, classifier.child("relu2"))
        return try b.linear(x, classifier.child(node: "fc3", parameter: "6"), out: classes, output: GraphBuilder.outputName)
    }
}
