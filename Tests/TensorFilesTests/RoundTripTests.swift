import Foundation
import ModelInfo
import Testing
import TestSupport
@testable import TensorFiles

/// What is written reads back equal, in every format and for every type the format holds.
@Suite struct RoundTripTests {
    static let formats: [(label: String, format: TensorFile.Format, suffix: String)] = [
        ("npy", .npy, ".npy"), ("npz", .npz(compressed: false), ".npz"),
        ("npz-deflated", .npz(compressed: true), ".npz"), ("pb", .tensorProto, ".pb"),
    ]

    static let shapes: [[Int]] = [[], [0], [2, 0, 3], [5], [3, 4], [2, 3, 4]]

    /// Writes each tensor to its own file named after it, reads it back.
    static func roundTrip(_ tensor: Tensor, format: TensorFile.Format, suffix: String) throws -> Tensor {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(tensor.name + suffix).path
        try TensorFile.write(tensor, to: path, format: format)
        let tensors = try TensorFile.read(path: path)
        try #require(tensors.count == 1)
        return tensors[0]
    }

    @Test(arguments: formats.map(\.label))
    func everyNumpyTypeAndShape(_ label: String) throws {
        let (_, format, suffix) = try #require(Self.formats.first { $0.label == label })
        for dtype in Helpers.numpyTypes + [.string] {
            for dims in Self.shapes {
                let tensor = try Helpers.tensor(dtype, dims: dims, name: "\(dtype.name)_\(dims.count)")
                #expect(try Self.roundTrip(tensor, format: format, suffix: suffix) == tensor, "\(dtype) \(dims)")
            }
        }
    }

    /// A TensorProto holds every ONNX type, including the ones numpy lacks.
    @Test func tensorProtoHoldsEveryONNXType() throws {
        for code in Int32(1)...28 {
            let dtype = DType(rawValue: code)
            let tensor = try Helpers.tensor(dtype, dims: [3, 5], name: "t\(code)")
            #expect(try Self.roundTrip(tensor, format: .tensorProto, suffix: ".pb") == tensor, "\(dtype)")
        }
    }

    @Test func tensorProtoKeepsTheDocString() throws {
        var tensor = try Helpers.tensor(.float, dims: [2])
        tensor.docString = "why this tensor exists"
        #expect(try Self.roundTrip(tensor, format: .tensorProto, suffix: ".pb").docString == tensor.docString)
    }

