/// Reading tensor elements as numbers, for every ONNX element type.
extension Tensor {
    /// Every element widened to `Double`: floats of all widths (float16,
    /// bfloat16, float8, float6, float4), integers of all widths (including
    /// packed 2- and 4-bit ones) and bool as 0/1. Complex and string tensors
    /// throw; use `complexValues()` and `stringValues()`.
    public func doubleValues() throws(ModelError) -> [Double] {
        guard let region = bytes, let kind = dtype.kind, let bits = dtype.bitsPerElement else {
            throw ModelError(.malformed, "tensor '\(name)' has \(dtype) elements, which are not numbers")
        }
        if kind == .complex {
            throw ModelError(.malformed, "tensor '\(name)' is complex; read it with complexValues()")
        }
        let decode = try ElementDecoder.decoder(for: dtype, tensor: name)
        let count = elementCount
        return region.withUnsafeBytes { raw in
            (0..<count).map { decode(ElementDecoder.bits(raw, index: $0, width: bits)) }
        }
    }

    /// Complex elements as (real, imaginary) pairs.
    public func complexValues() throws(ModelError) -> [(re: Double, im: Double)] {
        guard let region = bytes, dtype == .complex64 || dtype == .complex128 else {
            throw ModelError(.malformed, "tensor '\(name)' is \(dtype), not complex")
        }
        let count = elementCount
        return region.withUnsafeBytes { raw in
            (0..<count).map { i in
                if dtype == .complex64 {
                    let re = Float(bitPattern: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt32.self).littleEndian)
                    let im = Float(bitPattern: raw.loadUnaligned(fromByteOffset: i * 8 + 4, as: UInt32.self).littleEndian)
                    return (Double(re), Double(im))
                }
                let re = Double(bitPattern: raw.loadUnaligned(fromByteOffset: i * 16, as: UInt64.self).littleEndian)
                let im = Double(bitPattern: raw.loadUnaligned(fromByteOffset: i * 16 + 8, as: UInt64.self).littleEndian)
                return (re, im)
            }
        }
    }

    /// The elements of a string tensor, as raw bytes (ONNX strings need not be UTF-8).
    public func stringValues() throws(ModelError) -> [[UInt8]] {
        guard case .strings(let values) = storage else {
            throw ModelError(.malformed, "tensor '\(name)' is \(dtype), not string")
        }
        return values
    }

    /// Every element as `Int64` (integers and bool exactly; floats truncated toward zero).
    public func int64Values() throws(ModelError) -> [Int64] {
        if dtype == .int64 || dtype == .uint64, let region = bytes {
            return region.withUnsafeBytes { raw in
                (0..<elementCount).map { Int64(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self).littleEndian) }
            }
        }
        return try doubleValues().map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? 0 : 0 }
    }
}

/// Turns the bit pattern of one element into a `Double`.
enum ElementDecoder {
    /// The bits of element `index` of a packed little-endian array of `width`-bit elements.
    static func bits(_ raw: UnsafeRawBufferPointer, index: Int, width: Int) -> UInt64 {
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

    static func decoder(for dtype: DType, tensor: String) throws(ModelError) -> @Sendable (UInt64) -> Double {
        switch dtype {
        case .float: return { Double(Float(bitPattern: UInt32(truncatingIfNeeded: $0))) }
        case .double: return { Double(bitPattern: $0) }
        case .float16: return { minifloat($0, exponentBits: 5, mantissaBits: 10, bias: 15, special: .ieee) }
        case .bfloat16: return { Double(Float(bitPattern: UInt32(truncatingIfNeeded: $0) << 16)) }
        case .float8e4m3fn: return { minifloat($0, exponentBits: 4, mantissaBits: 3, bias: 7, special: .nanAllOnes) }
        case .float8e4m3fnuz: return { minifloat($0, exponentBits: 4, mantissaBits: 3, bias: 8, special: .nanNegativeZero) }
        case .float8e5m2: return { minifloat($0, exponentBits: 5, mantissaBits: 2, bias: 15, special: .ieee) }
        case .float8e5m2fnuz: return { minifloat($0, exponentBits: 5, mantissaBits: 2, bias: 16, special: .nanNegativeZero) }
        case .float8e8m0: return { $0 == 0xFF ? .nan : pow2(Int($0) - 127) }
        case .float4e2m1: return { minifloat($0, exponentBits: 2, mantissaBits: 1, bias: 1, special: .none) }
        case .float6e2m3: return { minifloat($0, exponentBits: 2, mantissaBits: 3, bias: 1, special: .none) }
        case .float6e3m2: return { minifloat($0, exponentBits: 3, mantissaBits: 2, bias: 3, special: .none) }
        case .bool, .uint8, .uint16, .uint32, .uint64, .uint4, .uint2: return { Double($0) }
        case .int8: return { Double(Int8(truncatingIfNeeded: $0)) }
        case .int16: return { Double(Int16(truncatingIfNeeded: $0)) }
        case .int32: return { Double(Int32(truncatingIfNeeded: $0)) }
        case .int64: return { Double(Int64(bitPattern: $0)) }
        case .int4: return { signExtend($0, width: 4) }
        case .int2: return { signExtend($0, width: 2) }
        default: throw ModelError(.unsupported(op: nil, dtype: dtype), "tensor '\(tensor)' has element type \(dtype), which this version cannot decode")
        }
    }

    /// How a small float format spends its all-ones and negative-zero codes.
    enum Special { case ieee, nanAllOnes, nanNegativeZero, none }

    /// Decodes a sign + exponent + mantissa float narrower than 16 bits.
    static func minifloat(_ bits: UInt64, exponentBits e: Int, mantissaBits m: Int, bias: Int, special: Special) -> Double {
        let signBit = UInt64(1) << UInt64(e + m)
        let exponentMask = (UInt64(1) << UInt64(e)) - 1
        let mantissaMask = (UInt64(1) << UInt64(m)) - 1
        let negative = bits & signBit != 0
        let exponent = Int((bits >> UInt64(m)) & exponentMask)
        let mantissa = bits & mantissaMask
        switch special {
        case .ieee where exponent == Int(exponentMask):
            return mantissa == 0 ? (negative ? -.infinity : .infinity) : .nan
        case .nanAllOnes where exponent == Int(exponentMask) && mantissa == mantissaMask:
            return .nan
        case .nanNegativeZero where bits == signBit:
            return .nan
        default:
            break
        }
        let magnitude: Double
        if exponent == 0 {
            magnitude = Double(mantissa) * pow2(1 - bias - m)
        } else {
            magnitude = (1 + Double(mantissa) / Double(1 << m)) * pow2(exponent - bias)
        }
        return negative ? -magnitude : magnitude
    }

    static func pow2(_ exponent: Int) -> Double {
        Double(sign: .plus, exponent: exponent, significand: 1)
    }

    static func signExtend(_ bits: UInt64, width: Int) -> Double {
        let shift = 64 - width
        return Double(Int64(bitPattern: bits << UInt64(shift)) >> Int64(shift))
    }
}
