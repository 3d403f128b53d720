import ModelCore

/// Standard image-classification architectures, built layer for layer as
/// torchvision defines them, and decoder-only language models (GPT-2, Llama)
/// as Hugging Face defines them, with seeded random weights.
///
/// Weights are generated on first access to their bytes, so building a model
/// only to analyse its graph costs no weight generation.
public enum Zoo {
    /// One architecture of the zoo.
    public struct Architecture: Sendable {
        /// The name used on the command line and in `zoo:NAME`, e.g. `resnet50`.
        public let name: String
        /// One line saying what the model is.
        public let summary: String
        let logits: @Sendable (GraphBuilder, Activation) throws(ModelError) -> Activation
    }

    /// Classes of the ImageNet classifier head.
    static let classes = 1000
    /// Upper bound for the batch and the image side, far above any real use,
    /// so that shape arithmetic downstream cannot overflow.
    static let sizeLimit = 1 << 16

    /// Every architecture, in the order `zoo list` shows them.
    public static let architectures: [Architecture] = [
        Architecture(name: "alexnet", summary: "AlexNet, torchvision's single-tower variant") { b, x throws(ModelError) in
            try AlexNet.logits(b, x, classes: classes)
        },
        vgg(11, .a), vgg(13, .b), vgg(16, .d), vgg(19, .e),
        vgg(11, .a, batchNorm: true), vgg(13, .b, batchNorm: true), vgg(16, .d, batchNorm: true),
        vgg(19, .e, batchNorm: true),
        resnet(18, .basic, [2, 2, 2, 2]), resnet(34, .basic, [3, 4, 6, 3]),
        resnet(50, .bottleneck(strideOnFirst: false), [3, 4, 6, 3]),
        resnet(101, .bottleneck(strideOnFirst: false), [3, 4, 23, 3]),
        resnet(152, .bottleneck(strideOnFirst: false), [3, 8, 36, 3]),
        resnet(50, .bottleneck(strideOnFirst: true), [3, 4, 6, 3]),
        resnet(101, .bottleneck(strideOnFirst: true), [3, 4, 23, 3]),
        resnet(152, .bottleneck(strideOnFirst: true), [3, 8, 36, 3]),
        Architecture(name: "mobilenet_v2", summary: "MobileNetV2, width 1.0") { b, x throws(ModelError) in
            try MobileNetV2.logits(b, x, classes: classes)
        },
        Architecture(name: "efficientnet_b0", summary: "EfficientNet-B0, MBConv with squeeze-excitation and SiLU") {
            b, x throws(ModelError) in
            try EfficientNet.logits(b, x, classes: classes)
        },
        Architecture(name: "mnasnet1_0", summary: "MnasNet-B1, width 1.0") { b, x throws(ModelError) in
            try MnasNet.logits(b, x, classes: classes)
        },
        Architecture(name: "regnet_y_400mf", summary: "RegNetY-400MF, group convs with squeeze-excitation") {
            b, x throws(ModelError) in
            try RegNet.logits(b, x, classes: classes)
        },
        Architecture(name: "shufflenet_v2_x1_0", summary: "ShuffleNet V2, width 1.0") { b, x throws(ModelError) in
            try ShuffleNetV2.logits(b, x, classes: classes)
        },
        Architecture(name: "densenet121", summary: "DenseNet-121, growth rate 32, blocks [6, 12, 24, 16]") {
            b, x throws(ModelError) in try DenseNet.logits(b, x, classes: classes)
        },
        Architecture(name: "googlenet", summary: "GoogLeNet (Inception v1), without the auxiliary classifiers") {
            b, x throws(ModelError) in try GoogLeNet.logits(b, x, classes: classes)
        },
        Architecture(name: "squeezenet1_0", summary: "SqueezeNet 1.0") { b, x throws(ModelError) in
            try SqueezeNet.logits(b, x, classes: classes)
        },
        Architecture(name: "convnext_tiny", summary: "ConvNeXt-T, 96–768 channels, [3, 3, 9, 3] blocks") { b, x throws(ModelError) in
            try ConvNeXt.logits(b, x, stages: ConvNeXt.tiny, classes: classes)
        },
        Architecture(name: "vit_b_16", summary: "ViT-B/16, 12 layers of 12 heads, 768 wide, 224×224 only") { b, x throws(ModelError) in
            try VisionTransformer.logits(b, x, VisionTransformer.base16, classes: classes)
        },
    ]

    /// `vgg16`, `vgg16_bn`, …
    private static func vgg(_ depth: Int, _ configuration: VGG.Configuration, batchNorm: Bool = false) -> Architecture {
        Architecture(name: "vgg\(depth)" + (batchNorm ? "_bn" : ""),
                     summary: "VGG-\(depth), configuration \(String(describing: configuration).uppercased())"
                         + (batchNorm ? ", with batch normalization" : "")) { b, x throws(ModelError) in
            try VGG.logits(b, x, configuration: configuration, batchNorm: batchNorm, classes: classes)
        }
    }

