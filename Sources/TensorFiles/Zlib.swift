internal import CZlib
import ModelCore

/// CRC-32 as ZIP uses it, computed by zlib.
enum CRC32 {
    /// `crc` updated with `bytes` (start from 0).
    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        return UInt32(truncatingIfNeeded: crc32_z(uLong(crc), base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count)))
    }
}

/// zlib's raw inflate (no zlib or gzip wrapper, as in ZIP members) into a
/// caller's buffer that it never writes past.
enum Inflater {
    /// Why inflating stopped short.
    enum Failure: Error {
        /// The compressed bytes are not valid deflate data (zlib's reason).
        case corrupt(String)
        /// The compressed bytes ran out before the stream's end.
        case inputEnded
        /// The stream holds more bytes than the output buffer.
        case outputOverflow
    }

    /// How far to inflate.
    enum Extent {
        /// Stop once the output is full: its first bytes are all that is wanted.
        case prefix
        /// The stream must end exactly when the output is full.
        case whole
    }

    /// Inflates `input` into `output`; returns the bytes written, fewer than
    /// `output.count` only when the stream ended first.
    static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                        extent: Extent) throws(Failure) -> Int {
        // zlib's state points back at the stream, so it needs a fixed address.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard inflateInit2_(stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("zlib could not start (out of memory?)")
        }
        defer { inflateEnd(stream) }
        // A one-byte probe after a full output tells "only the end marker is left" from "more data follows".
        let probe = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { probe.deallocate() }

        var consumed = 0, produced = 0
        while true {
            // zlib counts in 32-bit units; larger buffers go in pieces.
            let inputPiece = min(input.count - consumed, Int(UInt32.max))
            let outputPiece = min(output.count - produced, Int(UInt32.max))
            let probing = outputPiece == 0
            if probing && extent == .prefix { return produced }
            stream.pointee.next_in = input.baseAddress.map {
                UnsafeMutablePointer(mutating: ($0 + consumed).assumingMemoryBound(to: Bytef.self))
            }
            stream.pointee.avail_in = uInt(inputPiece)
            if probing {
                stream.pointee.next_out = probe
                stream.pointee.avail_out = 1
            } else {
                stream.pointee.next_out = output.baseAddress.map { ($0 + produced).assumingMemoryBound(to: Bytef.self) }
                stream.pointee.avail_out = uInt(outputPiece)
            }
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            consumed += inputPiece - Int(stream.pointee.avail_in)
            let written = (probing ? 1 : outputPiece) - Int(stream.pointee.avail_out)
            if probing && written > 0 { throw .outputOverflow }
            produced += probing ? 0 : written
            switch status {
            case Z_STREAM_END:
                return produced
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the output has room (or the probe), so the input is exhausted.
                throw .inputEnded
            case Z_NEED_DICT:
                throw .corrupt("needs a preset dictionary")
            case Z_MEM_ERROR:
                throw .corrupt("out of memory")
            default:
                throw .corrupt(stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data")
            }
        }
    }
}

/// zlib's raw deflate at the default level, streaming its output to a sink.
final class Deflater {
    // zlib's state points back at the stream, so it needs a fixed address.
    private let stream: UnsafeMutablePointer<z_stream>
    /// Output staging buffer; the sink gets its contents whenever it fills.
    private let buffer: UnsafeMutableRawBufferPointer

    /// Starts a stream; throws only when zlib cannot allocate its state.
    init() throws(ModelError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw ModelError(.limit, "zlib could not start compressing (out of memory?)")
        }
        buffer = .allocate(byteCount: 1 << 18, alignment: 16)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        buffer.deallocate()
    }

    /// An upper bound on the compressed size of `count` bytes (zlib's `deflateBound`).
    func bound(_ count: Int) -> Int {
        Int(deflateBound(stream, uLong(count)))
    }

    /// Compresses `input`; with `finish`, ends the stream after it. Every
    /// full staging buffer, and the rest at the end, goes to `sink`.
    func compress(_ input: UnsafeRawBufferPointer, finish: Bool,
                  sink: (UnsafeRawBufferPointer) throws(ModelError) -> Void) throws(ModelError) {
        var consumed = 0
        while true {
            let piece = min(input.count - consumed, Int(UInt32.max))
            let last = consumed + piece == input.count
            stream.pointee.next_in = input.baseAddress.map {
                UnsafeMutablePointer(mutating: ($0 + consumed).assumingMemoryBound(to: Bytef.self))
            }
            stream.pointee.avail_in = uInt(piece)
            var status: Int32
            repeat {
                stream.pointee.next_out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(buffer.count)
                status = deflate(stream, last && finish ? Z_FINISH : Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                    throw ModelError(.malformed, "zlib failed while compressing (status \(status))")
                }
                let ready = buffer.count - Int(stream.pointee.avail_out)
                if ready > 0 { try sink(UnsafeRawBufferPointer(rebasing: buffer[..<ready])) }
            } while stream.pointee.avail_out == 0 || (last && finish && status != Z_STREAM_END)
            consumed += piece
            if last { return }
        }
    }
}
