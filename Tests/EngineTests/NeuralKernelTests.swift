@testable import Engine
import ModelInfo
import Testing

/// The convolution path's fast paths against the generic ones: fused
/// Conv + BatchNorm + Add + Relu against the same nodes run one by one, the
/// split of a convolution between threads against one thread, and the
/// pooling kernels' interior loop against the definition.
@Suite struct NeuralKernelTests {
    /// `count` seeded values in [-1, 1).
    private static func numbers(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -1..<1, using: &generator) }
    }

    private static func tensor(_ values: [Float], _ shape: [Int]) throws -> EngineTensor {
        let t = try EngineTensor(dtype: .float, shape: shape)
        try #require(t.count == values.count)
        for (i, v) in values.enumerated() { t.floats[i] = v }
        return t
    }

    private static func stored(_ name: String, _ values: [Float], _ shape: [Int]) throws -> Tensor {
        let bytes = values.withUnsafeBytes { Array($0) }
        return try Tensor(name: name, dtype: .float, dims: shape, storage: .bytes(ByteRegion(copying: bytes)))
    }

    private static func plan(_ graph: Graph) throws -> ExecutionPlan {
        try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
    }

    /// The largest difference relative to the values' magnitude, after checking the shapes agree.
    private static func difference(_ a: EngineTensor, _ b: EngineTensor) throws -> Float {
        try #require(a.shape == b.shape)
        var worst: Float = 0
        for i in 0..<a.count {
            let (x, y) = (a.floats[i], b.floats[i])
            if x.isNaN != y.isNaN { return .infinity }
            if !x.isNaN { worst = max(worst, abs(x - y) / max(1, abs(y))) }
        }
        return worst
    }

    // MARK: - Fusion

    /// A graph of Conv → BatchNormalization → Add → Relu and its variations.
    /// With `storedWeights` the weights and BatchNorm parameters are
    /// initializers, so the plan fuses; without, they are graph inputs fed
    /// the same values, so every node runs its own kernel.
    private struct ResidualBlock {
        var channels = 8, outputs = 16, size = 9
        var kernel = 3, stride = 1, pad = 1, group = 1
        var batchNorm = true
        /// The Add's other operand: its shape, and whether a Conv placed after
        /// the main Conv in node order computes it (as a projection shortcut).
        var residualShape: [Int]? = [1, 16, 9, 9]
        var residualFromLaterConv = false
        var convOutputIsSecondAddInput = false
        var relu = true
        /// Clip(-0.5, 0.75), its bounds Constant nodes, instead of Relu.
        var clip = false
        /// SiLU, as exporters write it (Sigmoid, and Mul of its input and
        /// output), instead of Relu.
        var silu = false
        /// Relu before the Add instead of after it: the Add must then not be fused.
        var reluBeforeAdd = false

        var outputSize: Int { (size + 2 * pad - kernel) / stride + 1 }

        func graph(storedWeights: Bool) throws -> (graph: Graph, feeds: [String: EngineTensor]) {
            var nodes: [Node] = [], initializers: [Tensor] = []
            var inputs: [ValueInfo] = [], feeds: [String: EngineTensor] = [:]
            func constant(_ name: String, _ shape: [Int], seed: UInt64, positive: Bool = false) throws {
                let values = NeuralKernelTests.numbers(shape.reduce(1, *), seed: seed).map { positive ? 0.5 + abs($0) : $0 }
                if storedWeights {
                    initializers.append(try NeuralKernelTests.stored(name, values, shape))
                } else {
                    inputs.append(ValueInfo(name: name, type: .tensor(.float, Shape(shape))))
                    feeds[name] = try NeuralKernelTests.tensor(values, shape)
                }
            }
            let input = [1, channels, size, size]
            inputs.append(ValueInfo(name: "x", type: .tensor(.float, Shape(input))))
            feeds["x"] = try NeuralKernelTests.tensor(NeuralKernelTests.numbers(input.reduce(1, *), seed: 1), input)
            try constant("w", [outputs, channels / group, kernel, kernel], seed: 2)
            try constant("b", [outputs], seed: 3)
            let window: [Attribute] = [Attribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
                                       Attribute(name: "strides", value: .ints([Int64(stride), Int64(stride)])),
                                       Attribute(name: "pads", value: .ints([Int64](repeating: Int64(pad), count: 4))),
                                       Attribute(name: "group", value: .int(Int64(group)))]
            nodes.append(Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"], attributes: window))
            var last = "c"
            if batchNorm {
                for (k, name) in ["scale", "shift", "mean", "var"].enumerated() {
                    try constant(name, [outputs], seed: 10 + UInt64(k), positive: name == "var")
                }
                nodes.append(Node(name: "bn", opType: "BatchNormalization", inputs: [last, "scale", "shift", "mean", "var"],
                                  outputs: ["n"], attributes: [Attribute(name: "epsilon", value: .float(1e-3))]))
                last = "n"
            }
            if reluBeforeAdd {
                nodes.append(Node(name: "early", opType: "Relu", inputs: [last], outputs: ["e"]))
                last = "e"
            }
            if let residualShape {
                if residualFromLaterConv {
                    // A 1×1 projection of x, listed after the main Conv.
                    try constant("wp", [outputs, channels, 1, 1], seed: 20)
                    let strides = Attribute(name: "strides", value: .ints([Int64(stride), Int64(stride)]))
                    nodes.append(Node(name: "projection", opType: "Conv", inputs: ["x", "wp"], outputs: ["r"], attributes: [strides]))
                } else {
                    inputs.append(ValueInfo(name: "r", type: .tensor(.float, Shape(residualShape))))
                    feeds["r"] = try NeuralKernelTests.tensor(NeuralKernelTests.numbers(residualShape.reduce(1, *), seed: 30), residualShape)
                }
                nodes.append(Node(name: "add", opType: "Add", inputs: convOutputIsSecondAddInput ? ["r", last] : [last, "r"], outputs: ["s"]))
                last = "s"
            }
            if clip {
                for (name, value) in [("low", Float(-0.5)), ("high", 0.75)] {
                    let bound = try NeuralKernelTests.stored(name, [value], [])
                    nodes.append(Node(name: name, opType: "Constant", outputs: [name], attributes: [Attribute(name: "value", value: .tensor(bound))]))
                }
                nodes.append(Node(name: "clip", opType: "Clip", inputs: [last, "low", "high"], outputs: ["y"]))
                last = "y"
            } else if silu {
                nodes.append(Node(name: "sigmoid", opType: "Sigmoid", inputs: [last], outputs: ["g"]))
                nodes.append(Node(name: "silu", opType: "Mul", inputs: [last, "g"], outputs: ["y"]))
                last = "y"
            } else if relu && !reluBeforeAdd {
                nodes.append(Node(name: "relu", opType: "Relu", inputs: [last], outputs: ["y"]))
                last = "y"
            }
            let graph = Graph(nodes: nodes, initializers: initializers, inputs: inputs, outputs: [ValueInfo(name: last)])
            return (graph, feeds)
        }

        /// Runs the fused and the unfused plans; returns their outputs and the fused plan's step count.
        func compare(threads: Int = 2) throws -> (fused: EngineTensor, unfused: EngineTensor, steps: Int) {
            let fused = try graph(storedWeights: true), unfused = try graph(storedWeights: false)
            let fusedPlan = try NeuralKernelTests.plan(fused.graph), unfusedPlan = try NeuralKernelTests.plan(unfused.graph)
            // Unfused, a SiLU's two nodes still run as one step (SiLUFusion).
            #expect(unfusedPlan.steps.count == unfused.graph.nodes.count - (silu ? 1 : 0))
            let context = ExecutionContext(threads: threads)
            let a = try #require(try fusedPlan.run(fused.feeds, context: context).values.first)
            let b = try #require(try unfusedPlan.run(unfused.feeds, context: context).values.first)
            return (a, b, fusedPlan.steps.count)
        }
    }

    @Test func residualAddAndReluRunInTheConvolutionsEpilogue() throws {
        var blocks: [(ResidualBlock, steps: Int)] = []
        var block = ResidualBlock()
        blocks.append((block, 1))
        block.convOutputIsSecondAddInput = true
        blocks.append((block, 1))
        block.relu = false
        blocks.append((block, 1))
        block.batchNorm = false
        blocks.append((block, 1))
        // Pointwise, and strided with the shortcut computed after the main Conv.
        block = ResidualBlock(kernel: 1, pad: 0)
        blocks.append((block, 1))
        block = ResidualBlock(size: 10, stride: 2, residualShape: [1, 16, 5, 5], residualFromLaterConv: true)
        blocks.append((block, 2))
        // Clip instead of Relu (its two Constant nodes stay steps), and the
        // depthwise kernel's own epilogue (MobileNetV2's layers).
        block = ResidualBlock(clip: true)
        blocks.append((block, 3))
        block = ResidualBlock(channels: 16, group: 16, clip: true)
        blocks.append((block, 3))
        block = ResidualBlock(channels: 16, size: 10, stride: 2, group: 16, residualShape: [1, 16, 5, 5])
        blocks.append((block, 1))
        for (block, steps) in blocks {
            let (fused, unfused, count) = try block.compare()
            #expect(count == steps, "\(block)")
            #expect(try Self.difference(fused, unfused) < 1e-5, "\(block)")
            #expect(fused.floats.contains { $0 > 0 } && (!block.relu || block.clip || fused.floats.allSatisfy { $0 >= 0 }))
            if block.clip { #expect(fused.floats.allSatisfy { $0 >= -0.5 && $0 <= 0.75 } && fused.floats.contains(0.75)) }
        }
    }

    /// A SiLU after the Conv runs in its step on every path: the lowered
    /// product, Winograd, a depthwise plane at a time and sixteen planes at
    /// once, and after a residual that broadcasts.
    @Test func siluRunsInTheConvolutionsStep() throws {
        let blocks = [
            ResidualBlock(relu: false, silu: true),
            ResidualBlock(residualShape: nil, relu: false, silu: true),
            // Without a BatchNorm to fold, so that both plans' Winograd products round alike.
            ResidualBlock(channels: 64, size: 28, batchNorm: false, residualShape: [1, 16, 28, 28], relu: false, silu: true),
            ResidualBlock(channels: 16, size: 20, group: 16, residualShape: [1, 16, 20, 20], relu: false, silu: true),
            ResidualBlock(channels: 16, group: 16, relu: false, silu: true),
            ResidualBlock(residualShape: [1, 16, 1, 1], relu: false, silu: true),
        ]
        for block in blocks {
            let (fused, unfused, steps) = try block.compare()
            #expect(steps == 1, "\(block)")
            let difference = try Self.difference(fused, unfused)
            #expect(difference < 1e-5, "\(block): \(difference)")
            // SiLU's minimum, −0.278, and values on both sides of 0.
            #expect(fused.floats.allSatisfy { $0 > -0.2785 } && fused.floats.contains { $0 < -0.1 } && fused.floats.contains { $0 > 1 },
                    "\(block)")
        }
    }

    /// A 3-D Conv (`ConvVolume`) applies a fused SiLU after its product too.
    @Test func siluRunsAfterAThreeDimensionalConvolution() throws {
        let (input, weight) = ([1, 4, 5, 6, 7], [8, 4, 3, 3, 3])
        let x = try Self.tensor(Self.numbers(input.reduce(1, *), seed: 60), input)
        let w = Self.numbers(weight.reduce(1, *), seed: 61)
        func plan(storedWeights: Bool) throws -> ExecutionPlan {
            let nodes = [Node(name: "conv", opType: "Conv", inputs: ["x", "w"], outputs: ["c"],
                              attributes: [Attribute(name: "pads", value: .ints([1, 1, 1, 1, 1, 1]))]),
                         Node(name: "sigmoid", opType: "Sigmoid", inputs: ["c"], outputs: ["g"]),
                         Node(name: "silu", opType: "Mul", inputs: ["c", "g"], outputs: ["y"])]
            var inputs = [ValueInfo(name: "x", type: .tensor(.float, Shape(input)))]
            if !storedWeights { inputs.append(ValueInfo(name: "w", type: .tensor(.float, Shape(weight)))) }
            return try Self.plan(Graph(nodes: nodes, initializers: storedWeights ? [try Self.stored("w", w, weight)] : [],
                                       inputs: inputs, outputs: [ValueInfo(name: "y")]))
        }
        let fused = try plan(storedWeights: true), unfused = try plan(storedWeights: false)
        #expect(fused.steps.count == 1 && unfused.steps.count == 2)
        let context = ExecutionContext(threads: 2)
        let a = try #require(try fused.run(["x": x], context: context)["y"])
        let b = try #require(try unfused.run(["x": x, "w": try Self.tensor(w, weight)], context: context)["y"])
        #expect(try Self.difference(a, b) < 1e-5)
        #expect(a.floats.contains { $0 < -0.1 } && a.floats.allSatisfy { $0 > -0.2785 })
    }

    /// When the Add broadcasts, the product is finished first and the Add
    /// and Relu run afterwards, inside the same kernel.
    @Test func residualThatBroadcastsIsAddedAfterTheProduct() throws {
        for shape in [[1, 16, 1, 1], [16, 1, 1], [2, 16, 9, 9]] {
            let block = ResidualBlock(residualShape: shape)
            let (fused, unfused, steps) = try block.compare()
            #expect(steps == 1)
            #expect(fused.shape == (shape.count == 4 && shape[0] == 2 ? [2, 16, 9, 9] : [1, 16, 9, 9]))
            #expect(try Self.difference(fused, unfused) < 1e-5, "\(shape)")
        }
    }

    /// Only Conv → BatchNorm → Add → Relu in that order fuses: a Relu before
    /// the Add ends the fusion there, and the Add runs on its own.
    @Test func addAfterAnActivationIsNotFused() throws {
        let block = ResidualBlock(reluBeforeAdd: true)
        let (fused, unfused, steps) = try block.compare()
        #expect(steps == 2)
        #expect(try Self.difference(fused, unfused) < 1e-5)
    }

    /// Two Convs ending at the same Add (a projection shortcut): one fuses
    /// it, the other keeps its own output for it.
    @Test func anAddIsFusedIntoOneConvolutionOnly() throws {
        let fusions = ConvFusion.find(in: try ResidualBlock(residualFromLaterConv: true).graph(storedWeights: true).graph, opsets: ["": 17])
        let adds = fusions.values.filter { $0.residual != nil }
        #expect(fusions.count == 1 && adds.count == 1 && adds[0].residual == "r")
    }

    /// A grouped convolution by its definition, in Double.
    private static func convolvedByDefinition(_ x: [Float], _ shape: [Int], _ w: [Float], outputs: Int, group: Int, kernel: Int,
                                              stride: Int, pads: [Int], dilation: Int, outputSize: (Int, Int)) -> [Float] {
        let (n, c, h, wd) = (shape[0], shape[1], shape[2], shape[3])
        let (cg, mg) = (c / group, outputs / group)
        var out: [Float] = []
        for image in 0..<n {
            for m in 0..<outputs {
                for oy in 0..<outputSize.0 {
                    for ox in 0..<outputSize.1 {
                        var sum = 0.0
                        for ci in 0..<cg {
                            for ky in 0..<kernel {
                                for kx in 0..<kernel {
                                    let iy = oy * stride - pads[0] + ky * dilation, ix = ox * stride - pads[1] + kx * dilation
                                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                    let input = x[((image * c + m / mg * cg + ci) * h + iy) * wd + ix]
                                    sum += Double(input) * Double(w[((m * cg + ci) * kernel + ky) * kernel + kx])
                                }
                            }
                        }
                        out.append(Float(sum))
                    }
                }
            }
        }
        return out
    }

    /// The direct depthwise kernels (one channel per group) over strides,
    /// dilations, asymmetric pads, maps narrower than the kernel, and batches:
    /// a plane at a time for maps 16 or more wide (strided ones with rows of
    /// each column phase that end mid-vector), sixteen planes at once below,
    /// with blocks that end mid-batch (37 channels, 2 images) or hold fewer than 16 planes.
    @Test func depthwiseConvolutionMatchesTheDefinition() throws {
        let cases: [(channels: Int, size: Int, kernel: Int, stride: Int, pads: [Int], dilation: Int, batch: Int)] = [
            (8, 9, 3, 1, [1, 1, 1, 1], 1, 1), (8, 10, 3, 2, [1, 1, 1, 1], 1, 2), (5, 7, 5, 2, [2, 1, 0, 2], 1, 1),
            (3, 11, 3, 3, [0, 0, 0, 0], 2, 1), (4, 2, 3, 1, [1, 1, 1, 1], 1, 1), (6, 13, 7, 1, [3, 3, 3, 3], 1, 1),
            (37, 7, 3, 1, [1, 1, 1, 1], 1, 2), (24, 14, 5, 2, [2, 2, 2, 2], 1, 1), (16, 20, 3, 1, [1, 1, 1, 1], 1, 1),
            (20, 16, 3, 1, [1, 0, 1, 0], 1, 1), (5, 40, 3, 2, [1, 1, 1, 1], 1, 1), (3, 37, 5, 2, [2, 2, 2, 2], 1, 2),
        ]
        for (channels, size, kernel, stride, pads, dilation, batch) in cases {
            let shape = [batch, channels, size, size]
            let x = Self.numbers(shape.reduce(1, *), seed: 50), w = Self.numbers(channels * kernel * kernel, seed: 51)
            let attributes = [Attribute(name: "kernel_shape", value: .ints([Int64(kernel), Int64(kernel)])),
                              Attribute(name: "strides", value: .ints([Int64(stride), Int64(stride)])),
                              Attribute(name: "pads", value: .ints(pads.map(Int64.init))),
                              Attribute(name: "dilations", value: .ints([Int64(dilation), Int64(dilation)])),
                              Attribute(name: "group", value: .int(Int64(channels)))]
            let graph = Graph(nodes: [Node(name: "dw", opType: "Conv", inputs: ["x", "w"], outputs: ["y"], attributes: attributes)],
                              initializers: [try Self.stored("w", w, [channels, 1, kernel, kernel])],
                              inputs: [ValueInfo(name: "x", type: .tensor(.float, Shape(shape)))], outputs: [ValueInfo(name: "y")])
            let y = try #require(try Self.plan(graph).run(["x": try Self.tensor(x, shape)], context: ExecutionContext(threads: 2))["y"])
            let expected = Self.convolvedByDefinition(x, shape, w, outputs: channels, group: channels, kernel: kernel, stride: stride,
                                                      pads: pads, dilation: dilation, outputSize: (y.shape[2], y.shape[3]))
            #expect(try Self.difference(y, try Self.tensor(expected, y.shape)) < 1e-5,
                    "channels \(channels) size \(size) kernel \(kernel) stride \(stride) pads \(pads) dilation \(dilation)")
        }
    }

    // MARK: - Threads

    /// Every work item of a convolution's partition is distinct and together
    /// they cover each output row and channel of every image and group once.
    @Test(arguments: [(1, 7, 7, 512, 4608), (1, 7, 7, 2048, nil), (1, 56, 56, 64, 576), (1, 14, 14, 256, nil),
                      (2, 28, 28, 128, 1152), (32, 112, 112, 1, 9), (1, 3, 5, 20, 27), (3, 1, 1, 10, nil)] as [(Int, Int, Int, Int, Int?)])
    func convolutionPartitionCoversTheOutputOnce(units: Int, rows: Int, columns: Int, channels: Int, depth: Int?) {
        for threads in 1...4 {
            let split = ConvPartition(units: units, outputRows: rows, outputColumns: columns, channels: channels, depth: depth, threads: threads)
            var covered = [Int](repeating: 0, count: units * rows * channels)
            for item in 0..<split.items {
                let (unit, band, slice) = split.item(item)
                #expect(band.count <= split.rowsPerBand)
                for row in band {
                    for channel in slice { covered[(unit * rows + row) * channels + channel] += 1 }
                }
            }
            #expect(covered.allSatisfy { $0 == 1 }, "threads \(threads)")
            if units * rows > 1 && threads > 1 { #expect(split.items >= threads || split.bands == rows, "threads \(threads)") }
        }
    }

    /// A pointwise convolution on a 14×14 map is sliced by channels, each
    /// thread's product over the whole map (196 columns fill 13 vectors to
    /// 94%, a band of 98 fills 7 to 88%); on a 56×56 map, or lowered through
    /// im2col, it is split into bands of rows.
    @Test func aPointwiseConvolutionOnASmallMapIsSlicedByChannels() {
        let small = ConvPartition(units: 1, outputRows: 14, outputColumns: 14, channels: 96, depth: nil, threads: 2)
        #expect(small.slices == 2 && small.bands == 1)
        let large = ConvPartition(units: 1, outputRows: 56, outputColumns: 56, channels: 96, depth: nil, threads: 2)
        #expect(large.slices == 1 && large.bands >= 2)
        let lowered = ConvPartition(units: 1, outputRows: 14, outputColumns: 14, channels: 96, depth: 864, threads: 2)
        #expect(lowered.slices == 1 && lowered.bands >= 2)
        #expect(abs(ConvPartition.vectorFill(196) - 196.0 / 208) < 1e-9 && abs(ConvPartition.vectorFill(98) - 98.0 / 112) < 1e-9)
    }

    /// Split into bands or channel slices, a convolution computes what one thread does.
    @Test func convolutionOnSeveralThreadsMatchesOneThread() throws {
        for (size, kernel, channels, group) in [(7, 3, 64, 1), (7, 1, 64, 1), (14, 1, 32, 1), (30, 3, 8, 1), (12, 3, 16, 4), (9, 3, 16, 16)] {
            let block = ResidualBlock(channels: channels, outputs: channels, size: size, kernel: kernel, pad: kernel / 2,
                                      group: group, residualShape: [1, channels, size, size])
            let (graph, feeds) = try block.graph(storedWeights: true)
            let plan = try Self.plan(graph)
            let one = try #require(try plan.run(feeds, context: ExecutionContext(threads: 1)).values.first)
            for threads in [2, 3, 4] {
                let many = try #require(try plan.run(feeds, context: ExecutionContext(threads: threads)).values.first)
                #expect(try Self.difference(many, one) == 0, "size \(size) kernel \(kernel) group \(group) threads \(threads)")
            }
        }
    }

    // MARK: - Pooling

    /// MaxPool or AveragePool by its definition, one output at a time.
    private static func pooledByDefinition(_ x: [Float], channels: Int, height: Int, width: Int, max: Bool,
                                           kernel: [Int], strides: [Int], pads: [Int], dilations: [Int],
                                           countPadding: Bool, outputSize: (Int, Int)) -> [Float] {
        var out: [Float] = []
        for c in 0..<channels {
            for oy in 0..<outputSize.0 {
                for ox in 0..<outputSize.1 {
                    var taps: [Float] = [], padded = 0
                    for ky in 0..<kernel[0] {
                        for kx in 0..<kernel[1] {
                            let iy = oy * strides[0] - pads[0] + ky * dilations[0], ix = ox * strides[1] - pads[1] + kx * dilations[1]
                            if iy < height + pads[2] && ix < width + pads[3] { padded += 1 }
                            if iy >= 0 && iy < height && ix >= 0 && ix < width { taps.append(x[(c * height + iy) * width + ix]) }
                        }
                    }
                    if max {
                        out.append(taps.contains { $0.isNaN } ? .nan : taps.max() ?? -.infinity)
                    } else {
                        out.append(taps.reduce(0, +) / Float(Swift.max(1, countPadding ? padded : taps.count)))
                    }
                }
            }
        }
        return out
    }

    /// Max pooling runs sixteen planes at once below 16 output columns (11×13,
    /// 3 channels: one partial block; 20 channels: a whole block and a
    /// partial one) and a plane at a time on wider maps (9×40; 6×150, whose
    /// rows are chunks of 64 columns and then a block of the rest).
    @Test(arguments: [(3, 11, 13), (20, 9, 40), (20, 10, 7), (2, 6, 150)])
    func poolingInteriorAndBordersMatchTheDefinition(channels: Int, height: Int, width: Int) throws {
        var values = Self.numbers(channels * height * width, seed: 40)
        values[17] = .nan
        values[200] = -.infinity
        let input = try Self.tensor(values, [1, channels, height, width])
        let cases: [(kernel: [Int], strides: [Int], pads: [Int], dilations: [Int], ceil: Bool)] = [
            ([3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false), ([2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false),
            ([3, 3], [1, 1], [1, 1, 1, 1], [1, 1], false), ([3, 2], [3, 1], [2, 0, 1, 1], [1, 1], true),
            ([2, 3], [1, 2], [0, 2, 0, 2], [2, 3], false), ([5, 5], [2, 3], [2, 2, 2, 2], [1, 1], true),
            ([7, 7], [1, 1], [3, 3, 3, 3], [1, 2], false),
        ]
        for (kernel, strides, pads, dilations, ceil) in cases {
            for op in ["MaxPool", "AveragePool"] {
                for countPadding in op == "MaxPool" ? [false] : [false, true] {
                    var attributes = [Attribute(name: "kernel_shape", value: .ints(kernel.map(Int64.init))),
                                      Attribute(name: "strides", value: .ints(strides.map(Int64.init))),
                                      Attribute(name: "pads", value: .ints(pads.map(Int64.init))),
                                      Attribute(name: "dilations", value: .ints(dilations.map(Int64.init))),
                                      Attribute(name: "ceil_mode", value: .int(ceil ? 1 : 0))]
                    if countPadding { attributes.append(Attribute(name: "count_include_pad", value: .int(1))) }
                    let graph = Graph(nodes: [Node(name: "pool", opType: op, inputs: ["x"], outputs: ["y"], attributes: attributes)],
                                      inputs: [ValueInfo(name: "x", type: .tensor(.float, Shape(input.shape)))],
                                      outputs: [ValueInfo(name: "y")])
                    let label = "\(op) kernel \(kernel) strides \(strides) pads \(pads) dilations \(dilations) ceil \(ceil) countPadding \(countPadding)"
                    let y = try #require(try Self.plan(graph).run(["x": input], context: ExecutionContext(threads: 2))["y"])
                    let expected = Self.pooledByDefinition(values, channels: channels, height: height, width: width, max: op == "MaxPool",
                                                           kernel: kernel, strides: strides, pads: pads, dilations: dilations,
                                                           countPadding: countPadding, outputSize: (y.shape[2], y.shape[3]))
                    try #require(y.count == expected.count, "\(label)")
                    let mismatches = (0..<y.count).filter { i in
                        let (got, want) = (y.floats[i], expected[i])
                        return !(got == want || (got.isNaN && want.isNaN) || abs(got - want) <= 1e-6 * max(1, abs(want)))
                    }
                    #expect(mismatches.isEmpty, "\(label): \(mismatches.count) outputs differ, first at \(mismatches.first ?? -1)")
                }
            }
        }
    }
}
