import Foundation
import ModelInfo
import Testing
import TestSupport

@Suite struct ReaderTests {
    @Test func readsTinyCNN() throws {
        let model = try ONNXReader.read(path: Fixtures.path("valid/tiny-cnn.onnx"))
        #expect(model.producerName == "modelinfo-fixtures")
        #expect(model.defaultOpsetVersion == 17)
        #expect(model.graph.nodes.map(\.opType) == ["Conv", "BatchNormalization", "Relu", "MaxPool", "Flatten", "Gemm", "Softmax"])
        let input = try #require(model.graph.runtimeInputs.first)
        #expect(input.type == .tensor(.float, Shape([.symbol("N"), .known(3), .known(8), .known(8)])))
        let conv = model.graph.nodes[0]
        #expect(conv.attribute("pads")?.value == .ints([1, 1, 1, 1]))
        let weights = try #require(model.graph.initializers.first { $0.name == conv.inputs[1] })
        #expect(weights.dims == [4, 3, 3, 3])
        #expect(weights.bytes?.isMapped == true)
        #expect(model.metadata.contains { $0.key == "purpose" })
    }

    @Test func topologyNamesProducersAndConsumers() throws {
        let graph = try ONNXReader.read(path: Fixtures.path("valid/tiny-cnn.onnx")).graph
        let topology = graph.topology()
        let convOutput = graph.nodes[0].outputs[0]
        #expect(topology.producers[convOutput] == 0)
        #expect(topology.consumers[convOutput] == [1])
        #expect(topology.consumers["input"] == [0])
    }

    @Test func readsSubgraphsWithOuterScopeValues() throws {
        let graph = try ONNXReader.read(path: Fixtures.path("valid/control-flow.onnx")).graph
        #expect(Set(graph.nodes.map(\.opType)) == ["If", "Loop", "Scan"])
        let ifNode = try #require(graph.nodes.first { $0.opType == "If" })
        #expect(ifNode.subgraphs.count == 2)
        #expect(graph.nodes.flatMap(\.subgraphs).count == 4)
    }

    @Test func externalDataIsMappedFromTheModelsFolder() throws {
        let model = try ONNXReader.read(path: Fixtures.path("valid/external/model.onnx"))
        #expect(model.graph.initializers.count >= 2)
        for tensor in model.graph.initializers {
            #expect(tensor.bytes?.isMapped == true)
            #expect(try tensor.doubleValues().count == tensor.elementCount)
        }
    }

    @Test func keepsSymbolicDimsAndOpsetDomains() throws {
        let model = try ONNXReader.read(path: Fixtures.path("valid/symbolic.onnx"))
        #expect(model.opsets.contains { $0.domain == "com.microsoft" })
        let shapes = model.graph.inputs.compactMap { info -> Shape? in
            if case .tensor(_, let shape) = info.type { return shape }
            return nil
        }
        #expect(shapes.contains(Shape([.symbol("N"), .symbol("seq")])))
        #expect(!model.graph.valueInfo.isEmpty)
    }
}
