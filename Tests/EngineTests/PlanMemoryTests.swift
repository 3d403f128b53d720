import Foundation
import ModelInfo
import Testing
import TestSupport

/// The plan's measure of its largest set of simultaneously live activations,
/// the figure the memory bar on VGG-16 is stated in.
@Suite struct PlanMemoryTests {
    /// Values sharing one buffer count once; constants, and views of them, not at all.
    @Test func liveMemoryCountsEachActivationBufferOnce() throws {
        let weights = try Tensor(name: "w", dtype: .float, dims: [10, 100],
                                 storage: .bytes(ByteRegion(copying: [UInt8](repeating: 0, count: 4000))))
        // r is x reshaped (one buffer), v the weights passed through (a view).
        let nodes = [Node(name: "flat", opType: "Reshape", inputs: ["x", "shape"], outputs: ["r"]),
                     Node(name: "same", opType: "Identity", inputs: ["w"], outputs: ["v"]),
                     Node(name: "twice", opType: "Add", inputs: ["x", "r"], outputs: ["s"]),
                     Node(name: "plus", opType: "Add", inputs: ["s", "v"], outputs: ["t"]),
                     Node(name: "relu", opType: "Relu", inputs: ["t"], outputs: ["y"])]
        let shape = try Tensor(name: "shape", dtype: .int64, dims: [3],
                               storage: .bytes(ByteRegion(copying: [1, 10, 100].flatMap { [UInt8($0), 0, 0, 0, 0, 0, 0, 0] })))
        let graph = Graph(nodes: nodes, initializers: [weights, shape],
                          inputs: [ValueInfo(name: "x", type: .tensor(.float, [10, 100]))], outputs: [ValueInfo(name: "y")])
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
        let x = try EngineTensor(floats: [Float](repeating: 1, count: 1000), shape: [10, 100])
        let (outputs, memory) = try plan.runMeasuringMemory(["x": x], context: ExecutionContext(threads: 2))
        #expect(outputs["y"]?.floats.allSatisfy { $0 == 2 } == true)
        // At the first Add: x (also r) and s, 4000 bytes each; w and v are the stored weights.
        // Each Add and the Relu also hold 8000 bytes; the first step to do so is reported.
        #expect(memory.peakBytes == 8000)
        #expect(memory.peakStep.contains("twice"), "\(memory.peakStep)")
    }

    /// VGG-16 at batch 1 holds at most conv1_2's input and output at once
    /// (2 × 64×224×224 float32, 24.5 MiB): every other activation is smaller
    /// and dies as soon as the next layer has read it.
    @Test func vgg16HoldsAtMostTwoOfItsLargestActivations() throws {
        let path = Fixtures.root.appendingPathComponent(".generated/reference/vgg16/model.onnx").path
        try #require(FileManager.default.fileExists(atPath: path), "no VGG-16: run Tools/make-reference-outputs vgg16")
        let plan = try ExecutionPlan(model: try ONNXReader.read(path: path))
        let input = try EngineTensor(floats: [Float](repeating: 0.5, count: 3 * 224 * 224), shape: [1, 3, 224, 224])
        let (_, memory) = try plan.runMeasuringMemory([plan.inputNames[0]: input], context: ExecutionContext(threads: 2))
        #expect(memory.peakBytes == 2 * 64 * 224 * 224 * 4)
        #expect(memory.peakStep.contains("conv1_2"), "\(memory.peakStep)")
    }
}
