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
