import Foundation
import ModelInfo
import Testing
import TestSupport
@testable import Zoo

/// The zoo's architectures: torchvision's parameter counts, valid graphs,
/// the naming and attribute conventions, lazy and deterministic weights.
@Suite struct ZooTests {
    /// torchvision's published parameter counts (`sum(p.numel() for p in model.parameters())`).
    static let torchvisionCounts: [String: Int] = [
        "alexnet": 61_100_840,
        "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
        "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992, "vgg19_bn": 143_678_248,
        "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
        "resnet101": 44_549_160, "resnet152": 60_192_808,
        // v1 moves a stride, not a weight.
        "resnet50_v1": 25_557_032, "resnet101_v1": 44_549_160, "resnet152_v1": 60_192_808,
        "mobilenet_v2": 3_504_872,
        "efficientnet_b0": 5_288_548, "mnasnet1_0": 4_383_312, "regnet_y_400mf": 4_344_144,
        "shufflenet_v2_x1_0": 2_278_604, "densenet121": 7_978_856,
        // Without the auxiliary classifiers, which only training uses.
        "googlenet": 6_624_904,
        "squeezenet1_0": 1_248_424, "convnext_tiny": 28_589_128, "vit_b_16": 86_567_656,
    ]

    /// Counted here rather than with `Zoo.torchvisionParameterCount`, so that the rule is checked too.
    static func parameters(_ graph: Graph) -> Int {
        graph.initializers.filter { tensor in
            tensor.dtype == .float && !tensor.name.hasSuffix("running_mean") && !tensor.name.hasSuffix("running_var")
        }.reduce(0) { $0 + $1.elementCount }
    }

    @Test func everyArchitectureHasItsReferenceCount() {
        #expect(Set(Zoo.names) == Set(Self.torchvisionCounts.keys))
        #expect(Zoo.names.count == Self.torchvisionCounts.count, "a name is listed twice")
    }

    @Test(arguments: Zoo.names)
    func parameterCountIsTorchvisions(_ name: String) throws {
        let graph = try Zoo.build(name).graph
        #expect(Self.parameters(graph) == Self.torchvisionCounts[name])
        #expect(Zoo.torchvisionParameterCount(graph) == Self.torchvisionCounts[name])
    }

