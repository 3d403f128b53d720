import ModelCore
import Zlib

/// The fixed parts of a `.swm` file (docs/FORMAT.md, "Header" and "Section table").
enum Layout {
    /// `\x89SWM\r\n\x1A\n`: a non-ASCII first byte, and line endings that a
    /// text-mode transfer would change, as PNG's signature does.
    static let magic: [UInt8] = [0x89, 0x53, 0x57, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A]
    static let majorVersion: UInt16 = 1
    static let minorVersion: UInt16 = 0
    static let headerSize = 64
    static let sectionEntrySize = 32
    /// Every tensor's data starts at a multiple of this (a cache line, and
    /// the widest vector load the engine uses).
    static let tensorAlignment = 64
    /// Metadata sections start at a multiple of this.
    static let sectionAlignment = 8
}

/// The 64-byte header at offset 0.
struct Header: Equatable {
    var major = Layout.majorVersion
    var minor = Layout.minorVersion
    var fileSize: UInt64
    var tableOffset: UInt64
    var sectionCount: UInt32
    var tableCRC: UInt32

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.append(Layout.magic)
        withUnsafeBytes(of: major.littleEndian) { w.append(Array($0)) }
        withUnsafeBytes(of: minor.littleEndian) { w.append(Array($0)) }
        w.uint32(UInt32(Layout.headerSize))
        w.uint64(fileSize)
        w.uint64(tableOffset)
        w.uint32(sectionCount)
        w.uint32(tableCRC)
        w.append([UInt8](repeating: 0, count: 60 - w.bytes.count))
        let crc = CRC32.of(w.bytes)
        w.uint32(crc)
        return w.bytes
    }

    /// Reads and checks the header: magic, then the major version (so that a
    /// newer file is refused with a clear message even if its header changed),
    /// then the checksum and sizes.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> Header {
        guard bytes.count >= 12, bytes.prefix(8).elementsEqual(Layout.magic) else {
            throw ModelError(.malformed, "not a .swm file (no SWM signature)", byteOffset: 0)
        }
        let major = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        let minor = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
        guard major <= Layout.majorVersion else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "written in .swm format version \(major).\(minor), newer than this reader's "
                             + "\(Layout.majorVersion).x; update modelinfo to read it", byteOffset: 8)
        }
        guard major == Layout.majorVersion else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "unsupported .swm format version \(major).\(minor)", byteOffset: 8)
        }
        guard bytes.count >= Layout.headerSize else {
            throw ModelError(.malformed, "truncated: the file has \(bytes.count) bytes, less than the \(Layout.headerSize)-byte header")
        }
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<Layout.headerSize]), fileOffset: 0, context: "header")
        _ = try r.uint64()
        _ = try r.uint32()
        let headerSize = try r.uint32()
        let fileSize = try r.uint64()
        let tableOffset = try r.uint64()
        let sectionCount = try r.uint32()
        let tableCRC = try r.uint32()
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        let actual = CRC32.of(UnsafeRawBufferPointer(rebasing: bytes[0..<60]))
        guard stored == actual else {
            throw ModelError(.malformed, "header checksum mismatch (stored \(hex32(stored)), computed \(hex32(actual))): the file is damaged",
                             byteOffset: 60)
        }
        // A later minor version may lengthen the header; its sections are found through the table either way.
        guard headerSize >= UInt32(Layout.headerSize) else {
            throw ModelError(.malformed, "header size \(headerSize) is below \(Layout.headerSize)", byteOffset: 12)
        }
        guard fileSize == UInt64(bytes.count) else {
            if fileSize > UInt64(bytes.count) {
                throw ModelError(.malformed, "truncated: the header says \(fileSize) bytes, the file has \(bytes.count)")
            }
            throw ModelError(.malformed, "the header says \(fileSize) bytes but the file has \(bytes.count): trailing bytes")
        }
        return Header(major: major, minor: minor, fileSize: fileSize, tableOffset: tableOffset,
                      sectionCount: sectionCount, tableCRC: tableCRC)
    }
}

/// What a section holds: four ASCII letters.
struct SectionKind: Hashable, CustomStringConvertible {
    let code: UInt32

    init(_ letters: String) {
        var value: UInt32 = 0
        for (i, byte) in letters.utf8.prefix(4).enumerated() { value |= UInt32(byte) << (8 * UInt32(i)) }
        code = value
    }

    init(code: UInt32) { self.code = code }

    static let model = SectionKind("MODL")
    static let tensors = SectionKind("TENS")
    static let data = SectionKind("DATA")
    static let provenance = SectionKind("PROV")

    var description: String {
        let letters = (0..<4).map { UInt8(truncatingIfNeeded: code >> (8 * $0)) }
        if letters.allSatisfy({ (0x20...0x7E).contains($0) }) { return String(decoding: letters, as: UTF8.self) }
        return hex32(code)
    }
}

/// One row of the section table.
struct SectionEntry: Equatable {
    var kind: SectionKind
    /// Bit 0: a reader that does not know `kind` must refuse the file.
    var flags: UInt32
    var offset: UInt64
    var length: UInt64
    /// CRC-32 of the section's bytes; zero and unused for the data section,
    /// whose tensors carry their own.
    var crc: UInt32

    static let requiredFlag: UInt32 = 1

    var isRequired: Bool { flags & Self.requiredFlag != 0 }

    func encode(into w: inout ByteWriter) {
        w.uint32(kind.code)
        w.uint32(flags)
        w.uint64(offset)
        w.uint64(length)
        w.uint32(crc)
        w.uint32(0)
    }

    static func decode(_ r: inout ByteReader) throws(ModelError) -> SectionEntry {
        let kind = SectionKind(code: try r.uint32())
        let flags = try r.uint32()
        let offset = try r.uint64()
        let length = try r.uint64()
        let crc = try r.uint32()
        _ = try r.uint32()
        return SectionEntry(kind: kind, flags: flags, offset: offset, length: length, crc: crc)
    }
}

/// `0x1A2B3C4D`, for messages.
func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