    @Test func serializedTensorProtoMatchesTheFile() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tensor = try Helpers.tensor(.int64, dims: [4])
        let path = folder.appendingPathComponent("t.pb").path
        try TensorFile.write(tensor, to: path, format: .tensorProto)
        #expect(try ONNXWriter.serializeTensor(tensor) == Helpers.read(path))
    }

    @Test func archiveKeepsOrderAndNames() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tensors = [try Helpers.tensor(.float, dims: [2, 2], name: "zeta"),
                       try Helpers.tensor(.int64, dims: [3], name: "alpha/beta"),
                       try Helpers.tensor(.string, dims: [2], name: "ünïcode"),
                       try Helpers.tensor(.bool, dims: [], name: "")]
        for compressed in [false, true] {
            let path = folder.appendingPathComponent("many.npz").path
            try TensorFile.write(tensors, to: path, format: .npz(compressed: compressed))
            #expect(try TensorFile.read(path: path) == tensors)
        }
    }

    /// ZIP64 fields everywhere (threshold 0) read back, here and in Python (NumpyInteropTests).
    @Test func zip64ArchiveReadsBack() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tensors = try Helpers.numpyTypes.map { try Helpers.tensor($0, dims: [3]) }
        for compressed in [false, true] {
            let path = folder.appendingPathComponent("zip64.npz").path
            try TensorFile.write(tensors, to: path, format: .npz(compressed: compressed), zip64Threshold: 0)
            let bytes = try Helpers.read(path)
            #expect(!Helpers.offsets(of: ZipReader.zip64EndRecordSignature, in: bytes).isEmpty)
            #expect(try TensorFile.read(path: path) == tensors)
        }
    }

    /// Data starts at a multiple of 64 in the file, in an .npy and in a stored .npz member.
    @Test func dataIsAligned() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tensors = try (0..<6).map { try Helpers.tensor(.float, dims: [$0 + 1], name: String(repeating: "n", count: $0 * 7 + 1)) }
        let npz = folder.appendingPathComponent("aligned.npz").path
        try TensorFile.write(tensors, to: npz, format: .npz(compressed: false))
        let npy = folder.appendingPathComponent("one.npy").path
        try TensorFile.write(tensors[3], to: npy, format: .npy)
        for tensor in try TensorFile.read(path: npz) + TensorFile.read(path: npy) {
            let region = try #require(tensor.bytes)
            #expect(region.isMapped)
            #expect(region.range.lowerBound % 64 == 0, "\(tensor.name) at \(region.range.lowerBound)")
        }
    }

    /// A header past version 1.0's 64 KB limit switches to version 2.0.
    @Test func longHeaderUsesVersion2() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tensor = try Helpers.tensor(.int16, dims: [Int](repeating: 1, count: 30_000) + [3], name: "tall")
        let path = folder.appendingPathComponent("tall.npy").path
        try TensorFile.write(tensor, to: path, format: .npy)
        let bytes = try Helpers.read(path)
        #expect(bytes[6] == 2)
        #expect((bytes.count - 6) % 64 == 0)
        #expect(try TensorFile.read(path: path) == [tensor])
    }

    @Test func headerOverTheLimitIsNotWritten() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let tensor = try Helpers.tensor(.int8, dims: [Int](repeating: 1, count: 400_000), name: "taller")
        let path = folder.appendingPathComponent("taller.npy").path
        #expect(throws: ModelError.self) { try TensorFile.write(tensor, to: path, format: .npy) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func writtenHeaderIsNumpys() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("x.npy").path
        try TensorFile.write(try Helpers.tensor(.float, dims: [2, 3]), to: path, format: .npy)
        let bytes = try Helpers.read(path)
        let text = String(decoding: bytes[10..<128], as: UTF8.self)
        #expect(bytes.count == 128 + 24)
        #expect(text.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(text.hasSuffix(" \n"))
    }

    @Test func writingRefusesWhatTheFormatCannotHold() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("out.npy").path
        func message(_ tensors: [Tensor], _ format: TensorFile.Format) -> String {
            do {
                try TensorFile.write(tensors, to: path, format: format)
                return "written"
            } catch {
                #expect(error.file == path)
                return error.message
            }
        }
        let bfloat = try Helpers.tensor(.bfloat16, dims: [2])
        #expect(message([bfloat], .npy).contains("numpy has no type"))
        #expect(message([bfloat], .npz(compressed: true)).contains("numpy has no type"))
        let two = [try Helpers.tensor(.float, dims: [1], name: "a"), try Helpers.tensor(.float, dims: [1], name: "a")]
        #expect(message(two, .npy).contains("holds one tensor"))
        #expect(message(two, .tensorProto).contains("holds one tensor"))
        #expect(message(two, .npz(compressed: false)).contains("distinct names"))
        let latin1 = try Tensor(name: "s", dtype: .string, dims: [1], storage: .strings([[0xE9]]))
        #expect(message([latin1], .npy).contains("not UTF-8"))
        let padded = try Tensor(name: "s", dtype: .string, dims: [1], storage: .strings([[0x61, 0]]))
        #expect(message([padded], .npy).contains("ends with NUL"))
        let nul = try Tensor(name: "a\u{0}b", dtype: .float, dims: [0], storage: .bytes(ByteRegion(copying: [])))
        #expect(message([nul], .tensorProto).contains("NUL"))
        #expect(message([nul], .npz(compressed: false)).contains("NUL"))
        // No failed write leaves a file behind, final or temporary.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func writingIntoAMissingFolderFails() throws {
        let tensor = try Helpers.tensor(.float, dims: [1])
        #expect(throws: ModelError.self) {
            try TensorFile.write(tensor, to: "/nonexistent-folder-for-tests/x.npy", format: .npy)
        }
    }

    @Test func formatFromExtension() {
        #expect(TensorFile.Format(extensionOf: "a/b/input_0.pb") == .tensorProto)
        #expect(TensorFile.Format(extensionOf: "x.NPY") == .npy)
        #expect(TensorFile.Format(extensionOf: "dir.npz/x.npz") == .npz(compressed: false))
        #expect(TensorFile.Format(extensionOf: "npy") == nil)
        #expect(TensorFile.Format(extensionOf: "x.onnx") == nil)
    }
}
