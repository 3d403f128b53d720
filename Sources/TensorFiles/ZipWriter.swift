import ModelCore
import Zlib

/// Writes a ZIP archive member by member, as numpy's `savez` reads it:
/// stored or deflated, ZIP64 fields only where a size or offset needs them.
///
/// Every member gets a fixed timestamp (1980-01-01), so equal input gives
/// equal files. Stored members are padded (Android zipalign's extra field)
/// so that their data starts at a multiple of 64 in the file; since `.npy`
/// pads its header to 64 bytes too, the array data can be mapped aligned.
final class ZipWriter {
    private struct Entry {
        let name: [UInt8]
        let flags: UInt16
        let method: UInt16
        let crc32: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        let headerOffset: Int
    }

    private let file: OutputFile
    private let compressed: Bool
    /// Sizes and offsets from this value up go to ZIP64 fields. 0xFFFFFFFF
    /// (the classic fields' limit and sentinel) except in tests.
    private let zip64Threshold: Int
    private var entries: [Entry] = []

    static let dataAlignment = 64
    /// Android zipalign's extra field: a 2-byte alignment, then zero padding.
    static let alignmentFieldID: UInt16 = 0xD935
    /// DOS date of 1980-01-01 (the earliest ZIP can express), at 00:00.
    static let fixedDate: UInt16 = (0 << 9) | (1 << 5) | 1

    init(file: OutputFile, compressed: Bool, zip64Threshold: Int) {
        self.file = file
        self.compressed = compressed
        self.zip64Threshold = zip64Threshold
    }

    /// Adds the member `name` whose bytes are `pieces` in order.
    func add(name: String, pieces: [ByteRegion]) throws(ModelError) {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= Int(UInt16.max) else {
            throw ModelError(.limit, "the member name '\(name.prefix(40))…' is longer than ZIP's 65535 bytes", file: file.target)
        }
        var uncompressed = 0
        for piece in pieces {
            guard let sum = Checked.add(uncompressed, piece.count) else {
                throw ModelError(.limit, "member '\(name)' is too large", file: file.target)
            }
            uncompressed = sum
        }
        let deflater = compressed ? try Deflater(format: .raw) : nil
        let headerOffset = file.position
        // The compressed size is known only afterwards; zlib's bound decides whether ZIP64 room is needed.
        let zip64 = uncompressed >= zip64Threshold || (deflater?.bound(uncompressed) ?? 0) >= zip64Threshold
        let flags: UInt16 = nameBytes.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
        let method: UInt16 = compressed ? 8 : 0

        var extra: [UInt8] = []
        if zip64 {
            extra.appendLittleEndian(UInt16(1))
            extra.appendLittleEndian(UInt16(16))
            extra += [UInt8](repeating: 0, count: 16)
        }
        if !compressed {
            let unpadded = headerOffset + ZipReader.localHeaderSize + nameBytes.count + extra.count
            var padding = (Self.dataAlignment - unpadded % Self.dataAlignment) % Self.dataAlignment
            // The field needs 6 bytes for its ID, size and alignment.
            if padding > 0 && padding < 6 { padding += Self.dataAlignment }
            if padding > 0 {
                extra.appendLittleEndian(Self.alignmentFieldID)
                extra.appendLittleEndian(UInt16(padding - 4))
                extra.appendLittleEndian(UInt16(Self.dataAlignment))
                extra += [UInt8](repeating: 0, count: padding - 6)
            }
        }
        var header: [UInt8] = []
        header.appendLittleEndian(ZipReader.localSignature)
        header.appendLittleEndian(UInt16(zip64 ? 45 : 20))
        header.appendLittleEndian(flags)
        header.appendLittleEndian(method)
        header.appendLittleEndian(UInt16(0))
        header.appendLittleEndian(Self.fixedDate)
        // CRC and sizes are filled in once the data is written.
        header += [UInt8](repeating: 0, count: 12)
        header.appendLittleEndian(UInt16(nameBytes.count))
        header.appendLittleEndian(UInt16(extra.count))
        header += nameBytes
        header += extra
        try file.append(header)

        var crc: UInt32 = 0
        var compressedSize = 0
        for (index, piece) in pieces.enumerated() {
            try piece.withBytes { (bytes) throws(ModelError) in
                crc = CRC32.update(crc, bytes)
                if let deflater {
                    try deflater.compress(bytes, finish: index == pieces.count - 1) { (output) throws(ModelError) in
                        try file.append(output)
                        compressedSize += output.count
                    }
                } else {
                    try file.append(bytes)
                    compressedSize += bytes.count
                }
            }
        }
        guard zip64 || compressedSize < zip64Threshold else {
            throw ModelError(.internal, "member '\(name)' compressed to more than zlib's bound", file: file.target)
        }

        header.storeLittleEndian(crc, at: 14)
        if zip64 {
            header.storeLittleEndian(UInt32.max, at: 18)
            header.storeLittleEndian(UInt32.max, at: 22)
            let field = ZipReader.localHeaderSize + nameBytes.count + 4
            header.storeLittleEndian(UInt64(uncompressed), at: field)
            header.storeLittleEndian(UInt64(compressedSize), at: field + 8)
        } else {
            header.storeLittleEndian(UInt32(compressedSize), at: 18)
            header.storeLittleEndian(UInt32(uncompressed), at: 22)
        }
        try file.overwrite(header, at: headerOffset)
        entries.append(Entry(name: nameBytes, flags: flags, method: method, crc32: crc, compressedSize: compressedSize,
                             uncompressedSize: uncompressed, headerOffset: headerOffset))
    }

