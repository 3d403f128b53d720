import Foundation
import ModelInfo
import Testing

/// Signal and vision kernels run through one-node plans: the Fourier
/// transform of every length against the plain O(n²) sum, and bad data
/// (out-of-range indices, NaN coordinates, impossible lengths) refused or
/// read safely rather than trapping.
@Suite struct SignalKernelTests {
    private func floats(_ values: [Float], _ shape: [Int]) throws -> EngineTensor {
        try EngineTensor(floats: values, shape: shape)
    }

    private func int64s(_ values: [Int64], _ shape: [Int]) throws -> EngineTensor {
        let t = try EngineTensor(dtype: .int64, shape: shape)
        for (i, v) in values.enumerated() { t.elements(Int64.self)[i] = v }
        return t
    }

    /// Runs `op` on `inputs` (nil for an omitted one) in a one-node graph and returns its output.
    private func run(_ op: String, _ inputs: [EngineTensor?], attributes: [String: AttributeValue] = [:],
                     opset: Int64 = 20) throws -> EngineTensor {
        let names = inputs.indices.map { inputs[$0] == nil ? "" : "x\($0)" }
        let given = inputs.indices.compactMap { i in inputs[i].map { (names[i], $0) } }
        let node = Node(name: "n", opType: op, inputs: names, outputs: ["y"],
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        let graph = Graph(nodes: [node], inputs: given.map { ValueInfo(name: $0.0, type: .tensor($0.1.dtype, Shape($0.1.shape))) },
                          outputs: [ValueInfo(name: "y")])
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: opset)], graph: graph))
        let results = try plan.run(Dictionary(uniqueKeysWithValues: given), context: ExecutionContext(threads: 1))
        return try #require(results["y"])
    }

    @Test(arguments: [1, 7, 8, 12, 16])
    func fourierTransformMatchesThePlainSum(length n: Int) throws {
        let signal = (0..<(2 * n)).map { Float(sin(Double($0) * 0.7) + 0.1 * Double($0 % 3)) }
        let y = try run("DFT", [try floats(signal, [1, n, 2])])
        #expect(y.shape == [1, n, 2])
        for k in 0..<n {
            var (re, im) = (0.0, 0.0)
            for t in 0..<n {
                let angle = -2 * Double.pi * Double(k * t) / Double(n)
                let (a, b) = (Double(signal[2 * t]), Double(signal[2 * t + 1]))
                re += a * cos(angle) - b * sin(angle)
                im += a * sin(angle) + b * cos(angle)
            }
            #expect(abs(Double(y.floats[2 * k]) - re) < 1e-4)
            #expect(abs(Double(y.floats[2 * k + 1]) - im) < 1e-4)
        }
        // The inverse brings the signal back.
        let back = try run("DFT", [y], attributes: ["inverse": .int(1)])
        for i in 0..<(2 * n) { #expect(abs(back.floats[i] - signal[i]) < 1e-4) }
    }

    @Test func impossibleLengthsAndAxesAreRefused() throws {
        let x = try floats([1, 2, 3, 4], [1, 4, 1])
        #expect(throws: ModelError.self) { try run("DFT", [x, try int64s([0], [])]) }
        #expect(throws: ModelError.self) { try run("DFT", [x, nil, try int64s([2], [])]) }
        #expect(throws: ModelError.self) { try run("STFT", [x, try int64s([0], [])], opset: 17) }
    }

    @Test func suppressionKeepsTheBestOfOverlappingBoxes() throws {
        // Boxes 0 and 1 overlap by IoU 0.81; box 2 lies apart.
        let boxes = try floats([0, 0, 1, 1, 0, 0, 0.9, 0.9, 5, 5, 6, 6], [1, 3, 4])
        let scores = try floats([0.8, 0.9, 0.3], [1, 1, 3])
        let y = try run("NonMaxSuppression", [boxes, scores, try int64s([3], []), try floats([0.5], [])], opset: 11)
        #expect(y.shape == [2, 3])
        #expect(Array(y.elements(Int64.self)) == [0, 0, 1, 0, 0, 2])
        #expect(throws: ModelError.self) { try run("NonMaxSuppression", [boxes, try floats([1], [1, 1, 1])], opset: 11) }
    }

    @Test func outOfRangeRegionsAndCoordinatesNeverTrap() throws {
        let x = try floats((0..<16).map(Float.init), [1, 1, 4, 4])
        let rois = try floats([0, 0, 2, 2], [1, 4])
        #expect(throws: ModelError.self) { try run("RoiAlign", [x, rois, try int64s([3], [1])], opset: 16) }
        let grid = try floats([.nan, .infinity, -.infinity, 1e30], [1, 1, 2, 2])
        for mode in ["nearest", "linear", "cubic"] {
            for padding in ["zeros", "border", "reflection"] {
                let y = try run("GridSample", [x, grid], attributes: ["mode": .string(Array(mode.utf8)), "padding_mode": .string(Array(padding.utf8))])
                #expect(y.shape == [1, 1, 1, 2])
            }
        }
    }
}
