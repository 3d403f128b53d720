import Foundation
import ModelCore
import Testing
import TestSupport

@Suite struct GraphValidationTests {
    let input = ValueInfo(name: "x", type: .tensor(.float, [1]))

    @Test func sortsNodesTopologicallyKeepingFileOrderWherePossible() throws {
        let graph = Graph(nodes: [
            Node(name: "c", opType: "Add", inputs: ["a_out", "b_out"], outputs: ["y"]),
            Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["a_out"]),
            Node(name: "b", opType: "Neg", inputs: ["x"], outputs: ["b_out"]),
        ], inputs: [input], outputs: [ValueInfo(name: "y")])
        #expect(try graph.validated().nodes.map(\.name) == ["a", "b", "c"])
    }

    @Test func cycleErrorNamesTheNodes() {
        let graph = Graph(nodes: [
            Node(name: "p", opType: "Add", inputs: ["x", "q_out"], outputs: ["p_out"]),
            Node(name: "q", opType: "Relu", inputs: ["p_out"], outputs: ["q_out"]),
        ], inputs: [input])
        #expect {
            try graph.validated()
        } throws: { error in
            let text = (error as? ModelError)?.description ?? ""
            return text.contains("cycle") && text.contains("'p' (Add)") && text.contains("'q' (Relu)")
        }
    }

    @Test func missingValueNamesTheConsumer() {
        let graph = Graph(nodes: [Node(name: "n", opType: "Add", inputs: ["x", "ghost"], outputs: ["y"])], inputs: [input])
        #expect {
            try graph.validated()
        } throws: { error in
            let e = error as? ModelError
            return e?.message.contains("'ghost'") == true && e?.location == "node 'n' (Add)"
        }
    }

    @Test func duplicateOutputIsRejected() {
        let graph = Graph(nodes: [
            Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["y"]),
            Node(name: "b", opType: "Neg", inputs: ["x"], outputs: ["y"]),
        ], inputs: [input])
        #expect(throws: ModelError.self) { try graph.validated() }
    }

    @Test func optionalInputsMayBeEmpty() throws {
        let graph = Graph(nodes: [Node(name: "clip", opType: "Clip", inputs: ["x", "", "hi"], outputs: ["y"])],
                          initializers: [try Tensor(name: "hi", dtype: .float, dims: [], storage: .bytes(ByteRegion(copying: [0, 0, 128, 63])))],
                          inputs: [input])
        #expect(try graph.validated().nodes.count == 1)
    }

    @Test func subgraphsSeeOuterValuesAndOrderTheirOwner() throws {
        let branch = Graph(name: "then", nodes: [Node(name: "inner", opType: "Identity", inputs: ["late"], outputs: ["z"])],
                           outputs: [ValueInfo(name: "z")])
        let graph = Graph(nodes: [
            Node(name: "if", opType: "If", inputs: ["cond"], outputs: ["out"],
                 attributes: [Attribute(name: "then_branch", value: .graph(branch)), Attribute(name: "else_branch", value: .graph(branch))]),
            Node(name: "producer", opType: "Relu", inputs: ["x"], outputs: ["late"]),
        ], inputs: [input, ValueInfo(name: "cond")])
        // `if` reads `late` through its branches, so it must come after `producer`.
        #expect(try graph.validated().nodes.map(\.name) == ["producer", "if"])
        #expect(graph.topology().consumers["late"] == [0])
    }

    @Test func subgraphErrorsNameTheOwningNode() {
        let branch = Graph(name: "body", nodes: [Node(name: "inner", opType: "Identity", inputs: ["nowhere"], outputs: ["z"])])
        let graph = Graph(nodes: [Node(name: "loop", opType: "Loop", inputs: [], outputs: ["o"],
                                       attributes: [Attribute(name: "body", value: .graph(branch))])])
        #expect {
            try graph.validated()
        } throws: { error in
            (error as? ModelError)?.message.contains("'nowhere'") == true
        }
    }
}

@Suite struct OpRegistryTests {
    @Test func everyOperatorIsRegisteredOnce() {
        #expect(OpRegistry.duplicateRegistrations.isEmpty)
    }

    /// An operator has one address: each kernel file sits beside its schema
    /// file, under the same family name (docs/ARCHITECTURE.md).
    @Test func kernelFilesMirrorSchemaFiles() throws {
        let kernels = Fixtures.root.appendingPathComponent("Sources/Engine/Kernels")
        let schemas = Fixtures.root.appendingPathComponent("Sources/ModelCore/Ops")
        let files = try #require(FileManager.default.subpaths(atPath: kernels.path)).filter { $0.hasSuffix("+Kernel.swift") }
        #expect(files.count > 40)
        for file in files {
            let schema = String(file.dropLast("+Kernel.swift".count)) + ".swift"
            #expect(FileManager.default.fileExists(atPath: schemas.appendingPathComponent(schema).path),
                    "Engine/Kernels/\(file) has no ModelCore/Ops/\(schema)")
        }
    }

    @Test func coversTheOperatorsCNNsAndTransformersUse() {
        for op in ["Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "GlobalAveragePool", "BatchNormalization",
                   "LayerNormalization", "Relu", "Reshape", "Flatten", "Concat", "Resize", "ReduceMean", "Softmax",
                   "Shape", "ConstantOfShape", "Range", "Where", "Cast", "Einsum", "LSTM", "If"] {
            #expect(OpRegistry.knows(domain: "", opType: op), "\(op)")
        }
    }
}
