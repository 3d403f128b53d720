import ModelCore

/// Appends the primitive values of the `.swm` metadata encoding (docs/FORMAT.md,
/// "Encoding"): LEB128 varints, zigzag-varint signed integers, length-prefixed
/// byte strings and little-endian fixed-width numbers.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func count(_ value: Int) { varint(UInt64(value)) }

    mutating func signed(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func data(_ value: [UInt8]) {
        count(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String) { data(Array(value.utf8)) }

    mutating func uint32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func uint64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// The bit pattern, so NaN payloads and −0 survive.
    mutating func float(_ value: Float) { uint32(value.bitPattern) }

    /// Zero bytes up to the next multiple of `alignment`.
    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }
}

/// Reads what `ByteWriter` writes from untrusted bytes: every read is checked
/// against the bytes remaining, and every count is bounded by them before
/// anything is allocated. Errors give the absolute file offset and `context`.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    /// Offset of `bytes` in the file, for messages.
    private let base: Int
    private(set) var position = 0
    /// What is being read, e.g. `MODL section`, for messages.
    let context: String

    init(_ bytes: UnsafeRawBufferPointer, fileOffset: Int, context: String) {
        self.bytes = bytes
        self.base = fileOffset
        self.context = context
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position == bytes.count }

    func error(_ message: String, at offset: Int? = nil) -> ModelError {
        ModelError(.malformed, message, byteOffset: base + (offset ?? position), location: context)
    }

    mutating func byte() throws(ModelError) -> UInt8 {
        guard position < bytes.count else { throw error("truncated") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws(ModelError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        for shift in stride(from: UInt64(0), to: 70, by: 7) {
            let b = try byte()
            if shift == 63 && b > 1 { throw error("malformed varint (over 64 bits)", at: start) }
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
        }
        throw error("malformed varint (over 10 bytes)", at: start)
    }

    mutating func signed() throws(ModelError) -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A non-negative integer that must fit in `Int`.
    mutating func int() throws(ModelError) -> Int {
        let start = position
        let raw = try varint()
        guard raw <= UInt64(Int.max) else { throw error("number \(raw) is too large", at: start) }
        return Int(raw)
    }

    /// A count of items that each take at least `minimumItemBytes`: bounded by
    /// the bytes left, so a crafted count cannot size an allocation.
    mutating func count(minimumItemBytes: Int = 1, of what: String) throws(ModelError) -> Int {
        let start = position
        let value = try int()
        guard value <= remaining / max(1, minimumItemBytes) else {
            throw error("\(what) count \(value) exceeds the \(remaining) bytes left", at: start)
        }
        return value
    }

    mutating func data(of what: String = "string") throws(ModelError) -> [UInt8] {
        let length = try count(of: "\(what) length")
        defer { position += length }
        return Array(bytes[position..<(position + length)])
    }

    mutating func string(of what: String = "string") throws(ModelError) -> String {
        let start = position
        let raw = try data(of: what)
        guard let text = String(validating: raw, as: UTF8.self) else { throw error("\(what) is not valid UTF-8", at: start) }
        return text
    }

    mutating func uint32() throws(ModelError) -> UInt32 {
        guard remaining >= 4 else { throw error("truncated") }
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func uint64() throws(ModelError) -> UInt64 {
        guard remaining >= 8 else { throw error("truncated") }
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    mutating func float() throws(ModelError) -> Float { Float(bitPattern: try uint32()) }

    /// A list of `count`-prefixed items. The array grows as items are read
    /// (no capacity reserved from the count): a decoded item can take many
    /// times its encoded bytes, so memory follows what the file really holds.
    mutating func list<T>(of what: String, _ item: (inout ByteReader) throws(ModelError) -> T) throws(ModelError) -> [T] {
        let n = try count(of: what)
        var items: [T] = []
        for _ in 0..<n { items.append(try item(&self)) }
        return items
    }
}

extension ByteWriter {
    mutating func list<T>(_ items: [T], _ item: (inout ByteWriter, T) throws(ModelError) -> Void) throws(ModelError) {
        count(items.count)
        for value in items { try item(&self, value) }
    }
}
