import ModelCore

/// Bounds-checked little-endian reads from untrusted bytes: every read
/// returns `nil` rather than touching memory outside `bytes`.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    var count: Int { bytes.count }

    /// Whether `length` bytes starting at `offset` lie inside, without overflowing.
    func contains(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count && length <= bytes.count - offset
    }

    func u16(_ offset: Int) -> UInt16? { load(offset, as: UInt16.self) }
    func u32(_ offset: Int) -> UInt32? { load(offset, as: UInt32.self) }
    func u64(_ offset: Int) -> UInt64? { load(offset, as: UInt64.self) }

    /// The bytes `offset ..< offset + length`, if they lie inside.
    func slice(_ offset: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard contains(offset, length) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }

    private func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type) -> T? {
        guard contains(offset, MemoryLayout<T>.size) else { return nil }
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in little-endian byte order.
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// The bytes, for a body that throws a typed error (`withUnsafeBytes`
    /// only rethrows, which would erase the error type).
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result = withUnsafeBytes { bytes in Result { () throws(E) -> R in try body(bytes) } }
        return try result.get()
    }

    /// Overwrites the bytes at `offset` with `value` in little-endian byte order.
    mutating func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        Swift.withUnsafeBytes(of: value.littleEndian) { replaceSubrange(offset..<(offset + $0.count), with: $0) }
    }
}

/// Overflow-checked arithmetic on sizes and offsets read from a file.
enum Checked {
    /// `a + b`, or `nil` on overflow.
    static func add(_ a: Int, _ b: Int) -> Int? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
    }

    /// `a × b`, or `nil` on overflow.
    static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : product
    }
}

extension ByteRegion {
    /// The bytes, for a body that throws a typed error (`withUnsafeBytes`
    /// only rethrows, which would erase the error type).
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        defer { withExtendedLifetime(owner) {} }
        return try body(UnsafeRawBufferPointer(rebasing: owner.bytes[range]))
    }
}