    @Test(arguments: Zoo.names)
    func graphIsValidAndFollowsTheConventions(_ name: String) throws {
        let model = try Zoo.build(name)
        let graph = model.graph
        // Already in topological order: validation keeps the node order.
        #expect(try graph.validated().nodes == graph.nodes)
        #expect(model.irVersion == 8 && model.opsets == [OpsetID(domain: "", version: 17)])
        #expect(model.producerName == "modelinfo-zoo")
        #expect(graph.inputs == [ValueInfo(name: "input", type: .tensor(.float, [1, 3, 224, 224]))])
        #expect(graph.outputs == [ValueInfo(name: "output", type: .tensor(.float, [1, 1000]))])
        #expect(graph.valueInfo.isEmpty)

        let names = graph.nodes.map(\.name) + graph.nodes.flatMap(\.outputs) + graph.initializers.map(\.name)
        #expect(Set(names).count == names.count, "a name is used twice")
        for node in graph.nodes {
            // `/stage/…/Op`, or `/Op` for the model's own operations (ViT's token
            // reshaping), with torch.onnx's `Op_1`, `Op_2`… for repeats in one scope.
            let parts = node.name.split(separator: "/", omittingEmptySubsequences: false)
            let last = parts.last.map(String.init) ?? ""
            let numbered = last.hasPrefix(node.opType + "_") && Int(last.dropFirst(node.opType.count + 1)) != nil
            #expect(parts.count >= 2 && parts[0].isEmpty && (last == node.opType || numbered), "node name '\(node.name)'")
        }
        for node in graph.nodes where node.opType == "Conv" {
            let attributes = Set(node.attributes.map(\.name))
            #expect(attributes == ["kernel_shape", "strides", "pads", "dilations", "group"], "\(node.name)")
        }
        for node in graph.nodes where node.opType == "Gemm" {
            #expect(node.attribute("transB")?.value == .int(1))
        }
        let ops = Set(graph.nodes.map(\.opType))
        #expect(ops.isSubset(of: ["Conv", "BatchNormalization", "Relu", "Clip", "Constant", "MaxPool", "AveragePool",
                                  "GlobalAveragePool", "Flatten", "Gemm", "Add", "Concat", "Slice", "Reshape",
                                  "Transpose", "ReduceMean", "Sigmoid", "Mul",
                                  // ConvNeXt's and the ViT's layer norms, linears on 3-D tensors, GELU and attention
                                  "LayerNormalization", "MatMul", "Div", "Erf", "Expand", "Gather", "Softmax"]))
    }

    @Test func resnetNamesFollowTorchvision() throws {
        let graph = try Zoo.build("resnet50").graph
        let nodes = Set(graph.nodes.map(\.name))
        let weights = Set(graph.initializers.map(\.name))
        #expect(nodes.isSuperset(of: ["/conv1/Conv", "/maxpool/MaxPool", "/layer1/layer1.0/conv1/Conv",
                                      "/layer1/layer1.0/downsample/downsample.0/Conv", "/layer4/layer4.2/Add",
                                      "/layer4/layer4.2/relu_2/Relu", "/avgpool/GlobalAveragePool", "/fc/Gemm"]))
        #expect(weights.isSuperset(of: ["conv1.weight", "bn1.running_var", "layer1.0.conv1.weight",
                                        "layer1.0.bn1.running_mean", "layer2.0.downsample.1.weight", "fc.bias"]))
    }

    @Test func convnextNamesFollowTorchvision() throws {
        let graph = try Zoo.build("convnext_tiny").graph
        let nodes = Set(graph.nodes.map(\.name))
        #expect(nodes.isSuperset(of: ["/features/features.0/features.0.0/Conv",
                                      "/features/features.0/features.0.1/Transpose_1",
                                      "/features/features.1/features.1.0/block/block.0/Conv",
                                      "/features/features.1/features.1.0/block/block.2/LayerNormalization",
                                      "/features/features.1/features.1.0/block/block.4/Mul_1",
                                      "/features/features.5/features.5.8/Add", "/features/features.6/features.6.1/Conv",
                                      "/classifier/classifier.0/LayerNormalization", "/classifier/classifier.2/Gemm"]))
        let weights = Set(graph.initializers.map(\.name))
        #expect(weights.isSuperset(of: ["features.0.1.weight", "features.1.0.layer_scale", "features.1.0.block.3.weight",
                                        "features.7.2.block.5.bias", "features.6.0.bias", "classifier.2.weight"]))
        // A depthwise 7×7 per block: 18 blocks.
        let depthwise = graph.nodes.filter { $0.opType == "Conv" && $0.attribute("group")?.value != .int(1) }
        #expect(depthwise.count == 18)
    }

    @Test func vitNamesFollowTorchvision() throws {
        let graph = try Zoo.build("vit_b_16").graph
        let nodes = Set(graph.nodes.map(\.name))
        let attention = "/encoder/layers/encoder_layer_11/self_attention/"
        #expect(nodes.isSuperset(of: ["/conv_proj/Conv", "/Reshape", "/Expand", "/Concat", "/encoder/Add",
                                      "/encoder/layers/encoder_layer_0/ln_1/LayerNormalization", attention + "MatMul",
                                      attention + "Softmax", attention + "Gemm", "/encoder/layers/encoder_layer_11/Add_1",
                                      "/encoder/layers/encoder_layer_11/mlp/mlp.3/Add", "/encoder/ln/LayerNormalization",
                                      "/Gather", "/heads/head/Gemm"]))
        let weights = Set(graph.initializers.map(\.name))
        #expect(weights.isSuperset(of: ["class_token", "encoder.pos_embedding",
                                        "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
                                        "encoder.layers.encoder_layer_0.self_attention.out_proj.bias",
                                        "encoder.layers.encoder_layer_5.mlp.0.weight", "heads.head.bias"]))
        #expect(graph.nodes.filter { $0.opType == "Softmax" }.count == 12)
    }

    /// ConvNeXt takes any size its four downsamplings leave at least one pixel
    /// of; the ViT's position embedding fixes it to 224.
    @Test func transformerEraModelsAtOtherSizes() throws {
        let convnext = try Zoo.build("convnext_tiny", batch: 2, imageSize: 160).graph
        #expect(convnext.outputs.first?.type == .tensor(.float, [2, 1000]))
        #expect(throws: ModelError.self) { try Zoo.build("convnext_tiny", imageSize: 16) }

        let vit = try Zoo.build("vit_b_16", batch: 3).graph
        #expect(vit.outputs.first?.type == .tensor(.float, [3, 1000]))
        #expect { try Zoo.build("vit_b_16", imageSize: 256) } throws: { error in
            "\(error)".contains("zoo model 'vit_b_16' at image size 256: the ViT is defined only at 224×224")
                && !"\(error)".contains("\n")
        }
    }

    /// Node names as torch.onnx exports torchvision's modules (checked against
    /// opset-17 exports; the head's top-level `/Flatten` and `/ReduceMean` get a
    /// stage, as everywhere in the zoo), weights under torchvision's state-dict keys.
    @Test(arguments: [
        ("efficientnet_b0",
         ["/features/features.0/features.0.2/Sigmoid", "/features/features.1/features.1.0/block/block.1/fc1/Conv",
          "/features/features.2/features.2.0/block/block.2/activation/Mul",
          "/features/features.2/features.2.0/block/block.2/scale_activation/Sigmoid",
          "/features/features.2/features.2.1/Add", "/features/features.8/features.8.2/Mul", "/classifier/classifier.1/Gemm"],
         ["features.1.0.block.2.0.weight", "features.7.0.block.2.fc2.bias", "features.8.1.running_var"]),
        ("mnasnet1_0",
         ["/layers/layers.7/BatchNormalization", "/layers/layers.8/layers.8.1/layers/layers.3/Conv",
          "/layers/layers.8/layers.8.1/Add", "/layers/layers.16/Relu", "/mean/ReduceMean", "/classifier/classifier.1/Gemm"],
         ["layers.13.0.layers.7.weight", "layers.14.weight", "classifier.1.bias"]),
        ("regnet_y_400mf",
         ["/stem/stem.2/Relu", "/trunk_output/block1/block1-0/proj/proj.0/Conv",
          "/trunk_output/block2/block2-1/f/se/activation/Relu", "/trunk_output/block4/block4-5/f/se/Mul",
          "/trunk_output/block4/block4-5/Add", "/trunk_output/block4/block4-5/activation/Relu", "/fc/Gemm"],
         ["trunk_output.block3.block3-0.f.b.0.weight", "trunk_output.block2.block2-0.f.se.fc1.bias", "fc.weight"]),
    ])
    func namesFollowTorchvision(_ name: String, _ nodes: [String], _ weights: [String]) throws {
        let graph = try Zoo.build(name).graph
        #expect(Set(graph.nodes.map(\.name)).isSuperset(of: nodes))
        #expect(Set(graph.initializers.map(\.name)).isSuperset(of: weights))
    }

    @Test func vggNodesNameTheirBlock() throws {
        let graph = try Zoo.build("vgg16_bn").graph
        let nodes = Set(graph.nodes.map(\.name))
        #expect(nodes.isSuperset(of: ["/features/block1/conv1_1/Conv", "/features/block1/bn1_1/BatchNormalization",
                                      "/features/block5/conv5_3/Conv", "/features/block5/pool5/MaxPool",
                                      "/classifier/fc1/Gemm", "/classifier/fc3/Gemm"]))
        // Weights keep torchvision's keys: block 2's first conv is features.7 with BN.
        let conv = try #require(graph.nodes.first { $0.name == "/features/block2/conv2_1/Conv" })
        #expect(conv.inputs.dropFirst() == ["features.7.weight", "features.7.bias"])
        #expect(graph.initializers.last?.name == "classifier.6.bias")
    }

    /// ResNet-50 v1.5 strides its first bottleneck of stage 2 on the 3×3 conv; v1 on the first 1×1.
    @Test func resnetV1MovesTheStride() throws {
        func strides(_ name: String) throws -> (Int64?, Int64?) {
            let graph = try Zoo.build(name).graph
            func stride(_ node: String) -> Int64? {
                guard case .ints(let values)? = graph.nodes.first(where: { $0.name == node })?.attribute("strides")?.value
                else { return nil }
                return values.first
            }
            return (stride("/layer2/layer2.0/conv1/Conv"), stride("/layer2/layer2.0/conv2/Conv"))
        }
        #expect(try strides("resnet50") == (1, 2))
        #expect(try strides("resnet50_v1") == (2, 1))
    }

    /// The four-branch and concatenating architectures keep torch.onnx's node
    /// names, torchvision's weight names and the attributes that make their sizes.
    @Test func concatenatingArchitecturesFollowTorchvision() throws {
        func graph(_ name: String) throws -> (nodes: [String: Node], weights: Set<String>) {
            let graph = try Zoo.build(name).graph
            return (Dictionary(uniqueKeysWithValues: graph.nodes.map { ($0.name, $0) }), Set(graph.initializers.map(\.name)))
        }
        let googlenet = try graph("googlenet")
        let branchPool = try #require(googlenet.nodes["/inception3a/branch4/branch4.0/MaxPool"])
        #expect(branchPool.attribute("ceil_mode")?.value == .int(1))
        #expect(googlenet.nodes["/inception5b/Concat"]?.inputs.count == 4)
        #expect(googlenet.nodes["/conv1/bn/BatchNormalization"]?.attribute("epsilon")?.value == .float(1e-3))
        #expect(googlenet.nodes["/conv1/Relu"] != nil && googlenet.nodes["/fc/Gemm"] != nil)
        #expect(googlenet.weights.isSuperset(of: ["conv1.conv.weight", "inception4e.branch3.1.conv.weight", "fc.bias"]))
        #expect(!googlenet.weights.contains { $0.hasPrefix("aux") })

        let densenet = try graph("densenet121")
        // torchvision concatenates the first layer's input alone; torch.onnx keeps that Concat.
        #expect(densenet.nodes["/features/denseblock1/denselayer1/Concat"]?.inputs.count == 1)
        #expect(densenet.nodes["/features/denseblock4/Concat"]?.inputs.count == 17)
        #expect(densenet.nodes["/features/transition3/pool/AveragePool"] != nil)
        #expect(densenet.weights.isSuperset(of: ["features.denseblock4.denselayer16.conv2.weight",
                                                 "features.norm5.running_var", "classifier.weight"]))

        let shufflenet = try graph("shufflenet_v2_x1_0")
        let shuffle = try #require(shufflenet.nodes["/stage3/stage3.7/Transpose"])
        #expect(shuffle.attribute("perm")?.value == .ints([0, 2, 1, 3, 4]))
        #expect(shufflenet.nodes["/stage3/stage3.7/Slice_1"] != nil && shufflenet.nodes["/stage3/stage3.0/Slice"] == nil)
        #expect(shufflenet.nodes["/stage4/stage4.0/branch1/branch1.0/Conv"]?.attribute("group")?.value == .int(232))
        #expect(shufflenet.nodes["/globalpool/ReduceMean"]?.attribute("keepdims")?.value == .int(0))

        let squeezenet = try graph("squeezenet1_0")
        #expect(squeezenet.nodes["/features/features.12/Concat"] != nil)
        #expect(squeezenet.nodes["/classifier/classifier.1/Conv"]?.inputs == [
            "/features/features.12/Concat_output_0", "classifier.1.weight", "classifier.1.bias"])
        #expect(squeezenet.nodes["/flatten/Flatten"]?.outputs == ["output"])
    }

    /// Ceil mode rounds a pool's output up, as PyTorch's `ceil_mode=True`,
    /// and the analysis reads the same sizes from the graph: floor rounding
    /// would give 55, 13, 26 and 11 here.
    @Test(arguments: [("googlenet", 224, "/maxpool1/MaxPool", [1, 64, 56, 56]),
                      ("googlenet", 224, "/maxpool3/MaxPool", [1, 480, 14, 14]),
                      ("squeezenet1_0", 224, "/features/features.6/MaxPool", [1, 256, 27, 27]),
                      ("googlenet", 97, "/maxpool2/MaxPool", [1, 192, 12, 12])])
    func ceilModePoolingRoundsUp(_ model: String, _ imageSize: Int, _ node: String, _ dims: [Int]) throws {
        let analysis = try Analyzer.analyze(try Zoo.build(model, imageSize: imageSize))
        let pool = try #require(analysis.nodes.first { $0.name == node })
        #expect(pool.outputs.first??.shape == Shape(dims))
        #expect(analysis.nodes.allSatisfy { $0.status == .counted })
    }

    @Test func batchAndImageSizeShapeTheGraph() throws {
        let graph = try Zoo.build("resnet18", batch: 4, imageSize: 160).graph
        #expect(graph.inputs.first?.type == .tensor(.float, [4, 3, 160, 160]))
        #expect(graph.outputs.first?.type == .tensor(.float, [4, 1000]))

        // VGG at 448: a 14×14 map, pooled 2×2 to the classifier's 7×7.
        let vgg = try Zoo.build("vgg11", imageSize: 448).graph
        let pool = try #require(vgg.nodes.first { $0.opType == "AveragePool" })
        #expect(pool.attribute("kernel_shape")?.value == .ints([2, 2]))
        #expect(try Zoo.build("vgg11").graph.nodes.allSatisfy { $0.opType != "AveragePool" })
    }

    @Test func badRequestsAreErrors() {
        #expect { try Zoo.build("resnet51") } throws: { error in
            "\(error)".contains("unknown zoo model 'resnet51'") && "\(error)".contains("mobilenet_v2")
        }
        // 300 pixels leave VGG a 9×9 map, not a multiple of the classifier's 7×7.
        #expect(throws: ModelError.self) { try Zoo.build("vgg16", imageSize: 300) }
        // 16 pixels are 1 after four 2×2 pools, too few for the fifth.
        #expect(throws: ModelError.self) { try Zoo.build("vgg16", imageSize: 16) }
        #expect(throws: ModelError.self) { try Zoo.build("alexnet", batch: 0) }
    }

    @Test func weightsAreMadeOnlyWhenRead() throws {
        let graph = try Zoo.build("vgg16").graph
        func generated(_ tensor: Tensor) -> Bool? { (tensor.bytes?.owner as? GeneratedWeights)?.isGenerated }
        #expect(graph.initializers.allSatisfy { generated($0) == false })
        let bias = try #require(graph.initializers.first { $0.name == "features.0.bias" })
        #expect(bias.byteCount == 64 * 4)
        _ = bias.bytes?.array
        #expect(generated(bias) == true)
        #expect(graph.initializers.filter { generated($0) == true }.count == 1)
    }

    @Test func weightsAreDeterministicAndSeeded() throws {
        let first = try Zoo.build("mobilenet_v2")
        #expect(try Zoo.build("mobilenet_v2") == first)
        let reseeded = try Zoo.build("mobilenet_v2", seed: 1)
        for (a, b) in zip(first.graph.initializers, reseeded.graph.initializers) {
            let (x, y) = (try #require(a.bytes), try #require(b.bytes))
            #expect(!x.contentsEqual(y), "\(a.name) does not depend on the seed")
        }
        // Pinned, so that a change of generator (or platform) is noticed: the
        // FNV-1a hash of resnet18's conv1.weight bytes at seed 0, as computed
        // from `checkScript`'s NumPy implementation of the generator.
        let conv1 = try #require(try Zoo.build("resnet18").graph.initializers.first { $0.name == "conv1.weight" })
        #expect(fnv1a(try #require(conv1.bytes?.array)) == Self.pinnedConv1Hash)
    }

    /// A tensor filled on several cores has the bytes of one filled in one piece.
    @Test func chunkedFillEqualsOnePiece() throws {
        let graph = try Zoo.build("resnet18").graph
        let tensor = try #require(graph.initializers.first { $0.name == "layer4.1.conv2.weight" })
        try #require(tensor.elementCount > 2 * WeightStream.chunkElements)
        let words = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: tensor.elementCount)
        defer { words.deallocate() }
        WeightStream.fill(words, key: WeightStream.key(seed: 0, name: tensor.name), firstElement: 0,
                          distribution: .fanIn(512 * 3 * 3))
        let onePiece = ByteRegion(copying: Array(UnsafeRawBufferPointer(words)))
        #expect(try #require(tensor.bytes).contentsEqual(onePiece))
    }

    static let pinnedConv1Hash: UInt64 = 0xAF18_7AF1_F583_1738

    @Test func weightsFollowTheirDistributions() throws {
        let graph = try Zoo.build("resnet18").graph
        func values(_ name: String) throws -> [Float] {
            let tensor = try #require(graph.initializers.first { $0.name == name })
            return try #require(tensor.bytes).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        // conv1: fan-in 3·7·7 = 147.
        let conv = try values("conv1.weight")
        let bound = 1 / Float(147).squareRoot()
        #expect(conv.allSatisfy { abs($0) <= bound })
        #expect(conv.max()! > bound * 0.99 && conv.min()! < -bound * 0.99)
        #expect(abs(conv.reduce(0, +) / Float(conv.count)) < bound * 0.05)
        #expect(try values("layer4.1.bn2.running_var").allSatisfy { (0.5...1.5).contains($0) })
    }

    /// Written as ONNX, the models read back equal, pass `onnx.checker`
    /// (full check, with shape inference) and run in onnxruntime with finite outputs.
    @Test func writtenModelsPassONNXAndRunInOnnxruntime() throws {
        let python = Fixtures.root.appendingPathComponent(".venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python),
                     "\(python) is missing: run Tools/bootstrap to create the venv")
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }

        var paths: [String] = []
        for name in ["mobilenet_v2", "resnet18", "shufflenet_v2_x1_0", "densenet121", "googlenet", "squeezenet1_0"] {
            let model = try Zoo.build(name, batch: 2, imageSize: 96)
            let path = folder.appendingPathComponent("\(name).onnx").path
            try ONNXWriter().write(model, to: path)
            #expect(try ONNXReader.read(path: path) == model, "\(name) reads back different")
            paths.append(path)
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.checkScript] + paths
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.components(separatedBy: "ok ").count == paths.count + 1, "\(text)")
    }

    /// Checks each model with onnx and onnxruntime, and compares resnet18's
    /// weights with an independent NumPy implementation of `WeightStream`.
    static let checkScript = """
        import sys
        import numpy as np, onnx, onnxruntime as ort
        from onnx import numpy_helper

        M = (1 << 64) - 1
        def mix(z):
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
            return z ^ (z >> 31)
        def key(seed, name):
            h = 0xCBF29CE484222325
            for b in name.encode():
                h = ((h ^ b) * 0x100000001B3) & M
            return mix(mix(seed) ^ h)
        def stream(count, k, low, high):
            x = (np.arange(count, dtype=np.uint64) + (k & 0xFFFFFFFF)).astype(np.uint32)
            x ^= x >> np.uint32(16); x = (x.astype(np.uint64) * 0x7FEB352D).astype(np.uint32)
            x ^= x >> np.uint32(15); x = (x.astype(np.uint64) * 0x846CA68B).astype(np.uint32)
            x ^= x >> np.uint32(16); x ^= np.uint32(k >> 32)
            scale = np.float32(np.float32(high) - np.float32(low)) * np.float32(2.0 ** -24)
            return np.float32(low) + (x >> np.uint32(8)).astype(np.float32) * scale

        for path in sys.argv[1:]:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            x = np.random.default_rng(0).standard_normal((2, 3, 96, 96), dtype=np.float32)
            (y,) = session.run(["output"], {"input": x})
            assert y.shape == (2, 1000), y.shape
            assert np.isfinite(y).all() and np.abs(y).max() > 0, "outputs not finite or all zero"
            weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
            # conv1: fan-in 3·7·7; layer4.1.conv2: fan-in 512·3·3, filled in pieces on several cores.
            for name, fan_in in [("conv1.weight", 147), ("layer4.1.conv2.weight", 4608)]:
                if name in weights:
                    bound = np.float32(1 / np.sqrt(float(fan_in)))
                    expected = stream(weights[name].size, key(0, name), -bound, bound)
                    assert np.array_equal(weights[name].ravel().view(np.uint32), expected.view(np.uint32)), name
            print("ok", path)
        """
}

/// FNV-1a, 64-bit.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
}
