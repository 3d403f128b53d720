import Zlib

/// Makes a mutated `.swm` file consistent again where the reader checks
/// consistency: the header's file size, the CRC of every tensor (found
/// through the `TENS` table), of every section but `DATA`, of the section
/// table and of the header (docs/FORMAT.md). Anything that does not parse
/// far enough to be repaired is left as it is, for the reader to refuse.
public enum SWMRepair {
    public static func repair(_ bytes: inout [UInt8]) {
        guard bytes.count >= 64 else { return }
        store(UInt64(bytes.count), at: 16, in: &bytes)
        let tableOffset = Int(clamping: load(UInt64.self, at: 24, in: bytes))
        let sectionCount = Int(load(UInt32.self, at: 32, in: bytes))
        if tableOffset <= bytes.count, sectionCount <= (bytes.count - tableOffset) / 32 {
            let rows = (0..<sectionCount).map { tableOffset + 32 * $0 }
            // Tensors first: their CRCs live inside TENS, whose own CRC covers them.
            for row in rows where kind(at: row, in: bytes) == "TENS" {
                if let range = section(at: row, in: bytes) { repairTensorTable(range, in: &bytes) }
            }
            for row in rows where kind(at: row, in: bytes) != "DATA" {
                if let range = section(at: row, in: bytes) { store(crc(bytes[range]), at: row + 24, in: &bytes) }
            }
            store(crc(bytes[tableOffset..<tableOffset + 32 * sectionCount]), at: 36, in: &bytes)
        }
        store(crc(bytes[0..<60]), at: 60, in: &bytes)
    }

    static func kind(at row: Int, in bytes: [UInt8]) -> String {
        String(decoding: bytes[row..<row + 4], as: UTF8.self)
    }

    static func section(at row: Int, in bytes: [UInt8]) -> Range<Int>? {
        let offset = load(UInt64.self, at: row + 8, in: bytes), length = load(UInt64.self, at: row + 16, in: bytes)
        guard offset <= UInt64(bytes.count), length <= UInt64(bytes.count) - offset else { return nil }
        return Int(offset)..<Int(offset + length)
    }

    /// Walks the table's entries and sets each one's CRC to that of the bytes it points at.
    static func repairTensorTable(_ range: Range<Int>, in bytes: inout [UInt8]) {
        var reader = Reader(bytes: bytes, position: range.lowerBound, end: range.upperBound)
        guard let count = reader.varint() else { return }
        for _ in 0..<min(count, UInt64(range.count)) {
            guard reader.skipBytes(), reader.varint() != nil,                 // name, elem_type
                  let rank = reader.varint(), rank <= UInt64(range.count) else { return }
            for _ in 0..<rank { guard reader.varint() != nil else { return } }  // dims
            guard reader.skipBytes(), reader.skip(2), reader.varint() != nil,  // doc_string, encoding, compression, axis
                  let offset = reader.varint(), let length = reader.varint(), reader.position + 4 <= reader.end else { return }
            if offset <= UInt64(bytes.count), length <= UInt64(bytes.count) - offset {
                store(crc(bytes[Int(offset)..<Int(offset + length)]), at: reader.position, in: &bytes)
            }
            reader.position += 4
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 70, by: 7) {
                guard position < end else { return nil }
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte < 0x80 { return value }
            }
            return nil
        }

        mutating func skip(_ count: Int) -> Bool {
            guard count <= end - position else { return false }
            position += count
            return true
        }

        mutating func skipBytes() -> Bool {
            guard let count = varint(), count <= UInt64(end - position) else { return false }
            return skip(Int(count))
        }
    }

    static func crc(_ slice: ArraySlice<UInt8>) -> UInt32 {
        slice.withUnsafeBytes { CRC32.of($0) }
    }

    static func load<T: FixedWidthInteger>(_: T.Type, at offset: Int, in bytes: [UInt8]) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(bytes[offset + index]) }
        return value
    }

    static func store<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<MemoryLayout<T>.size { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
}
