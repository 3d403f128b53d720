import Foundation
import ModelInfo
import Testing
import TestSupport

/// Test data of sequences and optionals (`SequenceProto`, `OptionalProto`
/// files): read through the same pre-pass and checks as a tensor file.
@Suite struct ValueDataTests {
    /// A serialized float TensorProto of shape [count] whose raw data holds `values` (little-endian).
    private func tensor(_ values: [Float], count: Int) -> [UInt8] {
        let raw = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        return [0x08, UInt8(count), 0x10, 0x01, 0x4A, UInt8(raw.count)] + raw
    }

    /// `bytes` as a length-delimited field `number`.
    private func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] { [number << 3 | 2, UInt8(bytes.count)] + bytes }

    private func read(_ bytes: [UInt8], as type: ValueType) throws -> StoredValue {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("value-\(UUID().uuidString).pb").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try ONNXReader.readValue(path: path, type: type)
    }

    private let sequenceType = ValueType.sequence(.tensor(.float, nil))

    @Test func sequenceOfTensorsReadsInOrder() throws {
        let bytes: [UInt8] = [0x10, 0x01] + field(3, tensor([1, 2], count: 2)) + field(3, tensor([3], count: 1))
        guard case .sequence(let elements) = try read(bytes, as: sequenceType), elements.count == 2,
              case .tensor(let first) = elements[0], case .tensor(let second) = elements[1] else {
            Issue.record("not a sequence of two tensors")
            return
        }
        #expect(first.dims == [2])
        #expect(second.dims == [1])
    }

    @Test func optionalIsEmptyOrHoldsItsElement() throws {
        guard case .optional(nil) = try read([0x10, 0x00], as: .optional(.tensor(.float, nil))) else {
            Issue.record("not an empty optional")
            return
        }
        let bytes: [UInt8] = [0x10, 0x01] + field(3, tensor([5], count: 1))
        guard case .optional(.tensor(let tensor)?) = try read(bytes, as: .optional(.tensor(.float, nil))) else {
            Issue.record("not an optional tensor")
            return
        }
        #expect(tensor.dims == [1])
    }

    @Test func anElementFailsItsTensorChecks() throws {
        // The element declares two floats and stores one.
        let short: [UInt8] = [0x10, 0x01] + field(3, tensor([1], count: 2))
        #expect(throws: ModelError.self) { try read(short, as: sequenceType) }
        // The element's length runs past the end of the file.
        let whole: [UInt8] = [0x10, 0x01] + field(3, tensor([1, 2], count: 2))
        #expect(throws: ModelError.self) { try read(Array(whole.dropLast(3)), as: sequenceType) }
        // Tensors stored under a sequence-of-sequences element type.
        let mismatched: [UInt8] = [0x10, 0x03] + field(3, tensor([1], count: 1))
        #expect(throws: ModelError.self) { try read(mismatched, as: sequenceType) }
    }

    /// What `writeValue` writes, `readValue` reads back the same; python's
    /// onnx reads the suite's own files, so the suite's files round-trip too.
    @Test func writtenValuesReadBackTheSame() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("values-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let one = try Tensor(name: "", dtype: .float, dims: [2], storage: .bytes(ByteRegion(copying: tensor([1, 2], count: 2).suffix(8))))
        let two = try Tensor(name: "", dtype: .float, dims: [1], storage: .bytes(ByteRegion(copying: tensor([3], count: 1).suffix(4))))
        let cases: [(StoredValue, ValueType)] = [
            (.sequence([.tensor(one), .tensor(two)]), sequenceType),
            (.sequence([]), sequenceType),
            (.optional(nil), .optional(.tensor(.float, nil))),
            (.optional(.sequence([.tensor(two)])), .optional(sequenceType)),
            (.sequence([.optional(nil), .optional(.tensor(one))]), .sequence(.optional(.tensor(.float, nil)))),
        ]
        for (k, (value, type)) in cases.enumerated() {
            let path = folder.appendingPathComponent("\(k).pb").path
            try ONNXWriter.writeValue(value, to: path)
            #expect(try ONNXReader.readValue(path: path, type: type) == value, "case \(k)")
        }
        #expect(throws: ModelError.self) { try ONNXWriter.writeValue(.sequence([.tensor(one), .optional(nil)]), to: folder.appendingPathComponent("mixed.pb").path) }
        for name in ["test_split_to_sequence_1", "test_optional_get_element_optional_sequence"] {
            let data = Fixtures.onnxSuite.appendingPathComponent(name + "/test_data_set_0")
            let model = try ONNXReader.read(path: Fixtures.onnxSuite.appendingPathComponent(name + "/model.onnx").path)
            for (prefix, infos) in [("input", model.graph.runtimeInputs), ("output", model.graph.outputs)] {
                for (k, info) in infos.enumerated() {
                    let original = try ONNXReader.readValue(path: data.appendingPathComponent("\(prefix)_\(k).pb").path, type: info.type)
                    let path = folder.appendingPathComponent("\(name)-\(prefix)-\(k).pb").path
                    try ONNXWriter.writeValue(original, to: path)
                    #expect(try ONNXReader.readValue(path: path, type: info.type) == original, "\(name) \(info.name)")
                }
            }
        }
    }
}
