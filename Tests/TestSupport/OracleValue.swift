/// One element of a JSON oracle written by the fixture scripts from numpy's
/// own view of a tensor: a number, an exact 64-bit integer, a string (also
/// "nan", "inf", "-inf"), or a [real, imaginary] pair.
public enum OracleValue: Decodable, Sendable {
    case number(Double)
    /// Integers are exact in the oracle; 64-bit extremes do not fit a Double.
    case integer(bitPattern: UInt64)
    case text(String)
    case pair([OracleValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Doubles first (an integer decode would turn -0.0 into 0); past
        // 2^53 a Double is inexact, so such integers are read exactly.
        if let d = try? c.decode(Double.self), d.magnitude < 9_007_199_254_740_992 { self = .number(d) }
        else if let i = try? c.decode(Int64.self) { self = .integer(bitPattern: UInt64(bitPattern: i)) }
        else if let u = try? c.decode(UInt64.self) { self = .integer(bitPattern: u) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .text(s) }
        else { self = .pair(try c.decode([OracleValue].self)) }
    }

    /// The number, with "nan"/"inf"/"-inf" spelled as strings in the oracle.
    public var double: Double? {
        switch self {
        case .number(let d): return d
        case .integer(let bits): return Double(Int64(bitPattern: bits))
        case .text("nan"): return .nan
        case .text("inf"): return .infinity
        case .text("-inf"): return -.infinity
        default: return nil
        }
    }

    /// An integer's 64 bits (signed values as their two's complement).
    public var bits: UInt64? {
        switch self {
        case .integer(let bits): return bits
        case .number(let d): return Int64(exactly: d).map { UInt64(bitPattern: $0) }
        default: return nil
        }
    }

    /// Equal as numpy prints them: NaN equals NaN, and −0 differs from +0.
    public static func same(_ a: Double, _ b: Double) -> Bool {
        (a.isNaN && b.isNaN) || (a == b && a.sign == b.sign)
    }
}
