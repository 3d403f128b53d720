/// The bit-level encodings of the ONNX element types that Swift has no type
/// for: bfloat16, the float8, float6 and float4 formats, and integers packed
/// two or four to a byte. They live here, once, so that every reader, writer
/// and the engine round and decode these types alike.
public enum ElementCodec {
    // MARK: bfloat16

    /// `value` as bfloat16 bits (the upper half of a float32), rounded to
    /// nearest even. A NaN stays a NaN: its sign and upper payload are kept
    /// and the quiet bit is set (the way x86's VCVTNEPS2BF16 treats a NaN),
    /// since rounding a NaN whose payload lies only in the dropped bits would
    /// carry into the exponent and give infinity (or, for a payload of all
    /// ones, a zero).
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        // Adding just under half of the dropped part, plus the kept part's
        // lowest bit, carries exactly when rounding to nearest even goes up.
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// The float32 that bfloat16 `bits` stand for; exact, as every bfloat16 is a float32.
    public static func float(bfloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    // MARK: Small floats

    /// A sign + exponent + mantissa float narrower than float32, described by
    /// its field widths, bias and which codes are special.
    public struct SmallFloat: Sendable, Equatable {
        /// How a format spends its all-ones and negative-zero codes.
        public enum Special: Sendable, Equatable {
            /// The top exponent holds infinities (zero mantissa) and NaN (float16, e5m2).
            case ieee
            /// No infinities; only the all-ones exponent and mantissa are NaN (e4m3fn).
            case nanAllOnes
            /// No infinities and no negative zero: its code is the only NaN (the fnuz formats).
            case nanNegativeZero
            /// Every code is a finite number (float6, float4).
            case none
        }

        /// The exponent field's width in bits.
        public let exponentBits: Int
        /// The mantissa field's width in bits.
        public let mantissaBits: Int
        /// What the stored exponent is offset by.
        public let bias: Int
        /// Which codes are infinities and NaN.
        public let special: Special

        /// IEEE half precision.
        public static let float16 = SmallFloat(exponentBits: 5, mantissaBits: 10, bias: 15, special: .ieee)
        /// float8e4m3fn: up to ±448, no infinities.
        public static let e4m3fn = SmallFloat(exponentBits: 4, mantissaBits: 3, bias: 7, special: .nanAllOnes)
        /// float8e4m3fnuz: up to ±240, no infinities, no negative zero.
        public static let e4m3fnuz = SmallFloat(exponentBits: 4, mantissaBits: 3, bias: 8, special: .nanNegativeZero)
        /// float8e5m2: up to ±57344, with infinities.
        public static let e5m2 = SmallFloat(exponentBits: 5, mantissaBits: 2, bias: 15, special: .ieee)
        /// float8e5m2fnuz: up to ±57344, no infinities, no negative zero.
        public static let e5m2fnuz = SmallFloat(exponentBits: 5, mantissaBits: 2, bias: 16, special: .nanNegativeZero)
        /// float4e2m1: up to ±6, no special codes.
        public static let e2m1 = SmallFloat(exponentBits: 2, mantissaBits: 1, bias: 1, special: .none)
        /// float6e2m3: up to ±7.5, no special codes.
        public static let e2m3 = SmallFloat(exponentBits: 2, mantissaBits: 3, bias: 1, special: .none)
        /// float6e3m2: up to ±28, no special codes.
        public static let e3m2 = SmallFloat(exponentBits: 3, mantissaBits: 2, bias: 3, special: .none)

        /// The format of `dtype`'s elements, if it is one of these (float8e8m0, a bare exponent, is not).
        public static func format(of dtype: DType) -> SmallFloat? {
            switch dtype {
            case .float16: return .float16
            case .float8e4m3fn: return .e4m3fn
            case .float8e4m3fnuz: return .e4m3fnuz
            case .float8e5m2: return .e5m2
            case .float8e5m2fnuz: return .e5m2fnuz
            case .float4e2m1: return .e2m1
            case .float6e2m3: return .e2m3
            case .float6e3m2: return .e3m2
            default: return nil
            }
        }

        /// The value of the code in the low `1 + exponentBits + mantissaBits` bits of `bits`.
        public func value(_ bits: UInt64) -> Double {
            let signBit = UInt64(1) << UInt64(exponentBits + mantissaBits)
            let exponentMask = (UInt64(1) << UInt64(exponentBits)) - 1
            let mantissaMask = (UInt64(1) << UInt64(mantissaBits)) - 1
            let negative = bits & signBit != 0
            let exponent = Int((bits >> UInt64(mantissaBits)) & exponentMask)
            let mantissa = bits & mantissaMask
            switch special {
            case .ieee where exponent == Int(exponentMask):
                return mantissa == 0 ? (negative ? -.infinity : .infinity) : .nan
            case .nanAllOnes where exponent == Int(exponentMask) && mantissa == mantissaMask:
                return .nan
            case .nanNegativeZero where bits & (signBit << 1 - 1) == signBit:
                return .nan
            default:
                break
            }
            let magnitude: Double
            if exponent == 0 {
                magnitude = Double(mantissa) * ElementCodec.power(1 - bias - mantissaBits)
            } else {
                magnitude = (1 + Double(mantissa) / Double(1 << mantissaBits)) * ElementCodec.power(exponent - bias)
            }
            return negative ? -magnitude : magnitude
        }
    }

    /// The value of a float8e8m0 code: 2^(code − 127), with 0xFF for NaN.
    public static func e8m0Value(_ code: UInt8) -> Double {
        code == 0xFF ? .nan : power(Int(code) - 127)
    }

    // MARK: Elements of any type

    /// The bits of element `index` of a packed little-endian array of `width`-bit elements.
    public static func bits(_ raw: UnsafeRawBufferPointer, index: Int, width: Int) -> UInt64 {
        switch width {
        case 8: return UInt64(raw[index])
        case 16: return UInt64(raw.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self).littleEndian)
        case 32: return UInt64(raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self).littleEndian)
        case 64: return raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self).littleEndian
        default:
            // Sub-byte types form an LSB-first bitstream (ONNX: int4/uint4/float4
            // two per byte, int2/uint2 four per byte, float6 four per three bytes).
            let first = index * width
            var value: UInt64 = 0
            for bit in 0..<width {
                let position = first + bit
                if raw[position >> 3] & (1 << UInt8(position & 7)) != 0 { value |= 1 << UInt64(bit) }
            }
            return value
        }
    }

    /// Turns the bits of one `dtype` element, as `bits(_:index:width:)` reads
    /// them, into a `Double`: exactly for every type but 64-bit integers
    /// beyond 2^53. Complex and string elements are no single number, so
    /// they throw, naming `tensor`.
    public static func decoder(for dtype: DType, tensor: String) throws(ModelError) -> @Sendable (UInt64) -> Double {
        if let format = SmallFloat.format(of: dtype) { return { format.value($0) } }
        switch dtype {
        case .float: return { Double(Float(bitPattern: UInt32(truncatingIfNeeded: $0))) }
        case .double: return { Double(bitPattern: $0) }
        case .bfloat16: return { Double(float(bfloat16Bits: UInt16(truncatingIfNeeded: $0))) }
        case .float8e8m0: return { e8m0Value(UInt8(truncatingIfNeeded: $0)) }
        case .bool, .uint8, .uint16, .uint32, .uint64, .uint4, .uint2: return { Double($0) }
        case .int8: return { Double(Int8(truncatingIfNeeded: $0)) }
        case .int16: return { Double(Int16(truncatingIfNeeded: $0)) }
        case .int32: return { Double(Int32(truncatingIfNeeded: $0)) }
        case .int64: return { Double(Int64(bitPattern: $0)) }
        case .int4: return { signExtended($0, width: 4) }
        case .int2: return { signExtended($0, width: 2) }
        default: throw ModelError(.unsupported(op: nil, dtype: dtype), "tensor '\(tensor)' has element type \(dtype), which this version cannot decode")
        }
    }

    /// 2^`exponent`, exact over Double's whole range.
    static func power(_ exponent: Int) -> Double {
        Double(sign: .plus, exponent: exponent, significand: 1)
    }

    /// The two's-complement value of the low `width` bits of `bits`.
    static func signExtended(_ bits: UInt64, width: Int) -> Double {
        let shift = 64 - width
        return Double(Int64(bitPattern: bits << UInt64(shift)) >> Int64(shift))
    }
}
