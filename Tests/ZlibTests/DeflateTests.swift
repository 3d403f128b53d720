import Testing
import Zlib

/// Deflate and inflate in both formats, and that neither writes past the buffer it is given.
@Suite struct DeflateTests {
    /// Text with repeats, so that it compresses.
    static let sample = Array(String(repeating: "one concept, one address; ", count: 400).utf8)

    /// `input` deflated in `format` through the streaming interface, in two pieces.
    static func streamed(_ input: [UInt8], format: DeflateFormat) throws -> [UInt8] {
        let deflater = try Deflater(format: format)
        var output: [UInt8] = []
        try input.withUnsafeBytes { bytes in
            let half = bytes.count / 2
            try deflater.compress(UnsafeRawBufferPointer(rebasing: bytes[..<half]), finish: false) { output += $0 }
            try deflater.compress(UnsafeRawBufferPointer(rebasing: bytes[half...]), finish: true) { output += $0 }
        }
        return output
    }

    /// Inflates `packed` into `count` bytes followed by guard bytes, which must stay untouched.
    static func inflate(_ packed: [UInt8], count: Int, format: DeflateFormat,
                        extent: Inflater.Extent) throws(Inflater.Failure) -> (bytes: [UInt8], unread: Int) {
        var buffer = [UInt8](repeating: 0xA5, count: count + 16)
        var result: Result<(written: Int, unread: Int), Inflater.Failure> = .success((0, 0))
        packed.withUnsafeBytes { input in
            buffer.withUnsafeMutableBytes { output in
                result = Result { () throws(Inflater.Failure) in
                    try Inflater.inflate(input, into: UnsafeMutableRawBufferPointer(rebasing: output[..<count]),
                                         format: format, extent: extent)
                }
            }
        }
        #expect(buffer[count...].allSatisfy { $0 == 0xA5 }, "inflate wrote past its buffer")
        let (written, unread) = try result.get()
        return (Array(buffer[..<written]), unread)
    }

    @Test(arguments: [DeflateFormat.raw, .zlib])
    func roundTrips(format: DeflateFormat) throws {
        let packed = try Self.streamed(Self.sample, format: format)
        #expect(packed.count < Self.sample.count / 10)
        let whole = try Self.inflate(packed, count: Self.sample.count, format: format, extent: .whole)
        #expect(whole.bytes == Self.sample && whole.unread == 0)
        let prefix = try Self.inflate(packed, count: 100, format: format, extent: .prefix)
        #expect(prefix.bytes == Array(Self.sample[..<100]))
        // Trailing bytes after the stream are left unread, not taken as data.
        let trailed = try Self.inflate(packed + [1, 2, 3], count: Self.sample.count, format: format, extent: .whole)
        #expect(trailed.bytes == Self.sample && trailed.unread == 3)
    }

    @Test func oneBufferMatchesStreamingAndNeverOverruns() throws {
        let streamed = try Self.streamed(Self.sample, format: .zlib)
        for room in [streamed.count + 100, streamed.count, streamed.count - 1, 0] {
            var buffer = [UInt8](repeating: 0xA5, count: room + 16)
            let written = try Self.sample.withUnsafeBytes { input in
                try buffer.withUnsafeMutableBytes { output in
                    try Deflater(format: .zlib).compress(input, into: UnsafeMutableRawBufferPointer(rebasing: output[..<room]))
                }
            }
            #expect(buffer[room...].allSatisfy { $0 == 0xA5 }, "deflate wrote past \(room) bytes")
            if room >= streamed.count {
                #expect(written == streamed.count && Array(buffer[..<streamed.count]) == streamed)
            } else {
                #expect(written == nil, "\(room) bytes of room")
            }
        }
    }

    @Test func refusesWhatDoesNotFit() throws {
        let packed = try Self.streamed(Self.sample, format: .raw)
        let short = Self.sample.count - 1
        #expect(throws: Inflater.Failure.self) { try Self.inflate(packed, count: short, format: .raw, extent: .whole) }
        let longer = try Self.inflate(packed, count: Self.sample.count + 1, format: .raw, extent: .whole)
        #expect(longer.bytes == Self.sample)
        #expect(throws: Inflater.Failure.self) {
            try Self.inflate(Array(packed.dropLast(4)), count: Self.sample.count, format: .raw, extent: .whole)
        }
        // A raw stream is not a zlib one: its first bytes are no zlib header.
        #expect(throws: Inflater.Failure.self) { try Self.inflate(packed, count: Self.sample.count, format: .zlib, extent: .whole) }
    }
}
