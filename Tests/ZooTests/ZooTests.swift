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
            // `/stage/…/Op`: at least a stage and the op.
            let parts = node.name.split(separator: "/", omittingEmptySubsequences: false)
            #expect(parts.count >= 3 && parts[0].isEmpty && parts.last.map(String.init) == node.opType,
                    "node name '\(node.name)'")
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
                                  "GlobalAveragePool", "Flatten", "Gemm", "Add", "Sigmoid", "Mul", "ReduceMean"]))
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
        for name in ["mobilenet_v2", "resnet18"] {
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
