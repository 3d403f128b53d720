import ModelInfo
import Testing
import TestSupport

/// Elementwise and reduction kernels run through one-node plans: broadcasting,
/// integer division, Cast's rounding rules and reductions with keepdims.
@Suite struct ElementwiseKernelTests {
    private func tensor<T>(_ values: [T], _ dtype: DType, _ shape: [Int]) throws -> EngineTensor { try .holding(values, dtype, shape) }

    /// Runs `op` on `inputs` in a one-node graph and returns its outputs.
    private func run(_ op: String, _ inputs: [EngineTensor], attributes: [String: AttributeValue] = [:],
                     opset: Int64 = 21, outputs: Int = 1) throws -> [EngineTensor] {
        let inputNames = inputs.indices.map { "x\($0)" }, outputNames = (0..<outputs).map { "y\($0)" }
        let node = Node(name: "n", opType: op, inputs: inputNames, outputs: outputNames,
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        let graph = Graph(nodes: [node],
                          inputs: zip(inputNames, inputs).map { ValueInfo(name: $0, type: .tensor($1.dtype, Shape($1.shape))) },
                          outputs: outputNames.map { ValueInfo(name: $0) })
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: opset)], graph: graph))
        let results = try plan.run(Dictionary(uniqueKeysWithValues: zip(inputNames, inputs)), context: ExecutionContext(threads: 2))
        return try outputNames.map { try #require(results[$0]) }
    }

    private func values<T>(_ t: EngineTensor, _ type: T.Type) -> [T] { Array(t.elements(T.self)) }

    @Test func broadcastingFollowsNumPy() throws {
        // [2, 1, 3] + [4, 1] → [2, 4, 3]: each operand repeats along the other's axes.
        let a = try tensor((0..<6).map(Float.init), .float, [2, 1, 3])
        let b = try tensor([0, 10, 20, 30] as [Float], .float, [4, 1])
        let sum = try run("Add", [a, b])[0]
        #expect(sum.shape == [2, 4, 3])
        var expected: [Float] = []
        for i in 0..<2 {
            for j in 0..<4 {
                for k in 0..<3 { expected.append(Float(i * 3 + k + j * 10)) }
            }
        }
        #expect(values(sum, Float.self) == expected)

        // A scalar on the left, integers, and a size-1 middle axis.
        let s = try tensor([100] as [Int32], .int32, [])
        let m = try tensor([1, 2, 3, 4, 5, 6] as [Int32], .int32, [3, 1, 2])
        let difference = try run("Sub", [s, m])[0]
        #expect(difference.shape == [3, 1, 2])
        #expect(values(difference, Int32.self) == [99, 98, 97, 96, 95, 94])

        let c = try tensor([1, 2, 3] as [Float], .float, [3])
        #expect(throws: ModelError.self) { try run("Mul", [c, try tensor([1, 2] as [Float], .float, [2])]) }
    }

    @Test func integerDivisionTruncatesAndNeverTraps() throws {
        let a = try tensor([7, -7, 7, -7, 5, Int32.min] as [Int32], .int32, [6])
        let b = try tensor([2, 2, -2, -2, 0, -1] as [Int32], .int32, [6])
        // Toward zero, as C and ONNX; division by zero is defined as 0; Int32.min / −1 wraps.
        #expect(values(try run("Div", [a, b])[0], Int32.self) == [3, -3, -3, 3, 0, Int32.min])
        // Mod takes the divisor's sign, fmod the dividend's; both give 0 for a zero divisor.
        #expect(values(try run("Mod", [a, b])[0], Int32.self) == [1, 1, -1, -1, 0, 0])
        #expect(values(try run("Mod", [a, b], attributes: ["fmod": .int(1)])[0], Int32.self) == [1, -1, 1, -1, 0, 0])
        let u = try tensor([200, 7] as [UInt8], .uint8, [2]), v = try tensor([3, 0] as [UInt8], .uint8, [2])
        #expect(values(try run("Div", [u, v])[0], UInt8.self) == [66, 0])
    }

    @Test func castRoundsAsTheSpecificationSays() throws {
        let x = try tensor([1.7, -1.7, 2.5, 300.5, -129.6] as [Float], .float, [5])
        // Real to integer truncates toward zero and keeps the low bits (300 → 44 in int8).
        #expect(values(try run("Cast", [x], attributes: ["to": .int(6)])[0], Int32.self) == [1, -1, 2, 300, -129])
        #expect(values(try run("Cast", [x], attributes: ["to": .int(3)])[0], Int8.self) == [1, -1, 2, 44, 127])

        // float32 → float16 and bfloat16 round to nearest even; too large becomes infinity.
        let wide = try tensor([1 + 1.0 / 2048, 1 + 3.0 / 2048, 70000, 1 + 1.0 / 256] as [Float], .float, [4])
        let half = values(try run("Cast", [wide], attributes: ["to": .int(10)])[0], UInt16.self)
        #expect(half == [0x3C00, 0x3C02, 0x7C00, 0x3C04])
        let brain = values(try run("Cast", [wide], attributes: ["to": .int(16)])[0], UInt16.self)
        #expect(brain == [0x3F80, 0x3F80, 0x4789, 0x3F80])

        // float8e4m3fn saturates at 448 unless saturate = 0, which gives NaN (0x7F).
        let big = try tensor([500, -1000, 0.3] as [Float], .float, [3])
        #expect(values(try run("Cast", [big], attributes: ["to": .int(17)])[0], UInt8.self) == [0x7E, 0xFE, 0x2A])
        #expect(values(try run("Cast", [big], attributes: ["to": .int(17), "saturate": .int(0)])[0], UInt8.self) == [0x7F, 0xFF, 0x2A])

        // Numbers to strings and back.
        let text = try run("Cast", [try tensor([0.5, -3] as [Float], .float, [2])], attributes: ["to": .int(8)])[0]
        #expect(text.strings == [Array("0.5".utf8), Array("-3.0".utf8)])
        let parsed = try run("Cast", [EngineTensor(strings: [Array("1e3".utf8), Array("-INF".utf8)], shape: [2])],
                             attributes: ["to": .int(1)])[0]
        #expect(values(parsed, Float.self) == [1000, -.infinity])
    }

    /// Casts to 4- and 2-bit integers round to nearest, ties to even, then keep
    /// the low bits (docs/CONFORMANCE.md): 2.5 → 2, −0.5 → 0, 7.5 → 8 → −8 in
    /// int4, −9 → 7, 16.4 → 16 → 0 in uint4.
    @Test func subByteCastsRoundToEvenThenKeepTheLowBits() throws {
        let x = try tensor([2.5, -0.5, 1.5, 7.5, -9, 16.4, -8.5, 3.49] as [Float], .float, [8])
        func unpacked(_ to: Int, width: Int, signed: Bool) throws -> [Int] {
            let packed = values(try run("Cast", [x], attributes: ["to": .int(Int64(to))])[0], UInt8.self)
            let perByte = 8 / width, mask = (1 << width) - 1
            return (0..<8).map { i in
                let bits = Int(packed[i / perByte] >> UInt8((i % perByte) * width)) & mask
                return signed && bits >= 1 << (width - 1) ? bits - (1 << width) : bits
            }
        }
        #expect(try unpacked(22, width: 4, signed: true) == [2, 0, 2, -8, 7, 0, -8, 3])    // int4
        #expect(try unpacked(21, width: 4, signed: false) == [2, 0, 2, 8, 7, 0, 8, 3])     // uint4
        #expect(try unpacked(26, width: 2, signed: true) == [-2, 0, -2, 0, -1, 0, 0, -1])  // int2
        #expect(try unpacked(25, width: 2, signed: false) == [2, 0, 2, 0, 3, 0, 0, 3])     // uint2
    }

    /// Float32 Add, Sub, Mul, Div and Relu run their own loops; they match
    /// the generic kernel on float64 (which rounds to the same float32: a
    /// double holds every exact sum, difference and product of two floats,
    /// and rounds each quotient innocuously) over same, scalar, per-channel
    /// and strided broadcasts.
    @Test func float32LoopsMatchTheGenericKernel() throws {
        var generator = SeededGenerator(seed: 77)
        func floats(_ shape: [Int]) -> [Float] {
            (0..<shape.reduce(1, *)).map { i in i % 13 == 5 ? [Float.nan, -0.0, .infinity, 0][i % 4] : Float.random(in: -4..<4, using: &generator) }
        }
        let shapes: [([Int], [Int])] = [([2, 3, 4, 5], [2, 3, 4, 5]), ([2, 3, 4, 5], []), ([], [3, 1, 1]), ([1, 3, 4, 5], [3, 1, 1]),
                                        ([2, 1, 4, 1], [1, 3, 1, 5]), ([70000], [70000]), ([4, 1], [4, 9])]
        for (left, right) in shapes {
            let (a, b) = (floats(left), floats(right))
            for op in ["Add", "Sub", "Mul", "Div"] {
                let single = try run(op, [try tensor(a, .float, left), try tensor(b, .float, right)])[0]
                let double = try run(op, [try tensor(a.map(Double.init), .double, left), try tensor(b.map(Double.init), .double, right)])[0]
                let got = values(single, Float.self), want = values(double, Double.self).map(Float.init)
                #expect(single.shape == double.shape)
                #expect(got.count == want.count && zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) },
                        "\(op) \(left) \(right)")
            }
        }
        let x = floats([3, 5000])
        let relu = values(try run("Relu", [try tensor(x, .float, [3, 5000])])[0], Float.self)
        let generic = values(try run("Relu", [try tensor(x.map(Double.init), .double, [3, 5000])])[0], Double.self).map(Float.init)
        #expect(zip(relu, generic).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) })
        #expect(relu.contains { $0.isNaN } && relu.contains { $0 == 0 && $0.sign == .minus })
    }

    @Test func reductionsKeepOrDropAxes() throws {
        let x = try tensor((1...12).map(Float.init), .float, [2, 3, 2])
        let axes = try tensor([1] as [Int64], .int64, [1])
        let kept = try run("ReduceSum", [x, axes])[0]
        #expect(kept.shape == [2, 1, 2])
        #expect(values(kept, Float.self) == [9, 12, 27, 30])
        let dropped = try run("ReduceSum", [x, axes], attributes: ["keepdims": .int(0)])[0]
        #expect(dropped.shape == [2, 2])
        #expect(values(dropped, Float.self) == [9, 12, 27, 30])

        // A negative axis, and the trailing-axis path.
        let last = try run("ReduceMax", [x, try tensor([-1] as [Int64], .int64, [1])], attributes: ["keepdims": .int(0)])[0]
        #expect(last.shape == [2, 3])
        #expect(values(last, Float.self) == [2, 4, 6, 8, 10, 12])

        // Attribute axes in older opsets; no axes reduces everything.
        let mean = try run("ReduceMean", [x], opset: 13)[0]
        #expect(mean.shape == [1, 1, 1])
        #expect(values(mean, Float.self) == [6.5])
        let outer = try run("ReduceMean", [x], attributes: ["axes": .ints([0, 2]), "keepdims": .int(0)], opset: 13)[0]
        #expect(values(outer, Float.self) == [4.5, 6.5, 8.5])
        // A float mean over trailing axes takes rows of its own (here 3 of 20
        // values, past the row kernel's eight lanes); an empty row is NaN.
        let rows = try tensor((0..<60).map(Float.init), .float, [3, 4, 5])
        let trailing = try run("ReduceMean", [rows], attributes: ["axes": .ints([1, 2]), "keepdims": .int(0)], opset: 13)[0]
        #expect(trailing.shape == [3])
        #expect(values(trailing, Float.self) == [9.5, 29.5, 49.5])
        let none = try run("ReduceMean", [try EngineTensor(dtype: .float, shape: [2, 0])], attributes: ["axes": .ints([1])], opset: 13)[0]
        #expect(values(none, Float.self).allSatisfy { $0.isNaN })

        // Integers sum exactly; an empty set gives the identity.
        let ints = try tensor([Int64.max, 1, 5, 6] as [Int64], .int64, [2, 2])
        #expect(values(try run("ReduceSum", [ints, axes])[0], Int64.self) == [Int64.min, 11])
        let empty = try EngineTensor(dtype: .float, shape: [2, 0])
        #expect(values(try run("ReduceProd", [empty, axes])[0], Float.self) == [1, 1])
        #expect(values(try run("ReduceMin", [empty, axes])[0], Float.self) == [.infinity, .infinity])
    }
}
