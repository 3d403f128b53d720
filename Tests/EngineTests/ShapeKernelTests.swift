import ModelInfo
import Testing
import TestSupport

/// Shape and control-flow kernels run through small plans: Slice walking
/// backwards, Gather's negative and out-of-range indices, and Loop's scan outputs.
@Suite struct ShapeKernelTests {
    private func tensor<T>(_ values: [T], _ dtype: DType, _ shape: [Int]) throws -> EngineTensor { try .holding(values, dtype, shape) }

    private func int64s(_ values: [Int64]) throws -> EngineTensor { try tensor(values, .int64, [values.count]) }

    private func values<T>(_ t: EngineTensor, _ type: T.Type) -> [T] { Array(t.elements(T.self)) }

    /// Runs `graph` on `feeds` and returns the outputs in the graph's order.
    private func run(_ graph: Graph, _ feeds: [String: EngineTensor], threads: Int = 2) throws -> [EngineTensor] {
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 21)], graph: graph))
        let results = try plan.run(feeds, context: ExecutionContext(threads: threads))
        return try graph.outputs.map { try #require(results[$0.name]) }
    }

    /// Runs `op` on `inputs` in a one-node graph.
    private func run(_ op: String, _ inputs: [EngineTensor], attributes: [String: AttributeValue] = [:],
                     threads: Int = 2) throws -> EngineTensor {
        let names = inputs.indices.map { "x\($0)" }
        let node = Node(name: "n", opType: op, inputs: names, outputs: ["y"],
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        let graph = Graph(nodes: [node],
                          inputs: zip(names, inputs).map { ValueInfo(name: $0, type: .tensor($1.dtype, Shape($1.shape))) },
                          outputs: [ValueInfo(name: "y")])
        return try run(graph, Dictionary(uniqueKeysWithValues: zip(names, inputs)), threads: threads)[0]
    }

    /// Expand where the input repeats whole (copied by doubling) and where it does not (gathered).
    @Test func expandRepeatsTheInputOrBroadcastsIt() throws {
        let row = try tensor([1, 2, 3] as [Float], .float, [3])
        #expect(values(try run("Expand", [row, try int64s([2, 2, 3])]), Float.self) == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3])
        let scalar = try tensor([7] as [Int8], .int8, [])
        #expect(values(try run("Expand", [scalar, try int64s([5])]), Int8.self) == [7, 7, 7, 7, 7])
        let column = try tensor([1, 2] as [Int32], .int32, [2, 1])
        #expect(values(try run("Expand", [column, try int64s([2, 3])]), Int32.self) == [1, 1, 1, 2, 2, 2])
        let empty = try run("Expand", [row, try int64s([0, 3])])
        #expect(empty.shape == [0, 3])
    }

    @Test func parallelCopiesMatchOneThread() throws {
        // Large enough that the copies and the resampling are split between threads.
        let x = try tensor((0..<(64 * 300 * 3)).map { Float($0 % 977) }, .float, [64, 300, 3])
        let perm: AttributeValue = .ints([2, 0, 1])
        #expect(values(try run("Transpose", [x], attributes: ["perm": perm], threads: 1), Float.self)
            == values(try run("Transpose", [x], attributes: ["perm": perm], threads: 4), Float.self))
        let image = x.reshaped([1, 64, 15, 60])
        let scales = try tensor([1, 1, 2, 0.5] as [Float], .float, [4])
        let empty = try tensor([Float](), .float, [0])
        let linear: [String: AttributeValue] = ["mode": .string(Array("linear".utf8))]
        let one = try run("Resize", [image, empty, scales], attributes: linear, threads: 1)
        #expect(one.shape == [1, 64, 30, 30])
        #expect(values(one, Float.self) == values(try run("Resize", [image, empty, scales], attributes: linear, threads: 4), Float.self))
    }

    /// Concat of outputs of 256 KiB and more is copied by all the threads, each
    /// a range of the output's bytes that may start and end inside a block:
    /// along the channels of two images (the first part empty), along the
    /// rows of one, and for 16-bit elements, against the join by its definition.
    @Test func largeConcatSplitsBetweenThreads() throws {
        func check(_ shapes: [[Int]], axis: Int, _ dtype: DType = .float) throws {
            let parts = shapes.enumerated().map { index, shape in
                (0..<shape.reduce(1, *)).map { UInt16(truncatingIfNeeded: $0 * 7 + index * 1009) }
            }
            let tensors = try zip(parts, shapes).map { values, shape throws in
                dtype == .float ? try tensor(values.map(Float.init), .float, shape) : try tensor(values, dtype, shape)
            }
            // The definition: for each index before the axis, each part's block in turn.
            let outer = shapes[0][..<axis].reduce(1, *)
            var expected: [UInt16] = []
            for o in 0..<outer {
                for (values, shape) in zip(parts, shapes) {
                    let block = shape[axis...].reduce(1, *)
                    expected += values[(o * block)..<((o + 1) * block)]
                }
            }
            for threads in [1, 2, 4] {
                let y = try run("Concat", tensors, attributes: ["axis": .int(Int64(axis))], threads: threads)
                let got = dtype == .float ? values(y, Float.self).map { UInt16($0) } : values(y, UInt16.self)
                #expect(got == expected, "\(shapes) along \(axis), \(dtype), \(threads) threads")
            }
        }
        try check([[2, 0, 30, 30], [2, 48, 30, 30], [2, 17, 30, 30], [2, 35, 30, 30]], axis: 1)
        try check([[300, 128], [213, 128], [1, 128]], axis: 0)
        try check([[1, 96, 40, 40], [1, 33, 40, 40]], axis: 1, .float16)
    }

    @Test func sliceWalksBackwardsWithNegativeSteps() throws {
        let x = try tensor((0..<20).map(Float.init), .float, [4, 5])
        // Rows from the last to the first (the end clamps to "before row 0"), every other column from the last.
        let y = try run("Slice", [x, try int64s([-1, 4]), try int64s([Int64.min, 0]), try int64s([0, 1]), try int64s([-1, -2])])
        #expect(y.shape == [4, 2])
        #expect(values(y, Float.self) == [19, 17, 14, 12, 9, 7, 4, 2])

        // A start beyond the end clamps to the last element; a backwards step stops before the end index.
        let tail = try run("Slice", [x, try int64s([100]), try int64s([2]), try int64s([-1]), try int64s([-1])])
        #expect(tail.shape == [4, 2])
        #expect(values(tail, Float.self) == [4, 3, 9, 8, 14, 13, 19, 18])

        // Walking backwards from before the end is empty, and a zero step is an error, not a trap.
        let empty = try run("Slice", [x, try int64s([1]), try int64s([3]), try int64s([1]), try int64s([-1])])
        #expect(empty.shape == [4, 0])
        #expect(throws: ModelError.self) { try run("Slice", [x, try int64s([0]), try int64s([3]), try int64s([1]), try int64s([0])]) }
    }

    @Test func gatherCountsNegativeIndicesFromTheEndAndRejectsOutOfRange() throws {
        let data = try tensor([1, 2, 3, 4, 5, 6] as [Int32], .int32, [3, 2])
        let rows = try run("Gather", [data, try int64s([-1, 0, -3])])
        #expect(rows.shape == [3, 2])
        #expect(values(rows, Int32.self) == [5, 6, 1, 2, 1, 2])

        // Along axis 1 with 2-D int32 indices the output is data[:, indices].
        let picks = try tensor([-1, 0, 1, -2] as [Int32], .int32, [2, 2])
        let columns = try run("Gather", [data, picks], attributes: ["axis": .int(1)])
        #expect(columns.shape == [3, 2, 2])
        #expect(values(columns, Int32.self) == [2, 1, 2, 1, 4, 3, 4, 3, 6, 5, 6, 5])

        for bad: Int64 in [3, -4, .max, .min] {
            #expect(throws: ModelError.self) { try run("Gather", [data, try int64s([0, bad])]) }
        }
        // The element and slice gathers and scatters check their indices too.
        let indices = try tensor([0, 2] as [Int64], .int64, [1, 2])
        #expect(throws: ModelError.self) { try run("GatherElements", [data, indices], attributes: ["axis": .int(1)]) }
        #expect(throws: ModelError.self) { try run("GatherND", [data, try tensor([1, 2] as [Int64], .int64, [1, 2])]) }
        let updates = try tensor([9] as [Int32], .int32, [1])
        #expect(throws: ModelError.self) { try run("ScatterND", [data, try tensor([0, -3] as [Int64], .int64, [1, 2]), updates]) }
    }

    /// A Loop whose body adds an outer `step` to the carried value and emits it as a scan output.
    private func counting(tripCount: Int64) throws -> [EngineTensor] {
        let body = Graph(
            name: "body",
            nodes: [Node(opType: "Add", inputs: ["acc", "step"], outputs: ["next"]),
                    Node(opType: "Identity", inputs: ["next"], outputs: ["emitted"]),
                    Node(opType: "Identity", inputs: ["keep"], outputs: ["keep_out"])],
            inputs: [ValueInfo(name: "i", type: .tensor(.int64, Shape([Int]()))), ValueInfo(name: "keep", type: .tensor(.bool, Shape([Int]()))),
                     ValueInfo(name: "acc", type: .tensor(.float, Shape([2])))],
            outputs: [ValueInfo(name: "keep_out", type: .tensor(.bool, Shape([Int]()))), ValueInfo(name: "next", type: .tensor(.float, Shape([2]))),
                      ValueInfo(name: "emitted", type: .tensor(.float, Shape([2])))])
        let loop = Node(opType: "Loop", inputs: ["M", "", "start"], outputs: ["final", "all"], attributes: [Attribute(name: "body", value: .graph(body))])
        let graph = Graph(nodes: [loop],
                          inputs: [ValueInfo(name: "M", type: .tensor(.int64, Shape([Int]()))), ValueInfo(name: "start", type: .tensor(.float, Shape([2]))),
                                   ValueInfo(name: "step", type: .tensor(.float, Shape([2])))],
                          outputs: [ValueInfo(name: "final"), ValueInfo(name: "all")])
        return try run(graph, ["M": try tensor([tripCount], .int64, []), "start": try tensor([1, 10] as [Float], .float, [2]),
                               "step": try tensor([1, -1] as [Float], .float, [2])])
    }

    @Test func loopStacksScanOutputsAlongANewFirstAxis() throws {
        let results = try counting(tripCount: 3)
        #expect(results[0].shape == [2])
        #expect(values(results[0], Float.self) == [4, 7])
        #expect(results[1].shape == [3, 2])
        #expect(values(results[1], Float.self) == [2, 9, 3, 8, 4, 7])

        // No iteration: the carried value passes through and the scan output is empty, shaped by the body's declaration.
        let none = try counting(tripCount: 0)
        #expect(values(none[0], Float.self) == [1, 10])
        #expect(none[1].shape == [0, 2])
    }
}
