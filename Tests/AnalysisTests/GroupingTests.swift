@testable import Analysis
import ModelInfo
import Testing
import TestSupport

/// Peak live activations, resolutions and stages: the rules in docs/COUNTING.md.
@Suite struct GroupingTests {
    static func model(_ nodes: [Node], input: ValueType, outputs: [String], initializers: [Tensor] = []) -> Model {
        AnalyzerTests.model(nodes, initializers: initializers, input: input, outputs: outputs)
    }

    /// x → a → b, then y = a + b: `a` lives until the Add, `x` only until the first Relu.
    @Test func peakCountsWhatIsAliveAtOnce() throws {
        let model = Self.model([
            Node(name: "first", opType: "Relu", inputs: ["x"], outputs: ["a"]),
            Node(name: "second", opType: "Relu", inputs: ["a"], outputs: ["b"]),
            Node(name: "sum", opType: "Add", inputs: ["a", "b"], outputs: ["y"]),
        ], input: .tensor(.float, [1, 1000]), outputs: ["y"])
        let totals = try Analyzer.analyze(model).totals
        #expect(totals.activationBytes == 3 * 4000)
        #expect(totals.peakActivationBytes == 3 * 4000, "a, b and y at the Add")
        // In a chain each value dies at the next node: two alive at once.
        let chain = Self.model([
            Node(name: "first", opType: "Relu", inputs: ["x"], outputs: ["a"]),
            Node(name: "second", opType: "Relu", inputs: ["a"], outputs: ["b"]),
            Node(name: "third", opType: "Relu", inputs: ["b"], outputs: ["y"]),
        ], input: .tensor(.float, [1, 1000]), outputs: ["y"])
        #expect(try Analyzer.analyze(chain).totals.peakActivationBytes == 2 * 4000)
        // An open dimension leaves the peak unknown, not zero.
        let open = Self.model([Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["y"])],
                              input: .tensor(.float, Shape([.symbol("N"), .known(1000)])), outputs: ["y"])
        #expect(try Analyzer.analyze(open).totals.peakActivationBytes == nil)
    }

    /// The static rule against the engine's measured peak: equal for VGG-16,
    /// whose peak is conv1_2's input and output whether or not the plan fuses
    /// the Relus; never below it where fusion drops intermediates (VGG-11's
    /// conv1_1 output before its Relu, ResNet's BatchNorm outputs).
    @Test func peakMatchesTheEnginesMeasuredPeak() throws {
        for (name, equal) in [("vgg16", true), ("vgg11", false), ("resnet18", false)] {
            let model = try Zoo.build(name, imageSize: 224)
            let analysis = try Analyzer.analyze(model)
            let plan = try ExecutionPlan(model: model)
            let input = try EngineTensor(floats: [Float](repeating: 0.5, count: 3 * 224 * 224), shape: [1, 3, 224, 224])
            let (_, memory) = try plan.runMeasuringMemory([plan.inputNames[0]: input], context: ExecutionContext(threads: 2))
            let peak = try #require(analysis.totals.peakActivationBytes)
            if equal {
                #expect(peak == memory.peakBytes, "\(name): \(peak) vs measured \(memory.peakBytes)")
                // Unfused, two full maps are first alive at relu1_1 (conv1_1's output and its Relu's); fused, at conv1_2.
                #expect(analysis.totals.peakActivationNode == "/features/block1/relu1_1/Relu")
                #expect(memory.peakStep.contains("/features/block1/conv1_2/Conv"), "\(memory.peakStep)")
            } else {
                #expect(peak >= memory.peakBytes && peak <= 2 * memory.peakBytes, "\(name): \(peak) vs measured \(memory.peakBytes)")
            }
        }
    }

    @Test func peakOfResNet50() throws {
        let analysis = try Analyzer.analyze(try Model.load(path: "zoo:resnet50").model, options: AnalysisOptions(batch: 1))
        // The input (602 kB) and the 1×64×112×112 stem outputs (3.2 MB each) at the first BatchNorm, later
        // a 56×56×256 block output kept for the residual while its bottleneck runs.
        #expect(analysis.totals.peakActivationBytes == 9_633_792)
        #expect(analysis.totals.activationBytes > 15 * analysis.totals.peakActivationBytes!)
    }

    /// A transformer's rank-4 attention tensors and a 3×3 constant are not resolutions.
    @Test func onlySpatialFeatureMapsHaveAResolution() throws {
        let encoder = try Analyzer.analyze(try Model.load(path: Fixtures.path("valid/encoder.onnx")).model,
                                           options: AnalysisOptions(inputShapes: ["input_ids": [1, 8]]))
        #expect(encoder.groups(by: .resolution).map(\.key) == ["not spatial"])
        let resnet = try Analyzer.analyze(try Model.load(path: "zoo:resnet18").model).groups(by: .resolution)
        #expect(resnet.map(\.key) == ["112×112", "56×56", "28×28", "14×14", "7×7", "1×1", "not spatial"])
        #expect(resnet.last?.macs == 512_000, "the classifier")
    }

    static func floats(_ name: String, _ dims: [Int]) throws -> Tensor { try AnalyzerTests.floats(name, dims) }

    /// A ConvNeXt block computes channels-last between two Transposes: its
    /// LayerNorm and pointwise MatMuls are 1×1 convolutions at the block's resolution.
    @Test func channelsLastBlocksKeepTheirResolution() throws {
        let model = Self.model([
            Node(name: "/stem/Conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
            Node(name: "/block/Transpose", opType: "Transpose", inputs: ["c"], outputs: ["t"],
                 attributes: [Attribute(name: "perm", value: .ints([0, 2, 3, 1]))]),
            Node(name: "/block/norm/LayerNormalization", opType: "LayerNormalization", inputs: ["t", "g", "b"], outputs: ["n"],
                 attributes: [Attribute(name: "axis", value: .int(-1))]),
            Node(name: "/block/pwconv1/MatMul", opType: "MatMul", inputs: ["n", "m1"], outputs: ["h"]),
            Node(name: "/block/act/Relu", opType: "Relu", inputs: ["h"], outputs: ["r"]),
            Node(name: "/block/pwconv2/MatMul", opType: "MatMul", inputs: ["r", "m2"], outputs: ["o"]),
            Node(name: "/block/Transpose_1", opType: "Transpose", inputs: ["o"], outputs: ["back"],
                 attributes: [Attribute(name: "perm", value: .ints([0, 3, 1, 2]))]),
            Node(name: "/block/Add", opType: "Add", inputs: ["c", "back"], outputs: ["y"]),
            // Any other permutation is not a feature map any more.
            Node(name: "/head/Transpose", opType: "Transpose", inputs: ["y"], outputs: ["z"],
                 attributes: [Attribute(name: "perm", value: .ints([0, 2, 1, 3]))]),
        ], input: .tensor(.float, [1, 3, 8, 8]), outputs: ["z"],
           initializers: [try Self.floats("w", [4, 3, 1, 1]), try Self.floats("g", [4]), try Self.floats("b", [4]),
                          try Self.floats("m1", [4, 16]), try Self.floats("m2", [16, 4])])
        let sizes = try Analyzer.analyze(model).spatialSizes()
        #expect(sizes.dropLast().allSatisfy { $0 == [8, 8] }, "\(sizes)")
        #expect(sizes.last! == nil)
    }

    /// Largest maps first: an SE block's 1×1 maps come after the 4×4 ones,
    /// though the first of them is computed before.
    @Test func resolutionsRunFromTheLargestMap() throws {
        let model = Self.model([
            Node(name: "/a/Conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
            Node(name: "/a/se/GlobalAveragePool", opType: "GlobalAveragePool", inputs: ["c"], outputs: ["s"]),
            Node(name: "/a/se/Mul", opType: "Mul", inputs: ["c", "s"], outputs: ["m"]),
            Node(name: "/b/MaxPool", opType: "MaxPool", inputs: ["m"], outputs: ["y"],
                 attributes: [Attribute(name: "kernel_shape", value: .ints([2, 2])), Attribute(name: "strides", value: .ints([2, 2]))]),
        ], input: .tensor(.float, [1, 3, 8, 8]), outputs: ["y"], initializers: [try Self.floats("w", [4, 3, 1, 1])])
        #expect(try Analyzer.analyze(model).groups(by: .resolution).map(\.key) == ["8×8", "4×4", "1×1"])
    }

    /// PyTorch's `Constant_12` and `Identity_3` join the stage that reads them.
    @Test func unnamedNodesJoinTheStageOfTheirReader() throws {
        let model = Self.model([
            Node(name: "Constant_0", opType: "Constant", outputs: ["k"],
                 attributes: [Attribute(name: "value", value: .tensor(try Self.floats("k", [1])))]),
            Node(name: "Identity_1", opType: "Identity", inputs: ["k"], outputs: ["k2"]),
            Node(name: "/first/Relu", opType: "Relu", inputs: ["x"], outputs: ["h"]),
            Node(name: "/second/Mul", opType: "Mul", inputs: ["h", "k2"], outputs: ["y"]),
        ], input: .tensor(.float, [1, 4]), outputs: ["y"])
        let analysis = try Analyzer.analyze(model)
        #expect(analysis.stageKeys() == ["second", "second", "first", "second"])
        #expect(analysis.groups(by: .stage).map(\.key) == ["first", "second"])
    }

    @Test func stagesFollowTheNameHierarchy() throws {
        let encoder = try Analyzer.analyze(try Model.load(path: Fixtures.path("valid/encoder.onnx")).model,
                                           options: AnalysisOptions(inputShapes: ["input_ids": [1, 8]]))
        let keys = encoder.groups(by: .stage).map(\.key)
        #expect(Array(keys.prefix(7)) == ["embeddings"] + (0..<6).map { "encoder/layer.\($0)" }, "\(keys)")
        // With a depth, exactly that many components.
        #expect(Array(encoder.groups(by: .stage, stageDepth: 1).map(\.key).prefix(2)) == ["embeddings", "encoder"])
        let resnet = try Analyzer.analyze(try Model.load(path: "zoo:resnet18").model).groups(by: .stage).map(\.key)
        #expect(resnet.filter { $0.hasPrefix("layer") } == ["layer1", "layer2", "layer3", "layer4"], "\(resnet)")
    }

    @Test func stageKeysDropAComponentThatOnlyExtendsTheOneBefore() {
        #expect(ModelAnalysis.stageKey("/layer1/layer1.0/conv1/Conv", depth: 2) == "layer1.0")
        #expect(ModelAnalysis.stageKey("/encoder/layer.3/attention/self/MatMul", depth: 2) == "encoder/layer.3")
        #expect(ModelAnalysis.stageKey("features.3.block.0.0", depth: 2) == "features.3")
    }
}
