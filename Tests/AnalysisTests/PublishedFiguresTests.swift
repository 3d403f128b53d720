import ModelInfo
import Testing

/// The counts for the zoo's architectures equal the published figures, from
/// the counting rules alone: torchvision's GFLOPS column (which counts the
/// multiply-adds of Conv and Linear layers), torchvision's parameter counts,
/// and the ResNet paper's Table 1.
@Suite struct PublishedFiguresTests {
    /// Conv + Gemm/MatMul multiply-adds at 224×224, batch 1, in units of 10⁹.
    static let macs: [(model: String, giga: Double)] = [
        ("alexnet", 0.714), ("vgg16", 15.47), ("vgg19", 19.63),
        ("resnet18", 1.814), ("resnet34", 3.664), ("resnet50", 4.089), ("resnet101", 7.801), ("resnet152", 11.514),
        ("mobilenet_v2", 0.301), ("convnext_tiny", 4.456), ("vit_b_16", 17.564),
        // The paper's v1 (stride on the first 1×1 of a bottleneck); its Table 1 rounds these to 3.8, 7.6 and 11.3.
        ("resnet50_v1", 3.858), ("resnet101_v1", 7.570), ("resnet152_v1", 11.282),
    ]

    /// torchvision's parameter counts: learned weights and biases, BatchNorm's scale and bias,
    /// not its running statistics.
    static let params: [(model: String, count: Int)] = [
        ("alexnet", 61_100_840), ("vgg11", 132_863_336), ("vgg13", 133_047_848), ("vgg16", 138_357_544),
        ("vgg19", 143_667_240), ("vgg11_bn", 132_868_840), ("vgg16_bn", 138_365_992), ("vgg19_bn", 143_678_248),
        ("resnet18", 11_689_512), ("resnet34", 21_797_672), ("resnet50", 25_557_032), ("resnet101", 44_549_160),
        ("resnet152", 60_192_808), ("resnet50_v1", 25_557_032), ("mobilenet_v2", 3_504_872),
        ("efficientnet_b0", 5_288_548), ("mnasnet1_0", 4_383_312), ("regnet_y_400mf", 4_344_144),
        ("shufflenet_v2_x1_0", 2_278_604), ("densenet121", 7_978_856), ("googlenet", 6_624_904),
        ("squeezenet1_0", 1_248_424), ("convnext_tiny", 28_589_128), ("vit_b_16", 86_567_656),
    ]

    /// Conv + Gemm/MatMul multiply-adds at 224×224, batch 1, exactly: the sums
    /// that `modelinfo` finds in torch.onnx exports (opset 17) of torchvision's
    /// models. GoogLeNet without its auxiliary classifiers.
    static let exactMACs: [(model: String, macs: Int)] = [
        ("efficientnet_b0", 385_814_752), ("mnasnet1_0", 314_415_872), ("regnet_y_400mf", 401_842_848),
        ("shufflenet_v2_x1_0", 144_907_992), ("densenet121", 2_834_161_664), ("googlenet", 1_498_376_192),
        ("squeezenet1_0", 818_924_576), ("convnext_tiny", 4_455_531_264), ("vit_b_16", 17_563_828_224),
    ]

    static func analysis(_ name: String) throws -> ModelAnalysis {
        try Analyzer.analyze(try Zoo.build(name))
    }

    @Test(arguments: macs.map(\.model))
    func multiplyAddsMatchPublishedFigures(_ model: String) throws {
        let expected = try #require(Self.macs.first { $0.model == model }).giga * 1e9
        let analysis = try Self.analysis(model)
        #expect(analysis.nodes.allSatisfy { $0.status == .counted }, "every node of \(model) is counted")
        let linearMACs = analysis.nodes.filter { ["Conv", "Gemm", "MatMul"].contains($0.op) }.reduce(0) { $0 + $1.macs }
        #expect(linearMACs == analysis.totals.macs, "only Conv and Gemm/MatMul perform multiply-adds")
        let error = abs(Double(linearMACs) - expected) / expected
        #expect(error < 0.001, "\(model): \(linearMACs) MACs, published \(expected) (off by \(error * 100)%)")
    }

    @Test(arguments: exactMACs.map(\.model))
    func multiplyAddsEqualTorchOnnxExports(_ model: String) throws {
        let expected = try #require(Self.exactMACs.first { $0.model == model }).macs
        let analysis = try Self.analysis(model)
        #expect(analysis.nodes.allSatisfy { $0.status == .counted }, "every node of \(model) is counted")
        let linearMACs = analysis.nodes.filter { ["Conv", "Gemm", "MatMul"].contains($0.op) }.reduce(0) { $0 + $1.macs }
        #expect(linearMACs == expected)
    }

    @Test(arguments: params.map(\.model))
    func parameterCountsMatchTorchvision(_ model: String) throws {
        let expected = try #require(Self.params.first { $0.model == model }).count
        let totals = try Self.analysis(model).totals
        #expect(totals.params == expected)
        #expect(totals.paramsUnique == expected, "no tensor of the zoo is shared between layers")
    }

    /// The question behind the project: VGG-19 spends 1.94 G multiply-adds at
    /// full resolution, where ResNet-34 has already shrunk the image and spends
    /// 0.118 G at 112².
    @Test func vggWorksAtFullResolutionWhereResNetHasShrunkTheImage() throws {
        let vgg = try Self.analysis("vgg19").groups(by: .resolution)
        let resnet = try Self.analysis("resnet34").groups(by: .resolution)
        let vggFull = try #require(vgg.first { $0.key == "224×224" })
        #expect(vggFull.macs == 1_936_392_192)   // conv1_1 86.7 M + conv1_2 1.85 G
        #expect(!resnet.contains { $0.key == "224×224" })
        let resnetStem = try #require(resnet.first { $0.key == "112×112" })
        #expect(resnetStem.macs == 118_013_952)  // the 7×7/2 stem convolution
    }

    @Test func stagesFollowTorchvisionModuleNames() throws {
        let stages = try Self.analysis("resnet50").groups(by: .stage).map(\.key)
        #expect(stages.starts(with: ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]))
        let layer3 = try #require(try Self.analysis("resnet50").groups(by: .stage).first { $0.key == "layer3" })
        #expect(layer3.macs > 1_400_000_000)
    }
}
