/// An ONNX tensor element type, identified by its `TensorProto.DataType` code.
///
/// A struct rather than an enum so that a code from a newer ONNX version is
/// still representable (and reported by number) instead of failing the load.
public struct DType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let undefined = DType(rawValue: 0)
    public static let float = DType(rawValue: 1)
    public static let uint8 = DType(rawValue: 2)
    public static let int8 = DType(rawValue: 3)
    public static let uint16 = DType(rawValue: 4)
    public static let int16 = DType(rawValue: 5)
    public static let int32 = DType(rawValue: 6)
    public static let int64 = DType(rawValue: 7)
    public static let string = DType(rawValue: 8)
    public static let bool = DType(rawValue: 9)
    public static let float16 = DType(rawValue: 10)
    public static let double = DType(rawValue: 11)
    public static let uint32 = DType(rawValue: 12)
    public static let uint64 = DType(rawValue: 13)
    public static let complex64 = DType(rawValue: 14)
    public static let complex128 = DType(rawValue: 15)
    public static let bfloat16 = DType(rawValue: 16)
    public static let float8e4m3fn = DType(rawValue: 17)
    public static let float8e4m3fnuz = DType(rawValue: 18)
    public static let float8e5m2 = DType(rawValue: 19)
    public static let float8e5m2fnuz = DType(rawValue: 20)
    public static let uint4 = DType(rawValue: 21)
    public static let int4 = DType(rawValue: 22)
    public static let float4e2m1 = DType(rawValue: 23)
    public static let float8e8m0 = DType(rawValue: 24)
    public static let uint2 = DType(rawValue: 25)
    public static let int2 = DType(rawValue: 26)
    public static let float6e2m3 = DType(rawValue: 27)
    public static let float6e3m2 = DType(rawValue: 28)

    private struct Info {
        let name: String
        /// Bits one element takes in `raw_data`; 0 for variable-size strings.
        let bits: Int
        let kind: Kind
    }

    /// How the bits of an element are to be read.
    public enum Kind: Sendable {
        case float, signedInteger, unsignedInteger, bool, complex, string
    }

    private static let table: [Int32: Info] = [
        1: Info(name: "float32", bits: 32, kind: .float),
        2: Info(name: "uint8", bits: 8, kind: .unsignedInteger),
        3: Info(name: "int8", bits: 8, kind: .signedInteger),
        4: Info(name: "uint16", bits: 16, kind: .unsignedInteger),
        5: Info(name: "int16", bits: 16, kind: .signedInteger),
        6: Info(name: "int32", bits: 32, kind: .signedInteger),
        7: Info(name: "int64", bits: 64, kind: .signedInteger),
        8: Info(name: "string", bits: 0, kind: .string),
        9: Info(name: "bool", bits: 8, kind: .bool),
        10: Info(name: "float16", bits: 16, kind: .float),
        11: Info(name: "float64", bits: 64, kind: .float),
        12: Info(name: "uint32", bits: 32, kind: .unsignedInteger),
        13: Info(name: "uint64", bits: 64, kind: .unsignedInteger),
        14: Info(name: "complex64", bits: 64, kind: .complex),
        15: Info(name: "complex128", bits: 128, kind: .complex),
        16: Info(name: "bfloat16", bits: 16, kind: .float),
        17: Info(name: "float8e4m3fn", bits: 8, kind: .float),
        18: Info(name: "float8e4m3fnuz", bits: 8, kind: .float),
        19: Info(name: "float8e5m2", bits: 8, kind: .float),
        20: Info(name: "float8e5m2fnuz", bits: 8, kind: .float),
        21: Info(name: "uint4", bits: 4, kind: .unsignedInteger),
        22: Info(name: "int4", bits: 4, kind: .signedInteger),
        23: Info(name: "float4e2m1", bits: 4, kind: .float),
        24: Info(name: "float8e8m0", bits: 8, kind: .float),
        25: Info(name: "uint2", bits: 2, kind: .unsignedInteger),
        26: Info(name: "int2", bits: 2, kind: .signedInteger),
        27: Info(name: "float6e2m3", bits: 6, kind: .float),
        28: Info(name: "float6e3m2", bits: 6, kind: .float),
    ]

    /// Whether this project knows the type (the codes of ONNX IR version 14).
    public var isKnown: Bool { Self.table[rawValue] != nil }

    /// Bits per element in packed `raw_data` form; `nil` for strings and unknown codes.
    public var bitsPerElement: Int? {
        guard let info = Self.table[rawValue], info.bits > 0 else { return nil }
        return info.bits
    }

    public var kind: Kind? { Self.table[rawValue]?.kind }

    /// True for the floating-point types (including float8, float4 and float6), which are
    /// what counts as parameters; integer tensors hold shapes and indices.
    public var isFloatingPoint: Bool { kind == .float }

    /// Lower-case name, e.g. `float32`, `bfloat16`; `dtype(99)` for an unknown code.
    public var name: String {
        if rawValue == 0 { return "undefined" }
        return Self.table[rawValue]?.name ?? "dtype(\(rawValue))"
    }

    public var description: String { name }

    /// Bytes needed to store `count` elements packed, or `nil` for strings,
    /// unknown types and on overflow.
    public func byteCount(elements count: Int) -> Int? {
        guard let bits = bitsPerElement else { return nil }
        let (total, overflow) = count.multipliedReportingOverflow(by: bits)
        if overflow { return nil }
        return (total + 7) / 8
    }
}
