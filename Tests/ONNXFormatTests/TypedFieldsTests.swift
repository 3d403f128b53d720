import Foundation
import ModelInfo
import Testing
import TestSupport

/// Every ONNX element type decodes to the values that onnx's own numpy_helper
/// reports (the oracle `typed-fields.json`, written by Tools/make-fixtures),
/// whether stored in `raw_data` or in the typed field the specification names.
@Suite struct TypedFieldsTests {
    struct Expected: Decodable, Sendable {
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
            // Doubles first (an integer decode would turn -0.0 into 0); past
            // 2^53 a Double is inexact, so such integers are read exactly.
            if let d = try? c.decode(Double.self), d.magnitude < 9_007_199_254_740_992 { self = .number(d) }
            else if let i = try? c.decode(Int64.self) { self = .integer(bitPattern: UInt64(bitPattern: i)) }
            else if let u = try? c.decode(UInt64.self) { self = .integer(bitPattern: u) }
            else if let d = try? c.decode(Double.self) { self = .number(d) }
            else if let s = try? c.decode(String.self) { self = .text(s) }
            else { self = .pair(try c.decode([JSONValue].self)) }
        }

        /// The number, with "nan"/"inf"/"-inf" spelled as strings in the oracle.
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
    }

    static let expected: [Expected] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("valid/typed-fields.json")))
        return try! JSONDecoder().decode([Expected].self, from: data)
    }()

    static func same(_ a: Double, _ b: Double) -> Bool {
        (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
    }

    @Test func coversEveryKnownDType() throws {
        let model = try ONNXReader.read(path: Fixtures.path("valid/typed-fields.onnx"))
        let dtypes = Set(model.graph.initializers.map(\.dtype))
        for code in Int32(1)...28 {
            #expect(dtypes.contains(DType(rawValue: code)), "no fixture tensor of \(DType(rawValue: code))")
        }
        #expect(model.graph.initializers.count == Self.expected.count)
    }

    @Test(arguments: expected.map(\.name))
    func decodes(_ name: String) throws {
        let model = try ONNXReader.read(path: Fixtures.path("valid/typed-fields.onnx"))
        let oracle = try #require(Self.expected.first { $0.name == name })
        let tensor = try #require(model.graph.initializers.first { $0.name == name })
        #expect(tensor.dims == oracle.dims)
        #expect(tensor.dtype.name.replacingOccurrences(of: "float32", with: "float")
                    .replacingOccurrences(of: "float64", with: "double").uppercased() == oracle.dtype)

        switch tensor.dtype {
        case .string:
            let strings = try tensor.stringValues().map { String(decoding: $0, as: UTF8.self) }
            #expect(strings == oracle.values.map { if case .text(let s) = $0 { return s } else { return "?" } })
        case .complex64, .complex128:
            let values = try tensor.complexValues()
            #expect(values.count == oracle.values.count)
            for (value, expected) in zip(values, oracle.values) {
                guard case .pair(let parts) = expected, let re = parts[0].double, let im = parts[1].double else {
                    Issue.record("oracle entry is not a pair")
                    continue
                }
                #expect(Self.same(value.re, re) && Self.same(value.im, im), "\(value) != (\(re), \(im))")
            }
        case .int64, .uint64:
            let values = try tensor.int64Values().map { UInt64(bitPattern: $0) }
            let wanted = oracle.values.map { value -> UInt64? in
                switch value {
                case .integer(let bits): return bits
                case .number(let d): return Int64(exactly: d).map { UInt64(bitPattern: $0) }
                default: return nil
                }
            }
            #expect(values == wanted)
        default:
            let values = try tensor.doubleValues()
            let wanted = oracle.values.compactMap(\.double)
            #expect(values.count == wanted.count)
            for (i, (value, expected)) in zip(values, wanted).enumerated() {
                #expect(Self.same(value, expected), "element \(i): \(value) != \(expected)")
            }
        }
    }

    @Test func rawDataIsAViewIntoTheMappedFile() throws {
        let model = try ONNXReader.read(path: Fixtures.path("valid/typed-fields.onnx"))
        for tensor in model.graph.initializers where tensor.name.hasPrefix("raw_") && tensor.dtype != .string {
            #expect(tensor.bytes?.isMapped == true, "\(tensor.name) was copied")
        }
    }
}
