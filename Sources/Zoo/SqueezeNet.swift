import ModelCore

/// SqueezeNet 1.0 (Iandola et al., 2016) as torchvision defines it.
enum SqueezeNet {
    /// One Fire module: squeeze channels and the channels of each of the two
    /// expand convolutions (1×1 and 3×3).
    struct Fire {
        var squeeze: Int, expand: Int
    }

    /// The `features` sequence after the stem, by index: a Fire module or a
    /// 3×3/2 max pool (ceil mode).
    enum Layer {
        case fire(Fire)
        case maxPool
    }

    static let layers: [Layer] = [
        .fire(Fire(squeeze: 16, expand: 64)), .fire(Fire(squeeze: 16, expand: 64)), .fire(Fire(squeeze: 32, expand: 128)),
        .maxPool,
        .fire(Fire(squeeze: 32, expand: 128)), .fire(Fire(squeeze: 48, expand: 192)), .fire(Fire(squeeze: 48, expand: 192)),
        .fire(Fire(squeeze: 64, expand: 256)),
        .maxPool,
        .fire(Fire(squeeze: 64, expand: 256)),
    ]

    /// The layers from `input` to the class logits: a 7×7/2 conv with ReLU, a
    /// 3×3/2 max pool, the Fire modules, a 1×1 conv to the classes with ReLU,
    /// global average pool, flatten (dropout is identity at inference).
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let features = Scope.root.child("features")
        var x = try b.conv(input, features.child(index: 0), out: 96, kernel: 7, stride: 2, bias: true)
        x = b.relu(x, features.child(index: 1))
        x = try b.maxPool(x, features.child(index: 2), kernel: 3, stride: 2, ceilMode: true)
        for (offset, layer) in layers.enumerated() {
            let scope = features.child(index: 3 + offset)
            switch layer {
            case .fire(let fire): x = try fireModule(b, x, scope, fire)
            case .maxPool: x = try b.maxPool(x, scope, kernel: 3, stride: 2, ceilMode: true)
            }
        }

        let classifier = Scope.root.child("classifier")
        x = try b.conv(x, classifier.child(index: 1), out: classes, kernel: 1, bias: true)
        x = b.relu(x, classifier.child(index: 2))
        x = b.globalAveragePool(x, classifier.child(index: 3))
        return b.flatten(x, Scope.root.child("flatten"), output: GraphBuilder.outputName)
    }

    /// A 1×1 squeeze conv with ReLU feeding a 1×1 and a 3×3 expand conv, each
    /// with ReLU, concatenated along the channels. Every conv has a bias.
    private static func fireModule(_ b: GraphBuilder, _ x: Activation, _ scope: Scope,
                                   _ fire: Fire) throws(ModelError) -> Activation {
        var squeezed = try b.conv(x, scope.child("squeeze"), out: fire.squeeze, kernel: 1, bias: true)
        squeezed = b.relu(squeezed, scope.child("squeeze_activation"))
        var expand1 = try b.conv(squeezed, scope.child("expand1x1"), out: fire.expand, kernel: 1, bias: true)
        expand1 = b.relu(expand1, scope.child("expand1x1_activation"))
        var expand3 = try b.conv(squeezed, scope.child("expand3x3"), out: fire.expand, kernel: 3, padding: 1, bias: true)
        expand3 = b.relu(expand3, scope.child("expand3x3_activation"))
        return b.concat([expand1, expand3], axis: 1, scope)
    }
}
