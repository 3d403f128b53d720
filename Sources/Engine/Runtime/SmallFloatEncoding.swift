import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// Encoding into the small float formats, which only Cast needs; decoding is
// ModelCore's (`ElementCodec.SmallFloat.value`).
extension ElementCodec.SmallFloat {
    /// The float8 format of `dtype` (float16 and the sub-byte formats are handled elsewhere).
    static func float8(of dtype: DType) -> Self? {
        switch dtype {
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz: return format(of: dtype)
        default: return nil
        }
    }

    var signBit: UInt8 { UInt8(1 << (exponentBits + mantissaBits)) }
    var exponentMask: Int { (1 << exponentBits) - 1 }

    /// The largest finite value.
    var largest: Double {
        let topExponent = special == .ieee ? exponentMask - 1 : exponentMask
        // e4m3fn gives its top mantissa code to NaN.
        let topMantissa = (1 << mantissaBits) - (special == .nanAllOnes ? 2 : 1)
        return (1 + Double(topMantissa) / Double(1 << mantissaBits)) * Glibc.exp2(Double(topExponent - bias))
    }

    /// `x` rounded to nearest even. Out of range (and infinities) saturate to
    /// ±largest when `saturate`, else become infinity or NaN as the format allows.
    func encode(_ x: Double, saturate: Bool) -> UInt8 {
        let sign: UInt8 = x.sign == .minus ? signBit : 0
        let nanCode: UInt8
        switch special {
        case .ieee, .nanAllOnes: nanCode = signBit - 1
        case .nanNegativeZero: nanCode = signBit
        // e2m1 has no NaN; the reference (ml_dtypes) writes a zero whose sign is the NaN's flipped.
        case .none: nanCode = x.sign == .minus ? 0 : signBit
        }
        if x.isNaN { return special == .nanAllOnes || special == .ieee ? sign | nanCode : nanCode }
        let overflow: UInt8
        if saturate || special == .none {
            overflow = sign | code(ofMagnitude: largest)
        } else {
            switch special {
            case .ieee: overflow = sign | UInt8(exponentMask << mantissaBits)
            case .nanAllOnes: overflow = sign | nanCode
            default: overflow = nanCode
            }
        }
        let magnitude = Swift.abs(x)
        if magnitude.isInfinite { return overflow }
        if magnitude == 0 { return special == .nanNegativeZero ? 0 : sign }
        // The spacing of representable values at this magnitude (subnormals share the smallest).
        let exponent = Swift.max(Int(magnitude.exponent), 1 - bias)
        let quantum = Glibc.exp2(Double(exponent - mantissaBits))
        let rounded = (magnitude / quantum).rounded(.toNearestOrEven) * quantum
        if rounded > largest { return overflow }
        if rounded == 0 { return special == .nanNegativeZero ? 0 : sign }
        return sign | code(ofMagnitude: rounded)
    }

    /// The code of a positive value the format represents exactly.
    private func code(ofMagnitude value: Double) -> UInt8 {
        let exponent = Int(value.exponent)
        if exponent < 1 - bias {
            return UInt8(value / Glibc.exp2(Double(1 - bias - mantissaBits)))
        }
        let mantissa = Int(value / Glibc.exp2(Double(exponent - mantissaBits))) - (1 << mantissaBits)
        return UInt8((exponent + bias) << mantissaBits | mantissa)
    }
}

/// `x` as float8e8m0 (a power of two, 2^(code − 127); 0xFF is NaN). The sign
/// is ignored (negative inputs are undefined in ONNX).
func encodeE8M0(_ x: Double, saturate: Bool, rounding: ExponentRounding) -> UInt8 {
    if x.isNaN { return 0xFF }
    let magnitude = Swift.abs(x)
    if magnitude.isInfinite { return saturate ? 0xFE : 0xFF }
    if magnitude == 0 { return saturate ? 0 : 0xFF }
    var exponent = Int(magnitude.exponent)
    let fraction = magnitude.significand   // in [1, 2)
    switch rounding {
    case .up: if fraction > 1 { exponent += 1 }
    case .down: break
    case .nearest: if fraction >= 1.5 { exponent += 1 }
    }
    let code = exponent + 127
    if code > 254 { return saturate ? 0xFE : 0xFF }
    if code < 0 { return saturate ? 0 : 0xFF }
    return UInt8(code)
}
