import Foundation
import ModelInfo
import Testing
import TestSupport

/// Tensors, files and byte surgery shared by the tensor-file tests.
enum Helpers {
    /// The ONNX types that numpy has, in the order of their codes.
    static let numpyTypes: [DType] = [.float, .uint8, .int8, .uint16, .int16, .int32, .int64, .bool, .float16,
                                      .double, .uint32, .uint64, .complex64, .complex128]

    /// A tensor of `dtype` with seeded random contents (bool as 0/1, strings as varied UTF-8).
    static func tensor(_ dtype: DType, dims: [Int], name: String? = nil, seed: UInt64 = 1) throws -> Tensor {
        var random = SeededGenerator(seed: seed &+ UInt64(dtype.rawValue))
        let count = dims.reduce(1, *)
        let name = name ?? dtype.name
        if dtype == .string {
            let pieces = ["", "a", "héllo", "日本語", "🙂", "tab\there", "x\u{0}y", "long string with spaces"]
            let values = (0..<count).map { _ in Array(pieces[Int(random.next() % UInt64(pieces.count))].utf8) }
            return try Tensor(name: name, dtype: .string, dims: dims, storage: .strings(values))
        }
        let byteCount = try #require(dtype.byteCount(elements: count))
        var bytes = (0..<byteCount).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        if dtype == .bool { bytes = bytes.map { $0 & 1 } }
        return try Tensor(name: name, dtype: dtype, dims: dims, storage: .bytes(ByteRegion(copying: bytes)))
    }

    /// A fresh temporary folder for one test.
    static func folder() throws -> URL { try Fixtures.temporaryFolder() }

    /// Writes `bytes` to `name` in `folder` and returns the path.
    @discardableResult
    static func write(_ bytes: [UInt8], _ name: String, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A `.npy` made by hand: magic, version, header length, `header` as given, then `data`.
    static func npy(_ header: String, data: [UInt8] = [], major: UInt8 = 1, length: Int? = nil) -> [UInt8] {
        let text = Array(header.utf8)
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
        let declared = length ?? text.count
        if major == 1 {
            bytes += [UInt8(declared & 0xFF), UInt8((declared >> 8) & 0xFF)]
        } else {
            bytes += (0..<4).map { UInt8((declared >> (8 * $0)) & 0xFF) }
        }
        return bytes + text + data
    }

    /// A header dictionary as numpy writes it.
    static func dictionary(descr: String = "<f4", fortran: String = "False", shape: String = "(2,)") -> String {
        "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }\n"
    }

    /// `header` padded with spaces so that a version 1.0 file's data starts at a multiple of 64.
    static func padded(_ header: String) -> String {
        header + String(repeating: " ", count: (64 - (10 + header.utf8.count) % 64) % 64)
    }

    /// Offsets of every occurrence of a 4-byte little-endian signature.
    static func offsets(of signature: UInt32, in bytes: [UInt8]) -> [Int] {
        let pattern = (0..<4).map { UInt8((signature >> (8 * UInt32($0))) & 0xFF) }
        guard bytes.count >= 4 else { return [] }
        return (0...(bytes.count - 4)).filter { Array(bytes[$0..<($0 + 4)]) == pattern }
    }

    static func store16(_ value: UInt16, at offset: Int, in bytes: inout [UInt8]) {
        bytes[offset] = UInt8(value & 0xFF)
        bytes[offset + 1] = UInt8(value >> 8)
    }

    static func store32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for i in 0..<4 { bytes[offset + i] = UInt8((value >> (8 * UInt32(i))) & 0xFF) }
    }

    static func load32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
    }

    /// Reads `path`, which must fail; returns the error.
    static func failure(reading path: String) -> ModelError? {
        do {
            _ = try TensorFile.read(path: path)
            return nil
        } catch {
            return error
        }
    }
}
