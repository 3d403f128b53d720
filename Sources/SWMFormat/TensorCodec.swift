import ModelCore
import Zlib

/// Turns a float32 tensor's bytes into the stored encodings and back, and
/// applies the optional byte shuffle + deflate. Decoding works on untrusted
/// bytes whose sizes the tensor table has already checked.
enum TensorCodec {
    // MARK: Encoding (writing)

    /// The encoded stream of float32 `source` (little-endian) in `encoding`;
    /// `dims` and `axis` place the int8 scales.
    static func encode(_ source: UnsafeRawBufferPointer, as encoding: StoredEncoding, dims: [Int], axis: Int) -> [UInt8] {
        let count = source.count / 4
        func float(_ i: Int) -> Float { Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
        switch encoding {
        case .raw:
            return Array(source)
        case .float16:
            return [UInt8](unsafeUninitializedCapacity: count * 2) { buffer, initialized in
                let out = UnsafeMutableRawBufferPointer(buffer)
                for i in 0..<count { out.storeBytes(of: Float16(float(i)).bitPattern.littleEndian, toByteOffset: i * 2, as: UInt16.self) }
                initialized = count * 2
            }
        case .bfloat16:
            return [UInt8](unsafeUninitializedCapacity: count * 2) { buffer, initialized in
                let out = UnsafeMutableRawBufferPointer(buffer)
                for i in 0..<count { out.storeBytes(of: ElementCodec.bfloat16Bits(float(i)).littleEndian, toByteOffset: i * 2, as: UInt16.self) }
                initialized = count * 2
            }
        case .int8:
            let layout = ChannelLayout(dims: dims, axis: axis)
            var maxima = [Float](repeating: 0, count: layout.channels)
            for i in 0..<count {
                let v = float(i).magnitude
                if v.isFinite { maxima[layout.channel(of: i)] = max(maxima[layout.channel(of: i)], v) }
            }
            let scales = maxima.map { $0 / 127 }
            return [UInt8](unsafeUninitializedCapacity: layout.channels * 4 + count) { buffer, initialized in
                let out = UnsafeMutableRawBufferPointer(buffer)
                for (c, s) in scales.enumerated() { out.storeBytes(of: s.bitPattern.littleEndian, toByteOffset: c * 4, as: UInt32.self) }
                let base = layout.channels * 4
                for i in 0..<count {
                    out[base + i] = UInt8(bitPattern: quantize(float(i), scale: scales[layout.channel(of: i)]))
                }
                initialized = layout.channels * 4 + count
            }
        }
    }

    /// `value / scale` rounded and clamped to ±127; NaN becomes 0.
    static func quantize(_ value: Float, scale: Float) -> Int8 {
        guard scale > 0, !value.isNaN else { return 0 }
        let q = (value / scale).rounded(.toNearestOrEven)
        return Int8(max(-127, min(127, q)))
    }

    /// `bytes` shuffled by `unit` (byte k of every element together), then deflated.
    /// Returns `nil` when that would not make the data smaller.
    static func compress(_ bytes: UnsafeRawBufferPointer, unit: Int, floatingPoint: Bool) -> [UInt8]? {
        // zlib's header and trailer alone are 6 bytes, so the smallest inputs never shrink.
        guard bytes.count > 6 else { return nil }
        let shuffled = shuffle(bytes, unit: unit)
        // Shuffled float data is mostly mantissa noise with no repeats: plain
        // Huffman coding packs it smaller than LZ77 matching, and 2-5× faster.
        guard let deflater = try? Deflater(format: .zlib, memoryLevel: 9, strategy: floatingPoint ? .huffmanOnly : .standard) else {
            return nil
        }
        // Room for one byte less than the input: data that does not shrink stops compressing early.
        var produced: Int?
        let output = [UInt8](unsafeUninitializedCapacity: bytes.count - 1) { buffer, initialized in
            produced = shuffled.withUnsafeBytes { input in (try? deflater.compress(input, into: UnsafeMutableRawBufferPointer(buffer))) ?? nil }
            initialized = produced ?? 0
        }
        return produced == nil ? nil : output
    }

    static func shuffle(_ bytes: UnsafeRawBufferPointer, unit: Int) -> [UInt8] {
        guard unit > 1 else { return Array(bytes) }
        let elements = bytes.count / unit
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            for k in 0..<unit {
                for i in 0..<elements { out[k * elements + i] = bytes[i * unit + k] }
            }
            // Bytes after the last whole element (none for whole-element data) stay in place.
            for i in (elements * unit)..<bytes.count { out[i] = bytes[i] }
            initialized = bytes.count
        }
    }

