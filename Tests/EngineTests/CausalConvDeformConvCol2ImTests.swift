import Foundation
import ModelInfo
import Testing
import TestSupport

/// CausalConvWithState, DeformConv and Col2Im on one-node graphs, with
/// figures small enough to check by hand: carried state across calls, taps
/// sampled between pixels and outside the input, blocks summed where they
/// overlap and dropped in the padding, and bad shapes, attributes and
/// coordinates refused or read safely rather than trapping.
@Suite struct CausalConvDeformConvCol2ImTests {
    private func tensor<T>(_ values: [T], _ dtype: DType, _ shape: [Int]) throws -> EngineTensor { try .holding(values, dtype, shape) }

    private func floats(_ values: [Float], _ shape: [Int]) throws -> EngineTensor { try tensor(values, .float, shape) }

    private func int64s(_ values: [Int64]) throws -> EngineTensor { try tensor(values, .int64, [values.count]) }

    /// Runs `op` on `inputs` (nil: omitted) and returns its outputs.
    private func run(_ op: String, _ inputs: [EngineTensor?], attributes: [String: AttributeValue] = [:], outputs: Int = 1) throws -> [EngineTensor] {
        let names = inputs.indices.map { inputs[$0] == nil ? "" : "x\($0)" }, outputNames = (0..<outputs).map { "y\($0)" }
        let node = Node(name: "n", opType: op, inputs: names, outputs: outputNames,
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        let given = zip(names, inputs).compactMap { name, t in t.map { (name, $0) } }
        let graph = Graph(nodes: [node], inputs: given.map { ValueInfo(name: $0.0, type: .tensor($0.1.dtype, Shape($0.1.shape))) },
                          outputs: outputNames.map { ValueInfo(name: $0) })
        let model = Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 27)], graph: graph)
        let results = try ExecutionPlan(model: model).run(Dictionary(uniqueKeysWithValues: given), context: ExecutionContext(threads: 2))
        return try outputNames.map { try #require(results[$0]) }
    }

    private func expectClose(_ actual: EngineTensor, _ expected: [Float], _ shape: [Int], _ what: String) {
        #expect(actual.shape == shape, "\(what) shape \(actual.shape)")
        guard actual.shape == shape, actual.dtype == .float else { return }
        for (i, e) in expected.enumerated() {
            #expect(abs(actual.floats[i] - e) <= 1e-5 + 1e-5 * abs(e), "\(what)[\(i)]: \(actual.floats[i]), expected \(e)")
        }
    }

    // MARK: - CausalConvWithState

    /// Weights 1, 10, 100 spell out which extended positions each output reads.
    @Test func causalConvolutionCarriesItsState() throws {
        let w = try floats([1, 10, 100], [1, 1, 3])
        // No past state: two zeros in front of 1, 2, 3, 4.
        let fresh = try run("CausalConvWithState", [try floats([1, 2, 3, 4], [1, 1, 4]), w], outputs: 2)
        expectClose(fresh[0], [100, 210, 321, 432], [1, 1, 4], "output")
        expectClose(fresh[1], [3, 4], [1, 1, 2], "present_state")
        // Past state 5, 6 and a bias of 0.5.
        let resumed = try run("CausalConvWithState", [try floats([1, 2, 3, 4], [1, 1, 4]), w, try floats([0.5], [1]), try floats([5, 6], [1, 1, 2])],
                              outputs: 2)
        expectClose(resumed[0], [165.5, 216.5, 321.5, 432.5], [1, 1, 4], "output with past state")
        // An input shorter than the state keeps part of the old state.
        let step = try run("CausalConvWithState", [try floats([7], [1, 1, 1]), w, nil, try floats([5, 6], [1, 1, 2])], outputs: 2)
        expectClose(step[0], [765], [1, 1, 1], "decode step")
        expectClose(step[1], [6, 7], [1, 1, 2], "decode step state")
    }

    @Test func causalConvolutionChannelsBatchesAndActivation() throws {
        // Two items of two channels; kernel size 1 leaves an empty state.
        let x = try floats([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), w = try floats([2, -1], [2, 1, 1])
        let plain = try run("CausalConvWithState", [x, w, try floats([0, 1], [2])], outputs: 2)
        expectClose(plain[0], [2, 4, -2, -3, 10, 12, -6, -7], [2, 2, 2], "kernel size 1")
        #expect(plain[1].shape == [2, 2, 0])
        for activation in ["silu", "swish"] {
            let y = try run("CausalConvWithState", [try floats([2, -3], [1, 1, 2]), try floats([1], [1, 1, 1])],
                            attributes: ["activation": .string(Array(activation.utf8))], outputs: 2)
            expectClose(y[0], [2 / (1 + exp(-2)), -3 / (1 + exp(3))], [1, 1, 2], activation)
        }
    }

    @Test func causalConvolutionRunsFloat16() throws {
        let x = try tensor([1, 2, 3, 4].map { Float16($0) }, .float16, [1, 1, 4])
        let w = try tensor([0.5, 0.25].map { Float16($0) }, .float16, [1, 1, 2])
        let y = try run("CausalConvWithState", [x, w], outputs: 2)
        #expect(y[0].dtype == .float16 && y[1].dtype == .float16)
        #expect(Array(y[0].elements(Float16.self)) == [0.25, 1, 1.75, 2.5])
        #expect(Array(y[1].elements(Float16.self)) == [4])
    }

    @Test func causalConvolutionRefusesBadShapes() throws {
        let x = try floats([1, 2, 3, 4], [1, 1, 4])
        #expect(throws: ModelError.self) { try run("CausalConvWithState", [x, try floats([1, 2], [1, 2, 1])], outputs: 2) }
        #expect(throws: ModelError.self) { try run("CausalConvWithState", [x, try floats([1, 2], [2, 1, 1])], outputs: 2) }
        #expect(throws: ModelError.self) { try run("CausalConvWithState", [x, try floats([], [1, 1, 0])], outputs: 2) }
        let w = try floats([1, 2, 3], [1, 1, 3])
        #expect(throws: ModelError.self) { try run("CausalConvWithState", [x, w, nil, try floats([1, 2, 3], [1, 1, 3])], outputs: 2) }
        #expect(throws: ModelError.self) { try run("CausalConvWithState", [x, w, try floats([1, 2], [2])], outputs: 2) }
        #expect(throws: ModelError.self) { try run("CausalConvWithState", [try floats([1, 2], [2]), w], outputs: 2) }
        #expect(throws: ModelError.self) {
            try run("CausalConvWithState", [x, w], attributes: ["activation": .string(Array("relu".utf8))], outputs: 2)
        }
    }

    // MARK: - DeformConv

    /// With zero offsets DeformConv is Conv: 2×2 sums over 0…8 in a 3×3 image.
    @Test func zeroOffsetsGiveAPlainConvolution() throws {
        let x = try floats((0..<9).map(Float.init), [1, 1, 3, 3]), w = try floats([1, 1, 1, 1], [1, 1, 2, 2])
        let y = try run("DeformConv", [x, w, try floats(Array(repeating: 0, count: 32), [1, 8, 2, 2])])[0]
        expectClose(y, [8, 12, 20, 24], [1, 1, 2, 2], "zero offsets")
        // Strides 2 and one pixel of padding: windows over rows and columns −1…0 and 1…2.
        let padded = try run("DeformConv", [x, w, try floats(Array(repeating: 0, count: 32), [1, 8, 2, 2])],
                             attributes: ["pads": .ints([1, 1, 1, 1]), "strides": .ints([2, 2])])[0]
        expectClose(padded, [0, 3, 9, 24], [1, 1, 2, 2], "strided and padded")
    }

    /// Half a pixel along the last axis: the mean of two neighbours, and of a neighbour and the zero outside.
    @Test func fractionalOffsetsInterpolate() throws {
        let w = try floats([1], [1, 1, 1, 1])
        let y = try run("DeformConv", [try floats([1, 2, 4], [1, 1, 1, 3]), w, try floats([0, 0, 0, 0.5, 0.5, 0.5], [1, 2, 1, 3])])[0]
        expectClose(y, [1.5, 3, 2], [1, 1, 1, 3], "2-D")
        // The same in one dimension, with a mask of 2 and a bias of 1.
        let line = try run("DeformConv", [try floats([1, 2, 4], [1, 1, 3]), try floats([1], [1, 1, 1]), try floats([0.5, 0.5, 0.5], [1, 1, 3]),
                                          try floats([1], [1]), try floats([2, 2, 2], [1, 1, 3])])[0]
        expectClose(line, [4, 7, 5], [1, 1, 3], "1-D with mask and bias")
        // Three dimensions: half a voxel deeper, the second tap layer half outside.
        let cube = try run("DeformConv", [try floats(Array(repeating: 1, count: 8), [1, 1, 2, 2, 2]), try floats(Array(repeating: 1, count: 8), [1, 1, 2, 2, 2]),
                                          try floats((0..<24).map { $0 % 3 == 0 ? 0.5 : 0 }, [1, 24, 1, 1, 1])])[0]
        expectClose(cube, [6], [1, 1, 1, 1, 1], "3-D")
    }

    /// Two offset groups: channel 0 (values 1, 2) reads one pixel right, channel 1 (10, 20) in place.
    @Test func offsetGroupsMoveTheirOwnChannels() throws {
        let x = try floats([1, 2, 10, 20], [1, 2, 1, 2]), w = try floats([1, 1], [1, 2, 1, 1])
        let offsets = try floats([0, 0, 1, 1, 0, 0, 0, 0], [1, 4, 1, 2])
        let y = try run("DeformConv", [x, w, offsets], attributes: ["offset_group": .int(2)])[0]
        expectClose(y, [12, 20], [1, 1, 1, 2], "offset groups")
        // Two groups as well: each output channel sees its own input channel.
        let grouped = try run("DeformConv", [x, try floats([1, 3], [2, 1, 1, 1]), offsets], attributes: ["offset_group": .int(2), "group": .int(2)])[0]
        expectClose(grouped, [2, 0, 30, 60], [1, 2, 1, 2], "groups")
    }

    @Test func deformConvReadsWildOffsetsAsOutside() throws {
        let x = try floats([1, 2, 3, 4], [1, 1, 2, 2]), w = try floats([1], [1, 1, 1, 1])
        let offsets = try floats([.nan, 0, .infinity, 0, 0, -.infinity, 1e30, -1e30], [1, 2, 2, 2])
        let y = try run("DeformConv", [x, w, offsets, try floats([0.25], [1])])[0]
        expectClose(y, [0.25, 0.25, 0.25, 0.25], [1, 1, 2, 2], "wild offsets")
    }

    @Test func deformConvRefusesBadShapes() throws {
        let x = try floats((0..<9).map(Float.init), [1, 1, 3, 3]), w = try floats([1, 1, 1, 1], [1, 1, 2, 2])
        let offsets = try floats(Array(repeating: 0, count: 32), [1, 8, 2, 2])
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, try floats(Array(repeating: 0, count: 16), [1, 4, 2, 2])]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, try floats(Array(repeating: 0, count: 72), [1, 8, 3, 3])]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, offsets], attributes: ["offset_group": .int(2)]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, offsets, nil, try floats([1, 1, 1, 1], [1, 1, 2, 2])]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, offsets, try floats([1, 2], [2])]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, offsets], attributes: ["group": .int(2)]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, offsets], attributes: ["offset_group": .int(1 << 62)]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, offsets], attributes: ["group": .int(1 << 62)]) }
        #expect(throws: ModelError.self) { try run("DeformConv", [x, w, offsets], attributes: ["strides": .ints([0, 1])]) }
        // Four spatial axes are refused rather than sampled at 16 neighbours.
        let x4 = try floats([1], [1, 1, 1, 1, 1, 1]), w4 = try floats([1], [1, 1, 1, 1, 1, 1])
        #expect(throws: ModelError.self) { try run("DeformConv", [x4, w4, try floats([0, 0, 0, 0], [1, 4, 1, 1, 1, 1])]) }
    }

    // MARK: - Col2Im

    /// Blocks of two along a row of four: neighbouring blocks overlap by one.
    @Test func overlappingBlocksAddUp() throws {
        let x = try floats([1, 2, 3, 10, 20, 30], [1, 2, 3])
        let y = try run("Col2Im", [x, try int64s([1, 4]), try int64s([1, 2])])[0]
        expectClose(y, [1, 12, 23, 30], [1, 1, 1, 4], "overlap")
        // One pixel of padding at each end: the outermost taps fall in it.
        let padded = try run("Col2Im", [try floats([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 4]), try int64s([1, 3]), try int64s([1, 2])],
                             attributes: ["pads": .ints([0, 1, 0, 1])])[0]
        expectClose(padded, [12, 23, 34], [1, 1, 1, 3], "padding")
        // Stride 2 and dilation 2 on a row of five: taps at 0, 2 and 2, 4.
        let spaced = try run("Col2Im", [try floats([1, 2, 10, 20], [1, 2, 2]), try int64s([1, 5]), try int64s([1, 2])],
                             attributes: ["strides": .ints([1, 2]), "dilations": .ints([1, 2])])[0]
        expectClose(spaced, [1, 0, 12, 0, 20], [1, 1, 1, 5], "strides and dilations")
    }

    /// Three spatial axes, two channels and two images, and integer elements.
    @Test func volumesChannelsAndIntegers() throws {
        // A 2×1×2 block tiles a 2×1×2 image once: the rows land in order.
        let x = try floats((1...8).map(Float.init), [1, 8, 1])
        let y = try run("Col2Im", [x, try int64s([2, 1, 2]), try int64s([2, 1, 2])])[0]
        expectClose(y, (1...8).map(Float.init), [1, 2, 2, 1, 2], "volume")
        let ints = try tensor([1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60] as [Int32], .int32, [2, 2, 3])
        let z = try run("Col2Im", [ints, try int64s([1, 4]), try int64s([1, 2])])[0]
        #expect(z.dtype == .int32 && z.shape == [2, 1, 1, 4])
        #expect(Array(z.elements(Int32.self)) == [1, 12, 23, 30, 4, 45, 56, 60])
    }

    @Test func col2ImRefusesBadShapes() throws {
        let x = try floats([1, 2, 3, 10, 20, 30], [1, 2, 3])
        let (image, block) = (try int64s([1, 4]), try int64s([1, 2]))
        #expect(throws: ModelError.self) { try run("Col2Im", [x, try int64s([1, 5]), block]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [x, image, try int64s([1, 4])]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [x, image, try int64s([2])]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [x, image, try int64s([1, 0])]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [x, try int64s([1, -4]), block]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [x, image, try int64s([1, 1 << 40])]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [x, image, block], attributes: ["strides": .ints([1])]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [try floats(x.floats.map { $0 }, [2, 3]), image, block]) }
        #expect(throws: ModelError.self) { try run("Col2Im", [try tensor([1, 0, 1, 1, 0, 1] as [UInt8], .bool, [1, 2, 3]), image, block]) }
        // No rows: an empty image, however large the block, with no table built for it.
        let huge: Int64 = 1 << 30
        let empty = try run("Col2Im", [try floats([], [1, 0, Int((huge + 2) * (huge + 2))]), try int64s([1, 1]), try int64s([huge, huge])],
                            attributes: ["pads": .ints([huge, huge, huge, huge])])[0]
        #expect(empty.shape == [1, 0, 1, 1])
    }
}