    /// `resnet50` (torchvision's v1.5), `resnet50_v1` (the paper's), …; the two
    /// versions differ only for bottleneck blocks.
    private static func resnet(_ depth: Int, _ block: ResNet.Block, _ blocks: [Int]) -> Architecture {
        let (suffix, kind): (String, String)
        switch block {
        case .basic: (suffix, kind) = ("", ", basic blocks")
        case .bottleneck(strideOnFirst: false): (suffix, kind) = ("", " v1.5 (torchvision: stride on the 3×3), bottlenecks")
        case .bottleneck(strideOnFirst: true): (suffix, kind) = ("_v1", " v1 (the paper: stride on the first 1×1), bottlenecks")
        }
        let summary = "ResNet-\(depth)\(kind) \(blocks)"
        return Architecture(name: "resnet\(depth)" + suffix, summary: summary) { b, x throws(ModelError) in
            try ResNet.logits(b, x, block: block, blocks: blocks, classes: classes)
        }
    }

    /// The names of the image classifiers, as `zoo list` shows them (the
    /// language models follow them, see `languageModels`).
    public static var names: [String] { architectures.map(\.name) }

    /// Builds the model `name`.
    ///
    /// An image classifier takes input `input`: float32 `[batch, 3,
    /// imageSize, imageSize]` (1 and 224 unless given) and gives output
    /// `output`: float32 `[batch, 1000]`. A language model (see
    /// `languageModels` and `DecoderModel`) has symbolic `batch`, `seq` and
    /// `past` dimensions, so it takes no batch or image size, and `layers`
    /// replaces its number of blocks. ONNX IR version 8, opset 17.
    ///
    /// The same `seed` gives the same weight bytes on every machine.
    /// - Throws: `ModelError` for an unknown name (listing the known ones), a
    ///   batch, image size or layer count out of range or given to a model
    ///   that takes none, or an image too small for the model (or, for
    ///   AlexNet and VGG, one whose last feature map is not a multiple of the
    ///   classifier's 6×6 or 7×7 input, or for the ViT, any size but 224).
    public static func build(_ name: String, batch: Int? = nil, imageSize: Int? = nil, seed: UInt64 = 0,
                             layers: Int? = nil) throws(ModelError) -> Model {
        if let model = languageModels.first(where: { $0.name == name }) {
            guard batch == nil, imageSize == nil else {
                throw ModelError(.usage, "zoo model '\(name)' is a language model with symbolic batch and sequence dimensions; "
                                 + "it takes no batch or image size (give them to the analysis with --symbol batch=N,seq=N,past=N)")
            }
            return try build(model, layers: layers, seed: seed)
        }
        guard let architecture = architectures.first(where: { $0.name == name }) else {
            throw ModelError(.usage, "unknown zoo model '\(name)'; known models: \((names + languageModels.map(\.name)).joined(separator: ", "))")
        }
        guard layers == nil else {
            throw ModelError(.usage, "zoo model '\(name)' is an image classifier; --layers applies only to the language models")
        }
        let (batch, imageSize) = (batch ?? 1, imageSize ?? 224)
        guard (1...sizeLimit).contains(batch), (1...sizeLimit).contains(imageSize) else {
            throw ModelError(.usage, "zoo model '\(name)': batch \(batch) and image size \(imageSize) must lie in 1...\(sizeLimit)")
        }
        let builder = GraphBuilder(seed: seed)
        let input = Activation(name: GraphBuilder.inputName, dims: [batch, 3, imageSize, imageSize])
        let output: Activation
        do {
            output = try architecture.logits(builder, input)
        } catch {
            var located = error
            located.message = "zoo model '\(name)' at image size \(imageSize): " + error.message
            throw located
        }
        let graph = Graph(name: name, nodes: builder.nodes, initializers: builder.initializers,
                          inputs: [ValueInfo(name: input.name, type: .tensor(.float, Shape(input.dims)))],
                          outputs: [ValueInfo(name: output.name, type: .tensor(.float, Shape(output.dims)))])
        return Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], producerName: "modelinfo-zoo",
                     docString: "\(architecture.summary), seeded random weights (seed \(seed))", graph: graph)
    }

    /// Parameters as torchvision counts them: elements of floating-point
    /// initializers except BatchNormalization's running mean and variance,
    /// which are buffers, not parameters.
    public static func torchvisionParameterCount(_ graph: Graph) -> Int {
        graph.initializers
            .filter { $0.dtype.isFloatingPoint && !$0.name.hasSuffix("running_mean") && !$0.name.hasSuffix("running_var") }
            .reduce(0) { $0 + $1.elementCount }
    }
}
