@testable import Engine
import ModelInfo
import Testing

/// Conv over one and three spatial axes against outputs computed by
/// onnxruntime 1.32 for the same inputs. Inputs and weights are small
/// multiples of powers of two, so every sum is exact and the outputs are
/// compared exactly.
@Suite struct ConvolutionRankTests {
    /// `count` values ((i · step) mod modulus − modulus / 2) / divisor, exact in float32.
    private static func values(_ count: Int, step: Int, modulus: Int, divisor: Float) -> [Float] {
        (0..<count).map { Float($0 * step % modulus - modulus / 2) / divisor }
    }

    private static func tensor(_ values: [Float], _ shape: [Int]) throws -> EngineTensor {
        let t = try EngineTensor(dtype: .float, shape: shape)
        try #require(t.count == values.count)
        for (i, v) in values.enumerated() { t.floats[i] = v }
        return t
    }

    /// Runs one Conv node with bias over x of shape `input` and w of shape `weight`.
    private static func convolve(input: [Int], weight: [Int], _ attributes: [Attribute]) throws -> EngineTensor {
        let m = weight[0]
        let feeds = [
            "x": try tensor(values(input.reduce(1, *), step: 7, modulus: 11, divisor: 4), input),
            "w": try tensor(values(weight.reduce(1, *), step: 5, modulus: 7, divisor: 8), weight),
            "b": try tensor((0..<m).map { Float($0) * 0.25 - 0.5 }, [m]),
        ]
        let inputs = [("x", input), ("w", weight), ("b", [m])].map { ValueInfo(name: $0.0, type: .tensor(.float, Shape($0.1))) }
        let graph = Graph(nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: attributes)],
                          inputs: inputs, outputs: [ValueInfo(name: "y")])
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
        return try #require(try plan.run(feeds, context: ExecutionContext(threads: 2)).values.first)
    }

    private static func ints(_ name: String, _ values: [Int64]) -> Attribute { Attribute(name: name, value: .ints(values)) }

    /// A depthwise convolution (its own kernel, `ck_depthwise_plane`) gives
    /// exactly what the same convolution gives written densely, with zero
    /// weights between channels (the lowered GEMM path): strides, dilations,
    /// asymmetric pads, pads wider than the kernel, maps narrower than it.
    @Test(arguments: [
        (kernel: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], size: [9, 11]),
        (kernel: 3, strides: [2, 2], dilations: [1, 1], pads: [0, 1, 1, 2], size: [10, 9]),
        (kernel: 5, strides: [2, 1], dilations: [1, 1], pads: [2, 2, 2, 2], size: [7, 70]),
        (kernel: 3, strides: [1, 3], dilations: [2, 2], pads: [2, 2, 2, 2], size: [8, 8]),
        (kernel: 7, strides: [1, 1], dilations: [1, 1], pads: [3, 3, 3, 3], size: [5, 4]),
        (kernel: 2, strides: [3, 3], dilations: [1, 3], pads: [4, 5, 4, 3], size: [6, 5]),
    ])
    func depthwiseMatchesTheDenseConvolution(kernel: Int, strides: [Int], dilations: [Int], pads: [Int], size: [Int]) throws {
        let c = 3
        let x = try Self.tensor(Self.values(c * size[0] * size[1], step: 7, modulus: 11, divisor: 4), [1, c, size[0], size[1]])
        let taps = kernel * kernel
        let depthwise = Self.values(c * taps, step: 5, modulus: 7, divisor: 8)
        var dense = [Float](repeating: 0, count: c * c * taps)
        for channel in 0..<c {
            for t in 0..<taps { dense[(channel * c + channel) * taps + t] = depthwise[channel * taps + t] }
        }
        let bias = try Self.tensor([0.5, -0.25, 1], [c])
        let attributes = [Self.ints("strides", strides.map(Int64.init)), Self.ints("dilations", dilations.map(Int64.init)),
                          Self.ints("pads", pads.map(Int64.init))]
        func run(_ weights: [Float], group: Int) throws -> EngineTensor {
            let w = try Self.tensor(weights, [c, c / group, kernel, kernel])
            let inputs = [("x", x), ("w", w), ("b", bias)].map { ValueInfo(name: $0.0, type: .tensor(.float, Shape($0.1.shape))) }
            let node = Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"],
                            attributes: attributes + [Attribute(name: "group", value: .int(Int64(group)))])
            let graph = Graph(nodes: [node], inputs: inputs, outputs: [ValueInfo(name: "y")])
            let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
            return try #require(try plan.run(["x": x, "w": w, "b": bias], context: ExecutionContext(threads: 2)).values.first)
        }
        let expected = try run(dense, group: 1), actual = try run(depthwise, group: c)
        #expect(actual.shape == expected.shape)
        #expect(Array(actual.floats) == Array(expected.floats))
    }

    /// A group count from the file far beyond the channels (its product with
    /// the weight's channels overflows) is an error, not a trap, for Conv
    /// (2-D and 3-D) and ConvTranspose.
    @Test(arguments: ["Conv", "ConvTranspose"], [4, 5])
    func hugeGroupIsRefused(_ op: String, rank: Int) throws {
        let spatial = [Int](repeating: 3, count: rank - 2)
        let x = try Self.tensor([Float](repeating: 1, count: 4 * 9 * (rank == 5 ? 3 : 1)), [1, 4] + spatial)
        let w = try Self.tensor([Float](repeating: 1, count: 8), [4, 2] + [Int](repeating: 1, count: rank - 2))
        let node = Node(name: "conv", opType: op, inputs: ["x", "w"], outputs: ["y"],
                        attributes: [Attribute(name: "group", value: .int(1 << 62))])
        let graph = Graph(nodes: [node], inputs: [ValueInfo(name: "x", type: .tensor(.float, nil)), ValueInfo(name: "w", type: .tensor(.float, nil))],
                          outputs: [ValueInfo(name: "y")])
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
        #expect(throws: ModelError.self) { try plan.run(["x": x, "w": w], context: ExecutionContext(threads: 1)) }
    }

    @Test func oneDimensionalConvolutionMatchesOnnxruntime() throws {
        let y = try Self.convolve(input: [1, 2, 7], weight: [3, 2, 3], [Self.ints("strides", [2]), Self.ints("pads", [1, 1])])
        #expect(y.shape == [1, 3, 4])
        #expect(Array(y.floats) == [-0.9375, -0.3125, -1.25, -0.28125, -0.03125, -0.09375, -0.1875, -0.40625,
                                    0.21875, -0.53125, 0.21875, -0.09375])
    }

    @Test func threeDimensionalGroupedDilatedConvolutionMatchesOnnxruntime() throws {
        let y = try Self.convolve(input: [1, 2, 3, 4, 4], weight: [4, 1, 2, 3, 3],
                                  [Attribute(name: "group", value: .int(2)), Self.ints("pads", [0, 1, 1, 0, 1, 1]),
                                   Self.ints("strides", [1, 2, 1]), Self.ints("dilations", [1, 1, 2])])
        #expect(y.shape == [1, 4, 2, 2, 2])
        #expect(Array(y.floats) == [0.25, -0.6875, -0.125, -0.25, 0.0625, 0.28125, 0.21875, -0.84375,
                                    -1.1875, 0.65625, -0.96875, 1.1875, -0.3125, -0.5, -0.15625, -0.65625,
                                    -0.28125, 0.84375, 1.15625, 0.71875, 0.53125, 0.3125, -0.3125, 0.71875,
                                    -0.1875, -0.78125, 1.5625, -0.53125, 0.90625, -0.59375, 0.46875, 0.28125])
    }
}
