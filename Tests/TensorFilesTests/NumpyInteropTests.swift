import Foundation
import ModelInfo
import Testing
import TestSupport
@testable import TensorFiles

/// numpy and onnx read the files this project writes: every type, stored,
/// deflated and ZIP64 archives, TensorProtos of every ONNX type. Needs the
/// repository's venv (Tools/bootstrap); without it the test fails.
@Suite struct NumpyInteropTests {
    /// What Python saw in one tensor.
    struct Seen: Decodable {
        let name: String
        let descr: String?
        let dtype: Int32?
        let shape: [Int]
        let hex: String?
        let strings: [String]?
    }

    /// Loads every path given and prints what it holds as JSON. `np.load`
    /// checks each member's CRC; `testzip` checks the whole archive again.
    static let script = """
    import json, sys, zipfile
    import numpy as np
    import onnx
    from onnx import numpy_helper

    def array(name, value):
        entry = {"name": name, "descr": value.dtype.str, "shape": list(value.shape)}
        if value.dtype.kind == "U":
            entry["strings"] = [str(x) for x in value.ravel()]
        else:
            entry["hex"] = np.ascontiguousarray(value).tobytes().hex()
        return entry

    seen = {}
    for path in sys.argv[1:]:
        if path.endswith(".npy"):
            seen[path] = [array(path.rsplit("/", 1)[1][:-4], np.load(path))]
        elif path.endswith(".npz"):
            assert zipfile.ZipFile(path).testzip() is None
            with np.load(path) as archive:
                seen[path] = [array(key, archive[key]) for key in archive.files]
        else:
            tensor = onnx.load_tensor(path)
            assert list(numpy_helper.to_array(tensor).shape) == list(tensor.dims)
            seen[path] = [{"name": tensor.name, "dtype": tensor.data_type, "shape": list(tensor.dims),
                           "hex": tensor.raw_data.hex(), "strings": [s.decode() for s in tensor.string_data]}]
    print(json.dumps(seen))
    """

    static let descrs: [DType: String] = [
        .float: "<f4", .uint8: "|u1", .int8: "|i1", .uint16: "<u2", .int16: "<i2", .int32: "<i4", .int64: "<i8",
        .bool: "|b1", .float16: "<f2", .double: "<f8", .uint32: "<u4", .uint64: "<u8", .complex64: "<c8", .complex128: "<c16",
    ]

    static func hex(_ tensor: Tensor) -> String {
        (tensor.bytes?.array ?? []).map { String(format: "%02x", $0) }.joined()
    }

    @Test func numpyAndONNXReadWhatWeWrite() throws {
        let python = Fixtures.root.appendingPathComponent(".venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "no \(python): run Tools/bootstrap")
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }

        var expected: [String: [Tensor]] = [:]
        func write(_ tensors: [Tensor], _ name: String, _ format: TensorFile.Format, zip64Threshold: Int = Int(UInt32.max)) throws {
            let path = folder.appendingPathComponent(name).path
            try TensorFile.write(tensors, to: path, format: format, zip64Threshold: zip64Threshold)
            expected[path] = tensors
        }
        let numpyTensors = try (Helpers.numpyTypes + [.string]).map { try Helpers.tensor($0, dims: [2, 3]) }
            + [try Helpers.tensor(.double, dims: [], name: "scalar"), try Helpers.tensor(.float, dims: [0, 4], name: "empty")]
        for tensor in numpyTensors {
            try write([tensor], tensor.name + ".npy", .npy)
        }
        try write(numpyTensors, "stored.npz", .npz(compressed: false))
        try write(numpyTensors, "deflated.npz", .npz(compressed: true))
        try write(numpyTensors, "zip64.npz", .npz(compressed: false), zip64Threshold: 0)
        try write(numpyTensors, "zip64-deflated.npz", .npz(compressed: true), zip64Threshold: 0)
        for code in Int32(1)...28 {
            let tensor = try Helpers.tensor(DType(rawValue: code), dims: [2, 3], name: "t\(code)")
            try write([tensor], "t\(code).pb", .tensorProto)
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", Self.script] + expected.keys.sorted()
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python failed: \(String(decoding: stderr, as: UTF8.self))")

        let seen = try JSONDecoder().decode([String: [Seen]].self, from: stdout)
        #expect(Set(seen.keys) == Set(expected.keys))
        for (path, tensors) in expected {
            let found = try #require(seen[path], "\(path)")
            #expect(found.map(\.name) == tensors.map(\.name), "\(path)")
            for (tensor, entry) in zip(tensors, found) {
                let context = "\(path) \(tensor.name)"
                #expect(entry.shape == tensor.dims, "\(context)")
                if path.hasSuffix(".pb") {
                    #expect(entry.dtype == tensor.dtype.rawValue, "\(context)")
                }
                if tensor.dtype == .string {
                    let strings = try tensor.stringValues().map { String(decoding: $0, as: UTF8.self) }
                    #expect(entry.strings == strings, "\(context)")
                    if !path.hasSuffix(".pb") { #expect(entry.descr?.hasPrefix("<U") == true, "\(context)") }
                } else {
                    #expect(entry.hex == Self.hex(tensor), "\(context)")
                    if !path.hasSuffix(".pb") { #expect(entry.descr == Self.descrs[tensor.dtype], "\(context)") }
                }
            }
        }
    }
}
