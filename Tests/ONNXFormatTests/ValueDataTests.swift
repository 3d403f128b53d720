import Foundation
import ModelInfo
import Testing

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
}