    /// Writes the central directory and the end records.
    func finish() throws(ModelError) {
        let directoryOffset = file.position
        for entry in entries {
            try file.append(centralEntry(entry))
        }
        let directorySize = file.position - directoryOffset
        let countLimit = min(zip64Threshold, Int(UInt16.max))
        var end: [UInt8] = []
        if entries.count >= countLimit || directorySize >= zip64Threshold || directoryOffset >= zip64Threshold {
            let recordOffset = file.position
            end.appendLittleEndian(ZipReader.zip64EndRecordSignature)
            end.appendLittleEndian(UInt64(ZipReader.zip64EndRecordSize - 12))
            end.appendLittleEndian(UInt16(45))
            end.appendLittleEndian(UInt16(45))
            end.appendLittleEndian(UInt32(0))
            end.appendLittleEndian(UInt32(0))
            end.appendLittleEndian(UInt64(entries.count))
            end.appendLittleEndian(UInt64(entries.count))
            end.appendLittleEndian(UInt64(directorySize))
            end.appendLittleEndian(UInt64(directoryOffset))
            end.appendLittleEndian(ZipReader.zip64LocatorSignature)
            end.appendLittleEndian(UInt32(0))
            end.appendLittleEndian(UInt64(recordOffset))
            end.appendLittleEndian(UInt32(1))
        }
        // Below the limit the count fits, since the limit is at most 0xFFFF.
        let count = entries.count >= countLimit ? UInt16.max : UInt16(entries.count)
        end.appendLittleEndian(ZipReader.endRecordSignature)
        end.appendLittleEndian(UInt32(0))
        end.appendLittleEndian(count)
        end.appendLittleEndian(count)
        end.appendLittleEndian(classic(directorySize))
        end.appendLittleEndian(classic(directoryOffset))
        end.appendLittleEndian(UInt16(0))
        try file.append(end)
    }

    private func centralEntry(_ entry: Entry) -> [UInt8] {
        var zip64: [UInt8] = []
        for value in [entry.uncompressedSize, entry.compressedSize, entry.headerOffset] where value >= zip64Threshold {
            zip64.appendLittleEndian(UInt64(value))
        }
        var extra: [UInt8] = []
        if !zip64.isEmpty {
            extra.appendLittleEndian(UInt16(1))
            extra.appendLittleEndian(UInt16(zip64.count))
            extra += zip64
        }
        let version: UInt16 = zip64.isEmpty ? 20 : 45
        var bytes: [UInt8] = []
        bytes.appendLittleEndian(ZipReader.centralSignature)
        // Made by Unix (3), so the permissions in the external attributes apply.
        bytes.appendLittleEndian(UInt16(3 << 8) | version)
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(entry.flags)
        bytes.appendLittleEndian(entry.method)
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(Self.fixedDate)
        bytes.appendLittleEndian(entry.crc32)
        bytes.appendLittleEndian(classic(entry.compressedSize))
        bytes.appendLittleEndian(classic(entry.uncompressedSize))
        bytes.appendLittleEndian(UInt16(entry.name.count))
        bytes.appendLittleEndian(UInt16(extra.count))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(UInt16(0))
        bytes.appendLittleEndian(UInt32(0o100644) << 16)
        bytes.appendLittleEndian(classic(entry.headerOffset))
        bytes += entry.name
        bytes += extra
        return bytes
    }

    /// A size or offset for a 32-bit field: the value, or the ZIP64 sentinel.
    private func classic(_ value: Int) -> UInt32 {
        value >= zip64Threshold ? UInt32.max : UInt32(value)
    }
}