    // MARK: Decoding (reading)

    /// The decoded tensor for `entry` from its stored bytes (already
    /// CRC-checked), into `target` of `entry.decodedLength` bytes.
    static func decode(_ stored: UnsafeRawBufferPointer, entry: TensorEntry, into target: UnsafeMutableRawBufferPointer) throws(ModelError) {
        var encodedBuffer: [UInt8] = []
        let encoded: UnsafeRawBufferPointer
        switch entry.compression {
        case .none:
            encoded = stored
        case .shuffleDeflate:
            encodedBuffer = try inflate(stored, expected: entry.encodedLength)
            encodedBuffer = unshuffle(encodedBuffer, unit: entry.shuffleUnit)
            encoded = encodedBuffer.withUnsafeBytes { $0 }
        }
        // `encoded` may point into `encodedBuffer`; keep it alive while decoding.
        try withExtendedLifetime(encodedBuffer) { () throws(ModelError) in
            try decodeElements(encoded, entry: entry, into: target)
        }
    }

    private static func decodeElements(_ encoded: UnsafeRawBufferPointer, entry: TensorEntry,
                                       into target: UnsafeMutableRawBufferPointer) throws(ModelError) {
        let count = entry.elementCount
        switch entry.encoding {
        case .raw:
            if let base = encoded.baseAddress, encoded.count > 0 { target.baseAddress!.copyMemory(from: base, byteCount: encoded.count) }
        case .float16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: encoded.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                target.storeBytes(of: Float(Float16(bitPattern: bits)), toByteOffset: i * 4, as: Float.self)
            }
        case .bfloat16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: encoded.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                target.storeBytes(of: ElementCodec.float(bfloat16Bits: bits), toByteOffset: i * 4, as: Float.self)
            }
        case .int8:
            let layout = ChannelLayout(dims: entry.dims, axis: entry.axis)
            let scales = (0..<layout.channels).map { c in
                Float(bitPattern: UInt32(littleEndian: encoded.loadUnaligned(fromByteOffset: c * 4, as: UInt32.self)))
            }
            let base = layout.channels * 4
            for i in 0..<count {
                let q = Int8(bitPattern: encoded[base + i])
                target.storeBytes(of: Float(q) * scales[layout.channel(of: i)], toByteOffset: i * 4, as: Float.self)
            }
        }
    }

    /// Inflates a zlib stream that must produce exactly `expected` bytes.
    static func inflate(_ stored: UnsafeRawBufferPointer, expected: Int) throws(ModelError) -> [UInt8] {
        var outcome: Result<(written: Int, unread: Int), Inflater.Failure> = .success((0, 0))
        let output = [UInt8](unsafeUninitializedCapacity: expected) { buffer, initialized in
            outcome = Result { () throws(Inflater.Failure) in
                try Inflater.inflate(stored, into: UnsafeMutableRawBufferPointer(buffer), format: .zlib, extent: .whole)
            }
            initialized = (try? outcome.get().written) ?? 0
        }
        switch outcome {
        case .success(let result) where result.written != expected:
            throw ModelError(.malformed, "the data decompresses to \(result.written) bytes, not \(expected)")
        case .success(let result) where result.unread != 0:
            throw ModelError(.malformed, "the data has \(result.unread) bytes after its compressed stream")
        case .success:
            return output
        case .failure(.outputOverflow):
            throw ModelError(.malformed, "the data decompresses to more than \(expected) bytes")
        case .failure(.inputEnded):
            throw ModelError(.malformed, "the compressed data is truncated")
        case .failure(.corrupt(let reason)):
            throw ModelError(.malformed, "the compressed data is corrupt (\(reason))")
        case .failure(.outOfMemory):
            throw ModelError(.limit, "cannot decompress (out of memory?)")
        }
    }

    static func unshuffle(_ bytes: [UInt8], unit: Int) -> [UInt8] {
        guard unit > 1 else { return bytes }
        let elements = bytes.count / unit
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            for k in 0..<unit {
                for i in 0..<elements { out[i * unit + k] = bytes[k * elements + i] }
            }
            for i in (elements * unit)..<bytes.count { out[i] = bytes[i] }
            initialized = bytes.count
        }
    }
}

/// Which channel each element of a tensor belongs to, for per-channel int8 scales.
struct ChannelLayout {
    let channels: Int
    /// Elements per step along the channel axis (the product of the later dims).
    let inner: Int

    init(dims: [Int], axis: Int) {
        channels = dims[axis]
        inner = dims[(axis + 1)...].reduce(1, *)
    }

    func channel(of index: Int) -> Int { (index / inner) % channels }
}
