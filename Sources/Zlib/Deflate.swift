internal import CZlib
import ModelCore

/// What surrounds the deflate data.
public enum DeflateFormat: Sendable {
    /// Bare deflate data, as in ZIP members.
    case raw
    /// Deflate data between zlib's 2-byte header and Adler-32 trailer, as in `.swm` tensors.
    case zlib

    /// zlib's `windowBits`: the largest window, negated for bare data.
    var windowBits: Int32 { self == .raw ? -MAX_WBITS : MAX_WBITS }
}

/// zlib's inflate into a caller's buffer that it never writes past.
public enum Inflater {
    /// Why inflating stopped short.
    public enum Failure: Error {
        /// The compressed bytes are not valid deflate data (zlib's reason).
        case corrupt(String)
        /// The compressed bytes ran out before the stream's end.
        case inputEnded
        /// The stream holds more bytes than the output buffer.
        case outputOverflow
        /// zlib could not allocate its state.
        case outOfMemory
    }

    /// How far to inflate.
    public enum Extent: Sendable {
        /// Stop once the output is full: its first bytes are all that is wanted.
        case prefix
        /// The stream must end exactly when the output is full.
        case whole
    }

    /// Inflates `input` in `format` into `output`. Returns the bytes written,
    /// fewer than `output.count` only when the stream ended first, and the
    /// input bytes left unread after the point where inflating stopped (after
    /// the stream's end, with `.whole`).
    public static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                               format: DeflateFormat, extent: Extent) throws(Failure) -> (written: Int, unread: Int) {
        // zlib's state points back at the stream, so it needs a fixed address.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard inflateInit2_(stream, format.windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .outOfMemory
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
            if probing && extent == .prefix { return (produced, input.count - consumed) }
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
                return (produced, input.count - consumed)
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the output has room (or the probe), so the input is exhausted.
                throw .inputEnded
            case Z_NEED_DICT:
                throw .corrupt("needs a preset dictionary")
            case Z_MEM_ERROR:
                throw .outOfMemory
            default:
                throw .corrupt(stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data")
            }
        }
    }
}

/// zlib's deflate at level 6 (its default) for one stream, either streaming
/// its output to a sink or writing it into one buffer.
public final class Deflater {
    /// How deflate looks for redundancy.
    public enum Strategy: Sendable {
        /// Repeated strings and Huffman coding: zlib's default.
        case standard
        /// Huffman coding alone: for data with no repeats (shuffled float
        /// mantissas), where it packs as small and runs several times faster.
        case huffmanOnly
    }

    // zlib's state points back at the stream, so it needs a fixed address.
    private let stream: UnsafeMutablePointer<z_stream>
    /// Output staging for streaming; the sink gets its contents whenever it fills.
    private var staging: UnsafeMutableRawBufferPointer?

    /// Starts a stream in `format`. `memoryLevel` (1 to 9, zlib's default 8)
    /// trades memory for speed and size. Throws only when zlib cannot
    /// allocate its state.
    public init(format: DeflateFormat, memoryLevel: Int = 8, strategy: Strategy = .standard) throws(ModelError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, 6, Z_DEFLATED, format.windowBits, Int32(memoryLevel),
                                   strategy == .huffmanOnly ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw ModelError(.limit, "zlib could not start compressing (out of memory?)")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        staging?.deallocate()
    }

    /// An upper bound on the compressed size of `count` bytes (zlib's `deflateBound`).
    public func bound(_ count: Int) -> Int {
        Int(deflateBound(stream, uLong(count)))
    }

    /// Compresses `input`; with `finish`, ends the stream after it. Every
    /// full staging buffer, and the rest at the end, goes to `sink`.
    public func compress(_ input: UnsafeRawBufferPointer, finish: Bool,
                         sink: (UnsafeRawBufferPointer) throws(ModelError) -> Void) throws(ModelError) {
        let buffer = staging ?? .allocate(byteCount: 1 << 18, alignment: 16)
        staging = buffer
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
                try check(status)
                let ready = buffer.count - Int(stream.pointee.avail_out)
                if ready > 0 { try sink(UnsafeRawBufferPointer(rebasing: buffer[..<ready])) }
            } while stream.pointee.avail_out == 0 || (last && finish && status != Z_STREAM_END)
            consumed += piece
            if last { return }
        }
    }

    /// Compresses all of `input` and ends the stream, writing into `output`
    /// and never past its end. Returns the bytes written, or `nil` when the
    /// compressed data does not fit. For a new stream only.
    public func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ModelError) -> Int? {
        var consumed = 0, produced = 0
        while true {
            // zlib counts in 32-bit units; larger buffers go in pieces.
            let inputPiece = min(input.count - consumed, Int(UInt32.max))
            let outputPiece = min(output.count - produced, Int(UInt32.max))
            stream.pointee.next_in = input.baseAddress.map {
                UnsafeMutablePointer(mutating: ($0 + consumed).assumingMemoryBound(to: Bytef.self))
            }
            stream.pointee.avail_in = uInt(inputPiece)
            stream.pointee.next_out = output.baseAddress.map { ($0 + produced).assumingMemoryBound(to: Bytef.self) }
            stream.pointee.avail_out = uInt(outputPiece)
            let status = deflate(stream, consumed + inputPiece == input.count ? Z_FINISH : Z_NO_FLUSH)
            try check(status)
            consumed += inputPiece - Int(stream.pointee.avail_in)
            produced += outputPiece - Int(stream.pointee.avail_out)
            if status == Z_STREAM_END { return produced }
            // Short of the end, deflate stops only for want of output room or of input.
            if produced == output.count { return nil }
        }
    }

    /// Throws unless `status` is one deflate returns while working normally.
    private func check(_ status: Int32) throws(ModelError) {
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
            throw ModelError(.malformed, "zlib failed while compressing (status \(status))")
        }
    }
}
