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
        let values: [JSONValue]
    }

    enum JSONValue: Decodable, Sendable {
        case number(Double)
        /// Integers are exact in the oracle; 64-bit extremes do not fit a Double.
        case integer(bitPattern: UInt64)
        case text(String)
        case pair([JSONValue])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            // Doubles first (an integer decode would turn -0.0 into 0); past 2^53 integers are read exactly.
            if let d = try? c.decode(Double.self), d.magnitude < 9_007_199_254_740_992 { self = .number(d) }
            else if let i = try? c.decode(Int64.self) { self = .integer(bitPattern: UInt64(bitPattern: i)) }
            else if let u = try? c.decode(UInt64.self) { self = .integer(bitPattern: u) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .text(s) }
            else { self = .pair(try c.decode([JSONValue].self)) }
        }

        var double: Double? {
            switch self {
            case .number(let d): return d
            case .integer(let bits): return Double(Int64(bitPattern: bits))
            case .text("nan"): return .nan
            case .text("inf"): return .infinity
            case .text("-inf"): return -.infinity
            default: return nil
            }
        }

        var bits: UInt64? {
            switch self {
            case .integer(let bits): return bits
            case .number(let d): return Int64(exactly: d).map { UInt64(bitPattern: $0) }
            default: return nil
            }
        }
    }

    static let expected: [Expected] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tensors/tensors.json")))
        return try! JSONDecoder().decode([Expected].self, from: data)
    }()

    static func same(_ a: Double, _ b: Double) -> Bool {
        (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
    }

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
                #expect(same(value.re, re) && same(value.im, im), "\(context): \(value) != (\(re), \(im))")
            }
        case .int64, .uint64:
            #expect(try tensor.int64Values().map { UInt64(bitPattern: $0) } == expected.values.map(\.bits), "\(context)")
        default:
            let values = try tensor.doubleValues()
            let wanted = expected.values.compactMap(\.double)
            #expect(values.count == wanted.count, "\(context)")
            for (i, (value, want)) in zip(values, wanted).enumerated() {
                #expect(same(value, want), "\(context) element \(i): \(value) != \(want)")
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
