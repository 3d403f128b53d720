internal import CKernels
@testable import Engine
import ModelInfo
import Testing

/// float16 and bfloat16 models: the vectorised conversions against Swift's
/// own rounding, and a small CNN run in each half type against float32.
@Suite struct HalfPrecisionTests {
    /// Values that exercise rounding, overflow, subnormals and NaN.
    private static let awkward: [Float] = {
        var generator = SeededGenerator(seed: 7)
        var values: [Float] = [0, -0, 1, -1, 65504, 65520, 1e6, -1e6, 6e-8, 3e-8, Float(bitPattern: 0x0000_4E20), .infinity, -.infinity, .nan,
                               Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFC0_1234), 1.00048828125, 3.4e38]
        values += (0..<1000).map { _ in Float.random(in: -70000..<70000, using: &generator) }
        values += (0..<1000).map { _ in Float.random(in: -1..<1, using: &generator) * 1e-4 }
        return values
    }()

    @Test func float16ConversionRoundsAsSwiftDoes() {
        let values = Self.awkward
        var half = [UInt16](repeating: 0, count: values.count)
        ck_f32_to_f16(values, &half, values.count)
        var back = [Float](repeating: 0, count: values.count)
        ck_f16_to_f32(half, &back, values.count)
        for (i, v) in values.enumerated() {
            let expected = Float16(v)
            if v.isNaN {
                #expect(Float16(bitPattern: half[i]).isNaN && back[i].isNaN, "element \(i)")
            } else {
                #expect(half[i] == expected.bitPattern, "element \(i): \(v)")
                #expect(back[i] == Float(expected), "element \(i): \(v)")
            }
        }
    }

    @Test func bfloat16ConversionRoundsAsTheCodecDoes() {
        let values = Self.awkward
        var half = [UInt16](repeating: 0, count: values.count)
        ck_f32_to_bf16(values, &half, values.count)
        var back = [Float](repeating: 0, count: values.count)
        ck_bf16_to_f32(half, &back, values.count)
        for (i, v) in values.enumerated() {
            #expect(half[i] == ElementCodec.bfloat16Bits(v), "element \(i): \(v)")
            let expected = ElementCodec.float(bfloat16Bits: half[i])
            #expect(back[i].bitPattern == expected.bitPattern, "element \(i)")
        }
    }

    /// Conv → BatchNormalization → Relu → MaxPool → Conv → GlobalAveragePool
    /// → Flatten → Gemm → Softmax, every tensor of `dtype`, the weights
    /// seeded values rounded to `rounding` so that the float32 reference sees the same numbers.
    private static func network(_ dtype: DType, rounding: DType) throws -> (plan: ExecutionPlan, input: EngineTensor) {
        var generator = SeededGenerator(seed: 3)
        func values(_ count: Int, positive: Bool = false) -> [Float] {
            (0..<count).map { _ in
                let v = Float.random(in: -1..<1, using: &generator)
                let rounded = Float(Float16(positive ? 0.5 + abs(v) : v))
                return rounding == .bfloat16 ? ElementCodec.float(bfloat16Bits: ElementCodec.bfloat16Bits(rounded)) : rounded
            }
        }
        func bytes(_ floats: [Float]) -> [UInt8] {
            switch dtype {
            case .float16: return floats.map { Float16($0).bitPattern }.withUnsafeBytes { Array($0) }
            case .bfloat16: return floats.map { ElementCodec.bfloat16Bits($0) }.withUnsafeBytes { Array($0) }
            default: return floats.withUnsafeBytes { Array($0) }
            }
        }
        var initializers: [Tensor] = []
        func stored(_ name: String, _ shape: [Int], positive: Bool = false) throws {
            let region = ByteRegion(copying: bytes(values(shape.reduce(1, *), positive: positive)))
            initializers.append(try Tensor(name: name, dtype: dtype, dims: shape, storage: .bytes(region)))
        }
        try stored("w1", [8, 3, 3, 3]); try stored("b1", [8])
        for name in ["scale", "shift", "mean"] { try stored(name, [8]) }
        try stored("var", [8], positive: true)
        try stored("w2", [16, 8, 3, 3])
        try stored("fc", [10, 16]); try stored("fcb", [10])
        func ints(_ name: String, _ v: [Int64]) -> Attribute { Attribute(name: name, value: .ints(v)) }
        let nodes = [
            Node(name: "conv1", opType: "Conv", inputs: ["x", "w1", "b1"], outputs: ["c1"], attributes: [ints("pads", [1, 1, 1, 1])]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c1", "scale", "shift", "mean", "var"], outputs: ["n"]),
            Node(name: "relu", opType: "Relu", inputs: ["n"], outputs: ["r"]),
            Node(name: "pool", opType: "MaxPool", inputs: ["r"], outputs: ["p"], attributes: [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])]),
            Node(name: "conv2", opType: "Conv", inputs: ["p", "w2"], outputs: ["c2"]),
            Node(name: "gap", opType: "GlobalAveragePool", inputs: ["c2"], outputs: ["g"]),
            Node(name: "flat", opType: "Flatten", inputs: ["g"], outputs: ["f"]),
            Node(name: "fc", opType: "Gemm", inputs: ["f", "fc", "fcb"], outputs: ["z"], attributes: [Attribute(name: "transB", value: .int(1))]),
            Node(name: "softmax", opType: "Softmax", inputs: ["z"], outputs: ["y"]),
        ]
        let graph = Graph(nodes: nodes, initializers: initializers, inputs: [ValueInfo(name: "x", type: .tensor(dtype, Shape([1, 3, 12, 12])))],
                          outputs: [ValueInfo(name: "y")])
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 17)], graph: graph))
        let input = try EngineTensor(dtype: dtype, shape: [1, 3, 12, 12])
        let data = bytes(values(input.count))
        input.buffer.base.copyMemory(from: data, byteCount: data.count)
        return (plan, input)
    }

    @Test(arguments: [(DType.float16, Float(2e-3)), (.bfloat16, 2e-2)])
    func convolutionalNetworkMatchesFloat32(dtype: DType, tolerance: Float) throws {
        let reference = try Self.network(.float, rounding: dtype), half = try Self.network(dtype, rounding: dtype)
        let context = ExecutionContext(threads: 2)
        let expected = try #require(try reference.plan.run(["x": reference.input], context: context).values.first)
        let output = try #require(try half.plan.run(["x": half.input], context: context).values.first)
        #expect(output.dtype == dtype)
        let widened = try HalfPrecision.widen(output)
        var worst: Float = 0
        for i in 0..<expected.count { worst = max(worst, abs(widened.floats[i] - expected.floats[i])) }
        #expect(worst < tolerance, "largest difference \(worst)")
        #expect(expected.floats.reduce(0, +) > 0.99)
    }
}
