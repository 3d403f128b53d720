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
        let values: [OracleValue]
    }

    static let expected: [Expected] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("valid/typed-fields.json")))
        return try! JSONDecoder().decode([Expected].self, from: data)
    }()

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
                #expect(OracleValue.same(value.re, re) && OracleValue.same(value.im, im), "\(value) != (\(re), \(im))")
            }
        case .int64, .uint64:
            let values = try tensor.int64Values().map { UInt64(bitPattern: $0) }
            #expect(values == oracle.values.map(\.bits))
        default:
            let values = try tensor.doubleValues()
            let wanted = oracle.values.compactMap(\.double)
            #expect(values.count == wanted.count)
            for (i, (value, expected)) in zip(values, wanted).enumerated() {
                #expect(OracleValue.same(value, expected), "element \(i): \(value) != \(expected)")
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
