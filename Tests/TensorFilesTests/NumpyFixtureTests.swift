import Foundation
import ModelInfo
import Testing
import TestSupport

/// Files written by numpy itself (and one by onnx's numpy_helper) read back
/// to the values numpy reports (`Fixtures/tensors/tensors.json`, written by
/// Tools/make-tensor-fixtures).
@Suite struct NumpyFixtureTests {
    struct Expected: Decodable, Sendable {
        let file: String
        let name: String
        let dtype: String
        let dims: [Int]
        let values: [OracleValue]
    }

    static let expected: [Expected] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tensors/tensors.json")))
        return try! JSONDecoder().decode([Expected].self, from: data)
    }()

    @Test(arguments: Set(expected.map(\.file)).sorted())
    func readsLikeNumpy(_ file: String) throws {
        let oracle = Self.expected.filter { $0.file == file }
        let tensors = try TensorFile.read(path: Fixtures.path("tensors/" + file))
        #expect(tensors.map(\.name) == oracle.map(\.name))
        for (tensor, expected) in zip(tensors, oracle) {
            #expect(tensor.dims == expected.dims, "\(file) \(tensor.name)")
            #expect(tensor.dtype.name == expected.dtype, "\(file) \(tensor.name)")
            try Self.compare(tensor, expected)
        }
    }

    static func compare(_ tensor: Tensor, _ expected: Expected) throws {
        let context = "\(expected.file) \(expected.name)"
        switch tensor.dtype {
        case .string:
            let strings = try tensor.stringValues().map { String(decoding: $0, as: UTF8.self) }
            #expect(strings == expected.values.map { if case .text(let s) = $0 { return s } else { return "?" } }, "\(context)")
        case .complex64, .complex128:
            let values = try tensor.complexValues()
            #expect(values.count == expected.values.count, "\(context)")
            for (value, wanted) in zip(values, expected.values) {
                guard case .pair(let parts) = wanted, let re = parts[0].double, let im = parts[1].double else {
                    Issue.record("\(context): oracle entry is not a pair")
                    continue
                }
                #expect(OracleValue.same(value.re, re) && OracleValue.same(value.im, im), "\(context): \(value) != (\(re), \(im))")
            }
        case .int64, .uint64:
            #expect(try tensor.int64Values().map { UInt64(bitPattern: $0) } == expected.values.map(\.bits), "\(context)")
        default:
            let values = try tensor.doubleValues()
            let wanted = expected.values.compactMap(\.double)
            #expect(values.count == wanted.count, "\(context)")
            for (i, (value, want)) in zip(values, wanted).enumerated() {
                #expect(OracleValue.same(value, want), "\(context) element \(i): \(value) != \(want)")
            }
        }
    }

    @Test func everyFixtureIsInTheOracle() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.path("tensors"))
        let covered = Set(Self.expected.map(\.file)).union(["tensors.json", "empty.npz"])
        #expect(Set(files) == covered)
        let dtypes = Set(Self.expected.map(\.dtype))
        for dtype in Helpers.numpyTypes + [.string] {
            #expect(dtypes.contains(dtype.name), "no fixture of \(dtype)")
        }
    }

    @Test func emptyArchiveHoldsNoTensors() throws {
        #expect(try TensorFile.read(path: Fixtures.path("tensors/empty.npz")).isEmpty)
    }

    /// Little-endian C-order data is used where it lies in the mapped file,
    /// whether in an .npy or a stored .npz member; the rest is converted.
    @Test func littleEndianDataIsMappedNotCopied() throws {
        for file in ["float32.npy", "int8.npy", "header-v2.npy", "scalar.npy", "stored.npz"] {
            for tensor in try TensorFile.read(path: Fixtures.path("tensors/" + file)) where tensor.dtype != .string {
                #expect(tensor.bytes?.isMapped == true, "\(file) \(tensor.name) was copied")
            }
        }
        for file in ["fortran.npy", "big-endian.npy", "compressed.npz"] {
            for tensor in try TensorFile.read(path: Fixtures.path("tensors/" + file)) where tensor.dtype != .string {
                #expect(tensor.bytes?.isMapped == false, "\(file) \(tensor.name)")
            }
        }
    }

    /// A 1-D Fortran-order array has the same layout as C order and stays mapped.
    @Test func oneDimensionalFortranOrderNeedsNoCopy() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let header = Helpers.padded(Helpers.dictionary(descr: "<i2", fortran: "True", shape: "(1, 3, 1)"))
        let path = try Helpers.write(Helpers.npy(header, data: [1, 0, 2, 0, 3, 0]), "column.npy", in: folder)
        let tensor = try #require(try TensorFile.read(path: path).first)
        #expect(try tensor.int64Values() == [1, 2, 3])
        #expect(tensor.bytes?.isMapped == true)
    }
}
