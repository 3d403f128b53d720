internal import CZlib
import ModelCore

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
                for i in 0..<count { out.storeBytes(of: bfloat16Bits(float(i)).littleEndian, toByteOffset: i * 2, as: UInt16.self) }
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

    /// Round to nearest even on the upper 16 bits; NaN stays a (quiet) NaN.
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
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
        let shuffled = shuffle(bytes, unit: unit)
        var stream = z_stream()
        // Shuffled float data is mostly mantissa noise with no repeats: plain
        // Huffman coding packs it smaller than LZ77 matching, and 2-5× faster.
        let strategy = floatingPoint ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY
        guard deflateInit2_(&stream, 6, Z_DEFLATED, 15, 9, strategy, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return nil
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(bytes.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let produced: Int? = shuffled.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { out in
                let result = pump(&stream, input: input, output: out) { deflate(&$0, $1 ? Z_FINISH : Z_NO_FLUSH) }
                return result.status == Z_STREAM_END ? out.count - result.outputLeft : nil
            }
        }
        guard let produced, produced < bytes.count else { return nil }
        output.removeSubrange(produced...)
        return output
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
                let bits = UInt32(UInt16(littleEndian: encoded.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16
                target.storeBytes(of: Float(bitPattern: bits), toByteOffset: i * 4, as: Float.self)
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
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ModelError(.limit, "cannot start decompressing (out of memory?)")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: expected)
        let outcome: String? = output.withUnsafeMutableBytes { out in
            let result = pump(&stream, input: stored, output: out) { stream, _ in CZlib.inflate(&stream, Z_NO_FLUSH) }
            switch result.status {
            case Z_STREAM_END:
                if result.outputLeft != 0 { return "the data decompresses to \(out.count - result.outputLeft) bytes, not \(expected)" }
                if result.inputLeft != 0 { return "the data has \(result.inputLeft) bytes after its compressed stream" }
                return nil
            case Z_BUF_ERROR:
                return result.outputLeft == 0 ? "the data decompresses to more than \(expected) bytes" : "the compressed data is truncated"
            default:
                return "the compressed data is corrupt" + (stream.msg.map { " (\(String(cString: $0)))" } ?? "")
            }
        }
        if let outcome { throw ModelError(.malformed, outcome) }
        return output
    }

    /// Calls `step` (a deflate or inflate call; its flag says all input has
    /// been handed over) while it returns `Z_OK`, handing zlib at most 4 GiB at
    /// a time since its counters are 32-bit. Returns the last status and the
    /// bytes of input and output left.
    private static func pump(_ stream: inout z_stream, input: UnsafeRawBufferPointer, output: UnsafeMutableRawBufferPointer,
                             step: (inout z_stream, Bool) -> Int32) -> (status: Int32, inputLeft: Int, outputLeft: Int) {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var inputLeft = input.count
        var outputLeft = output.count
        while true {
            let take = min(inputLeft, Int(UInt32.max))
            let room = min(outputLeft, Int(UInt32.max))
            stream.avail_in = UInt32(take)
            stream.avail_out = UInt32(room)
            let status = step(&stream, take == inputLeft)
            inputLeft -= take - Int(stream.avail_in)
            outputLeft -= room - Int(stream.avail_out)
            // Without progress possible zlib answers Z_BUF_ERROR, so this ends.
            if status != Z_OK { return (status, inputLeft, outputLeft) }
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
