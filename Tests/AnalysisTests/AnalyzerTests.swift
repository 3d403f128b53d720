import ModelInfo
import Testing

@Suite struct AnalyzerTests {
    static func floats(_ name: String, _ dims: [Int]) throws -> Tensor {
        let count = dims.reduce(1, *)
        return try Tensor(name: name, dtype: .float, dims: dims, storage: .bytes(ByteRegion(copying: [UInt8](repeating: 0, count: 4 * count))))
    }

    static func int64s(_ name: String, _ values: [Int64]) throws -> Tensor {
        let bytes = values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: v) >> (8 * UInt64($0))) } }
        return try Tensor(name: name, dtype: .int64, dims: [values.count], storage: .bytes(ByteRegion(copying: bytes)))
    }

    static func model(_ nodes: [Node], initializers: [Tensor], input: ValueType, outputs: [String]) -> Model {
        Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)],
              graph: Graph(nodes: nodes, initializers: initializers,
                           inputs: [ValueInfo(name: "x", type: input)], outputs: outputs.map { ValueInfo(name: $0) }))
    }

    /// PyTorch exports alias one tensor into several layers through Identity:
    /// `params` counts it per consuming layer, `paramsUnique` once.
    @Test func sharedWeightsCountPerLayerAndOnceUnique() throws {
        let model = Self.model([
            Node(name: "alias", opType: "Identity", inputs: ["w"], outputs: ["w_copy"]),
            Node(name: "first", opType: "MatMul", inputs: ["x", "w"], outputs: ["h"]),
            Node(name: "second", opType: "MatMul", inputs: ["h", "w_copy"], outputs: ["y"]),
        ], initializers: [try Self.floats("w", [8, 8])], input: .tensor(.float, [2, 8]), outputs: ["y"])
        let analysis = try Analyzer.analyze(model)
        #expect(analysis.totals.params == 128)
        #expect(analysis.totals.paramsUnique == 64)
        #expect(analysis.totals.macs == 2 * 2 * 8 * 8)
        #expect(analysis.nodes[0].params == 0, "Identity itself uses no parameters")
    }

    @Test func integerTensorsAreNotParameters() throws {
        let model = Self.model([
            Node(name: "reshape", opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"]),
        ], initializers: [try Self.int64s("shape", [4, 4])], input: .tensor(.float, [2, 8]), outputs: ["y"])
        #expect(try Analyzer.analyze(model).totals.params == 0)
    }

    /// torch.onnx's exact GELU, attention scale and masked fill: scalar
    /// constants, as Constant nodes and as initializers, are not parameters;
    /// a one-element PRelu slope and the weights are.
    @Test func scalarConstantsOfExportedFormulasAreNotParameters() throws {
        func scalar(_ name: String, _ value: Float) throws -> Tensor {
            try Tensor(name: name, dtype: .float, dims: [], storage: .bytes(ByteRegion(copying: withUnsafeBytes(of: value) { Array($0) })))
        }
        let model = Self.model([
            Node(name: "/mlp/MatMul", opType: "MatMul", inputs: ["x", "w"], outputs: ["h"]),
            Node(name: "/act/Constant", opType: "Constant", outputs: ["root2"], attributes: [Attribute(name: "value", value: .tensor(try scalar("", 1.4142135)))]),
            Node(name: "/act/Div", opType: "Div", inputs: ["h", "root2"], outputs: ["d"]),
            Node(name: "/act/Erf", opType: "Erf", inputs: ["d"], outputs: ["e"]),
            Node(name: "/act/Add", opType: "Add", inputs: ["e", "one"], outputs: ["a"]),
            Node(name: "/act/Mul", opType: "Mul", inputs: ["h", "a"], outputs: ["m"]),
            Node(name: "/act/Mul_1", opType: "Mul", inputs: ["m", "half"], outputs: ["g"]),
            Node(name: "/prelu/PRelu", opType: "PRelu", inputs: ["g", "slope"], outputs: ["p"]),
            Node(name: "/mask/Greater", opType: "Greater", inputs: ["p", "half"], outputs: ["keep"]),
            Node(name: "/mask/Where", opType: "Where", inputs: ["keep", "p", "lowest"], outputs: ["y"]),
        ], initializers: [try Self.floats("w", [8, 8]), try scalar("one", 1), try scalar("half", 0.5), try Self.floats("slope", [1]),
                          try scalar("lowest", -Float.greatestFiniteMagnitude)],
           input: .tensor(.float, [2, 8]), outputs: ["y"])
        let analysis = try Analyzer.analyze(model)
        #expect(analysis.totals.params == 64 + 1)
        #expect(analysis.totals.paramsUnique == 64 + 1)
    }

    /// A transformer layer as onnxruntime's optimizer rewrites it: its
    /// contrib operators are known, shaped and counted, and the residual
    /// stream they take is not a parameter.
    @Test func onnxruntimeContribOperatorsAreCounted() throws {
        var model = Self.model([
            Node(name: "fc1", opType: "FusedMatMul", domain: "com.microsoft", inputs: ["x", "w1"], outputs: ["h"],
                 attributes: [Attribute(name: "transB", value: .int(1))]),
            Node(name: "act", opType: "BiasGelu", domain: "com.microsoft", inputs: ["h", "b1"], outputs: ["g"]),
            Node(name: "fc2", opType: "MatMul", inputs: ["g", "w2"], outputs: ["o"]),
            Node(name: "norm", opType: "SkipLayerNormalization", domain: "com.microsoft",
                 inputs: ["o", "x", "gamma", "beta", "b2"], outputs: ["y", "", "", "sum"]),
        ], initializers: [try Self.floats("w1", [32, 8]), try Self.floats("b1", [32]), try Self.floats("w2", [32, 8]),
                          try Self.floats("gamma", [8]), try Self.floats("beta", [8]), try Self.floats("b2", [8])],
           input: .tensor(.float, [2, 4, 8]), outputs: ["y", "sum"])
        model.opsets.append(OpsetID(domain: "com.microsoft", version: 1))
        let analysis = try Analyzer.analyze(model)
        #expect(analysis.unknownOperators.isEmpty)
        #expect(analysis.nodes.allSatisfy { $0.status == .counted })
        #expect(analysis.facts["h"]?.shape == Shape([2, 4, 32]))
        #expect(analysis.facts["sum"]?.shape == Shape([2, 4, 8]))
        #expect(analysis.nodes[0].macs == 2 * 4 * 32 * 8)
        #expect(analysis.nodes[1].flops == 2 * 4 * 32 * 6, "Gelu 5 plus the bias")
        #expect(analysis.nodes[3].flops == 2 * 4 * 8 * (8 + 2), "LayerNormalization 8 plus skip and bias")
        #expect(analysis.totals.params == 256 + 32 + 256 + 8 + 8 + 8)
    }

    @Test func batchNormRunningStatisticsAreNotParameters() throws {
        let model = Self.model([
            Node(name: "bn", opType: "BatchNormalization", inputs: ["x", "scale", "bias", "mean", "var"], outputs: ["y"]),
        ], initializers: try ["scale", "bias", "mean", "var"].map { try Self.floats($0, [3]) },
           input: .tensor(.float, [1, 3, 4, 4]), outputs: ["y"])
        let analysis = try Analyzer.analyze(model)
        #expect(analysis.totals.params == 6)
        #expect(analysis.totals.flops == 2 * 48)
    }

    /// An operator the project does not know is listed and not counted, and
    /// the analysis goes on with the types the file declares.
    @Test func unknownOperatorsAreListedNotZeroed() throws {
        var model = Self.model([
            Node(name: "mystery", opType: "FancyOp", domain: "com.example", inputs: ["x"], outputs: ["h"]),
            Node(name: "relu", opType: "Relu", inputs: ["h"], outputs: ["y"]),
        ], initializers: [], input: .tensor(.float, [2, 8]), outputs: ["y"])
        model.graph.valueInfo = [ValueInfo(name: "h", type: .tensor(.float, [2, 8]))]
        let analysis = try Analyzer.analyze(model)
        #expect(analysis.nodes[0].status == .unknownOperator)
        #expect(analysis.nodes[0].cost == nil)
        #expect(analysis.unknownOperators.map(\.op) == ["com.example.FancyOp"])
        #expect(analysis.nodes[1].status == .counted)
        #expect(analysis.facts["y"]?.shape == Shape([2, 8]))
    }

    @Test func invalidNodesAreReportedAndTheAnalysisGoesOn() throws {
        let model = Self.model([
            Node(name: "bad", opType: "Conv", inputs: ["x", "w"], outputs: ["h"], attributes: [Attribute(name: "group", value: .int(0))]),
            Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["y"]),
        ], initializers: [try Self.floats("w", [4, 3, 3, 3])], input: .tensor(.float, [1, 3, 8, 8]), outputs: ["y"])
        let analysis = try Analyzer.analyze(model)
        guard case .invalid(let why) = analysis.nodes[0].status else {
            Issue.record("expected an invalid node")
            return
        }
        #expect(why.contains("group"))
        #expect(analysis.nodes[1].status == .counted)
    }

    /// Each node's figures fit in an `Int`; the totals are checked too, so
    /// that no report adds its way into an overflow trap.
    @Test func countsThatAddUpPastIntMaxAreALimitError() throws {
        let products = (0..<4).map { Node(name: "product\($0)", opType: "MatMul", inputs: ["x", "x"], outputs: ["p\($0)"]) }
        let flops = Self.model(products, initializers: [], input: .tensor(.float, [1 << 20, 1 << 20]), outputs: ["p3"])
        #expect(throws: ModelError(.limit, "the model's counts add up past 2^63 − 1", location: "node 'product3' (MatMul)")) {
            try Analyzer.analyze(flops)
        }
        let wide = Self.model([Node(name: "sum", opType: "Sum", inputs: Array(repeating: "x", count: 64), outputs: ["y"])],
                              initializers: [], input: .tensor(.float, [1 << 55]), outputs: ["y"])
        #expect(throws: ModelError(.limit, "the model's counts add up past 2^63 − 1", location: "node 'sum' (Sum)")) {
            try Analyzer.analyze(wide)
        }
        let three = Self.model(Array(products.prefix(3)), initializers: [], input: .tensor(.float, [1 << 20, 1 << 20]), outputs: ["p2"])
        #expect(try Analyzer.analyze(three).totals.flops == 3 << 61)
    }

    @Test func symbolicBatchFlowsAndBatchOptionFixesIt() throws {
        let model = Self.model([
            Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                 attributes: [Attribute(name: "pads", value: .ints([1, 1, 1, 1]))]),
        ], initializers: [try Self.floats("w", [4, 3, 3, 3])],
           input: .tensor(.float, Shape([.symbol("N"), .known(3), .known(8), .known(8)])), outputs: ["y"])
        let open = try Analyzer.analyze(model)
        #expect(open.facts["y"]?.shape == Shape([.symbol("N"), .known(4), .known(8), .known(8)]))
        #expect(open.nodes[0].status == .uncounted, "the cost of an unknown batch is not counted")
        let fixed = try Analyzer.analyze(model, options: AnalysisOptions(batch: 2))
        #expect(fixed.facts["y"]?.shape == Shape([2, 4, 8, 8]))
        #expect(fixed.totals.macs == 2 * 4 * 64 * 27)
        let shaped = try Analyzer.analyze(model, options: AnalysisOptions(inputShapes: ["x": [1, 3, 16, 16]]))
        #expect(shaped.facts["y"]?.shape == Shape([1, 4, 16, 16]))
        #expect(throws: ModelError.self) { try Analyzer.analyze(model, options: AnalysisOptions(inputShapes: ["nope": [1]])) }
        #expect(throws: ModelError.self) { try Analyzer.analyze(model, options: AnalysisOptions(inputShapes: ["x": [1, 3]])) }
    }

    @Test func convolutionArithmetic() throws {
        // Grouped, strided, dilated, padded: 1×8×9×9 input, 4 groups, 3×3 kernel, dilation 2, stride 2, pad 1.
        let model = Self.model([
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: [
                Attribute(name: "group", value: .int(4)), Attribute(name: "strides", value: .ints([2, 2])),
                Attribute(name: "dilations", value: .ints([2, 2])), Attribute(name: "pads", value: .ints([1, 1, 1, 1])),
            ]),
        ], initializers: [try Self.floats("w", [16, 2, 3, 3]), try Self.floats("b", [16])],
           input: .tensor(.float, [1, 8, 9, 9]), outputs: ["y"])
        let analysis = try Analyzer.analyze(model)
        // Output: floor((9 + 2 - 5) / 2) + 1 = 4.
        #expect(analysis.facts["y"]?.shape == Shape([1, 16, 4, 4]))
        #expect(analysis.totals.macs == 16 * 16 * 2 * 9)
        #expect(analysis.totals.flops == 2 * 16 * 16 * 2 * 9 + 16 * 16)
        #expect(analysis.totals.params == 16 * 2 * 9 + 16)
    }

    @Test func sameAutoPadKeepsTheSize() throws {
        let model = Self.model([
            Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                 attributes: [Attribute(name: "auto_pad", value: .string(Array("SAME_UPPER".utf8))),
                              Attribute(name: "strides", value: .ints([2, 2]))]),
        ], initializers: [try Self.floats("w", [4, 3, 3, 3])], input: .tensor(.float, [1, 3, 7, 7]), outputs: ["y"])
        #expect(try Analyzer.analyze(model).facts["y"]?.shape == Shape([1, 4, 4, 4]))
    }

    @Test func batchedBroadcastMatMulAndEinsum() throws {
        let model = Self.model([
            Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"]),
            Node(name: "es", opType: "Einsum", inputs: ["y", "y"], outputs: ["z"],
                 attributes: [Attribute(name: "equation", value: .string(Array("bij,bkj->bik".utf8)))]),
        ], initializers: [try Self.floats("w", [1, 5, 6])], input: .tensor(.float, [3, 4, 5]), outputs: ["z"])
        let analysis = try Analyzer.analyze(model)
        #expect(analysis.facts["y"]?.shape == Shape([3, 4, 6]))
        #expect(analysis.nodes[0].macs == 3 * 4 * 6 * 5)
        #expect(analysis.facts["z"]?.shape == Shape([3, 4, 4]))
        #expect(analysis.nodes[1].macs == 3 * 4 * 4 * 6)
    }
}
