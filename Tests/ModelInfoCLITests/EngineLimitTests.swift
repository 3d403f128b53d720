import Foundation
import ModelInfo
import Testing
import TestSupport

/// Sizes and trip counts from a file are requests: one past the engine's
/// limits ends in exit 1 and a one-line message, never an abort or a hang.
@Suite struct EngineLimitTests {
    static func write(_ graph: Graph, _ name: String) throws -> String {
        let path = try Fixtures.temporaryFolder().appendingPathComponent(name).path
        try ONNXWriter().write(Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: graph), to: path)
        return path
    }

    static func int64(_ name: String, _ values: [Int64], dims: [Int]? = nil) throws -> Tensor {
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        return try Tensor(name: name, dtype: .int64, dims: dims ?? [values.count], storage: .bytes(ByteRegion(copying: bytes)))
    }

    static func expectLimit(_ arguments: [String], mentioning text: String) throws {
        let result = try CommandLineTool.run(arguments)
        #expect(result.status == 1, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(text), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
    }

    /// ConstantOfShape of 2^40 float32 elements: 4 TiB.
    @Test func aHugeIntermediateIsRefused() throws {
        let path = try Self.write(Graph(
            nodes: [Node(name: "fill", opType: "ConstantOfShape", inputs: ["shape"], outputs: ["y"])],
            initializers: [try Self.int64("shape", [1 << 40])], outputs: [ValueInfo(name: "y")]), "huge.onnx")
        try Self.expectLimit(["run", path], mentioning: "memory limit")
    }

    /// A declared input of 2^31 float32 elements cannot be made up as random data under a 1 GiB limit.
    @Test func aHugeDeclaredInputIsRefused() throws {
        let path = try Self.write(Graph(
            nodes: [Node(name: "copy", opType: "Identity", inputs: ["x"], outputs: ["y"])],
            inputs: [ValueInfo(name: "x", type: .tensor(.float, [1, 1 << 31]))], outputs: [ValueInfo(name: "y")]), "wide.onnx")
        try Self.expectLimit(["run", path, "--max-memory", "1G"], mentioning: "memory limit of 1073741824 bytes")
    }

    /// Range over 715 M values would build a 5.7 GB list before the tensor.
    @Test func aHugeRangeIsRefused() throws {
        let path = try Self.write(Graph(
            nodes: [Node(name: "range", opType: "Range", inputs: ["start", "limit", "delta"], outputs: ["y"])],
            initializers: [try Self.int64("start", [0], dims: []), try Self.int64("limit", [715_000_000], dims: []),
                           try Self.int64("delta", [1], dims: [])],
            outputs: [ValueInfo(name: "y")]), "range.onnx")
        try Self.expectLimit(["run", path, "--max-memory", "1G"], mentioning: "memory limit")
    }

    /// A body of `i → i` looped 2^62 times while the condition stays true.
    static func loop(tripCount: Int64, condition: Bool) throws -> String {
        let body = Graph(
            nodes: [Node(name: "keep", opType: "Identity", inputs: ["cond_in"], outputs: ["cond_out"]),
                    Node(name: "same", opType: "Identity", inputs: ["v_in"], outputs: ["v_out"])],
            inputs: [ValueInfo(name: "i", type: .tensor(.int64, [])), ValueInfo(name: "cond_in", type: .tensor(.bool, [])),
                     ValueInfo(name: "v_in", type: .tensor(.int64, []))],
            outputs: [ValueInfo(name: "cond_out", type: .tensor(.bool, [])), ValueInfo(name: "v_out", type: .tensor(.int64, []))])
        let yes = try Tensor(name: "go", dtype: .bool, dims: [], storage: .bytes(ByteRegion(copying: [1])))
        return try write(Graph(
            nodes: [Node(name: "loop", opType: "Loop", inputs: ["M", condition ? "go" : "", "v0"], outputs: ["v"],
                         attributes: [Attribute(name: "body", value: .graph(body))])],
            initializers: [try int64("M", [tripCount], dims: []), try int64("v0", [7], dims: []), yes],
            outputs: [ValueInfo(name: "v")]), "loop-\(condition).onnx")
    }

    @Test func aLoopPastTheIterationLimitEnds() throws {
        try Self.expectLimit(["run", try Self.loop(tripCount: 1 << 31, condition: false)], mentioning: "Loop iterations")
        try Self.expectLimit(["run", try Self.loop(tripCount: 1 << 62, condition: true), "--max-loop-iterations", "1000"],
                             mentioning: "still running after 1000 iterations")
        let within = try CommandLineTool.run(["run", try Self.loop(tripCount: 1000, condition: true), "--max-loop-iterations", "1000",
                                              "-o", try Fixtures.temporaryFolder().path])
        #expect(within.status == 0, "\(within.stderr)")
    }

    @Test func badLimitsAreUsageErrors() throws {
        #expect(try CommandLineTool.run(["run", "Fixtures/valid/tiny-cnn.onnx", "--max-memory", "lots"]).status == 2)
        #expect(try CommandLineTool.run(["run", "Fixtures/valid/tiny-cnn.onnx", "--max-loop-iterations", "-1"]).status == 2)
    }
}
