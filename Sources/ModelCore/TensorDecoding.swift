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
        let decode = try ElementCodec.decoder(for: dtype, tensor: name)
        let count = elementCount
        return region.withUnsafeBytes { raw in
            (0..<count).map { decode(ElementCodec.bits(raw, index: $0, width: bits)) }
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
