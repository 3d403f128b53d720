import ModelCore

/// One member of a ZIP archive, as its central directory describes it and
/// its local header confirms.
struct ZipMember {
    /// The member's name, decoded (UTF-8 when flagged, else ASCII).
    let name: String
    /// 0 = stored, 8 = deflated; others are refused while reading the directory.
    let method: UInt16
    let crc32: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let headerOffset: Int
    /// Where the member's (compressed) bytes begin.
    let dataOffset: Int
}

/// Reads a ZIP archive's directory, checking every offset and size against
/// the file before use. Single-disk archives only; ZIP64 records are read
/// when the classic ones are saturated.
enum ZipReader {
    static let endRecordSignature: UInt32 = 0x0605_4B50
    static let zip64EndRecordSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let localSignature: UInt32 = 0x0403_4B50
    static let endRecordSize = 22
    static let zip64EndRecordSize = 56
    static let zip64LocatorSize = 20
    static let centralEntrySize = 46
    static let localHeaderSize = 30

    /// The central directory's place, from the end record (or its ZIP64 form).
    private struct Directory {
        let offset: Int
        let size: Int
        let entryCount: Int
        /// Where the directory must end at the latest: the first end record.
        let limit: Int
    }

    /// The members in directory order, with their data ranges checked to lie
    /// inside the file, before the directory, and not to overlap.
    static func members(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> [ZipMember] {
        let reader = ByteReader(bytes: bytes)
        let directory = try findDirectory(reader)
        guard let directoryEnd = Checked.add(directory.offset, directory.size), directoryEnd <= directory.limit else {
            throw ModelError(.malformed, "the central directory (\(directory.size) bytes at \(directory.offset)) runs past its end record",
                             byteOffset: directory.limit)
        }
        guard directory.entryCount <= directory.size / centralEntrySize else {
            throw ModelError(.malformed, "the archive declares \(directory.entryCount) members, more than its \(directory.size)-byte "
                             + "central directory can describe", byteOffset: directory.limit)
        }
        var members: [ZipMember] = []
        var position = directory.offset
        for index in 0..<directory.entryCount {
            members.append(try centralEntry(reader, at: &position, end: directoryEnd, index: index, directory: directory))
        }
        guard position == directoryEnd else {
            throw ModelError(.malformed, "\(directoryEnd - position) unexpected bytes after the last central directory entry", byteOffset: position)
        }
        // Overlapping members would let a small file inflate to many copies of the same data.
        var previousEnd = 0
        for member in members.sorted(by: { $0.headerOffset < $1.headerOffset }) {
            guard member.headerOffset >= previousEnd else {
                throw ModelError(.malformed, "overlaps the member before it", byteOffset: member.headerOffset,
                                 location: "member '\(member.name)'")
            }
            previousEnd = member.dataOffset + member.compressedSize
        }
        return members
    }

    /// Finds the end record (searching back over a possible comment) and, if
    /// its fields are saturated, the ZIP64 end record it stands for.
    private static func findDirectory(_ reader: ByteReader) throws(ModelError) -> Directory {
        guard reader.count >= endRecordSize else {
            throw ModelError(.malformed, "truncated: \(reader.count) bytes are too few for a ZIP archive", byteOffset: reader.count)
        }
        var candidate = reader.count - endRecordSize
        let lowest = max(0, candidate - Int(UInt16.max))
        var found: Int?
        while candidate >= lowest {
            // The record's comment must reach exactly to the end of the file.
            if reader.u32(candidate) == endRecordSignature, let comment = reader.u16(candidate + 20),
               candidate + endRecordSize + Int(comment) == reader.count {
                found = candidate
                break
            }
            candidate -= 1
        }
        guard let end = found, let disk = reader.u16(end + 4), let directoryDisk = reader.u16(end + 6),
              let entriesHere = reader.u16(end + 8), let entries = reader.u16(end + 10),
              let size = reader.u32(end + 12), let offset = reader.u32(end + 16) else {
            throw ModelError(.malformed, "truncated or not a ZIP archive: no end-of-central-directory record", byteOffset: reader.count)
        }
        let saturated = disk == 0xFFFF || directoryDisk == 0xFFFF || entriesHere == 0xFFFF || entries == 0xFFFF
            || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF
        if saturated { return try zip64Directory(reader, endRecord: end) }
        guard disk == 0, directoryDisk == 0, entriesHere == entries else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "multi-part ZIP archives are not supported", byteOffset: end)
        }
        return Directory(offset: Int(offset), size: Int(size), entryCount: Int(entries), limit: end)
    }

    private static func zip64Directory(_ reader: ByteReader, endRecord: Int) throws(ModelError) -> Directory {
        let locator = endRecord - zip64LocatorSize
        guard locator >= 0, reader.u32(locator) == zip64LocatorSignature,
              let recordDisk = reader.u32(locator + 4), let recordOffset64 = reader.u64(locator + 8),
              let disks = reader.u32(locator + 16) else {
            throw ModelError(.malformed, "the end record defers to ZIP64, but there is no ZIP64 locator before it", byteOffset: endRecord)
        }
        guard recordDisk == 0, disks <= 1 else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "multi-part ZIP archives are not supported", byteOffset: locator)
        }
        guard let record = Int(exactly: recordOffset64), record <= locator - zip64EndRecordSize,
              reader.u32(record) == zip64EndRecordSignature,
              let disk = reader.u32(record + 16), let directoryDisk = reader.u32(record + 20),
              let entriesHere = reader.u64(record + 24), let entries = reader.u64(record + 32),
              let size = reader.u64(record + 40), let offset = reader.u64(record + 48) else {
            throw ModelError(.malformed, "the ZIP64 locator points at \(recordOffset64), where there is no ZIP64 end record",
                             byteOffset: locator + 8)
        }
        guard disk == 0, directoryDisk == 0, entriesHere == entries else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "multi-part ZIP archives are not supported", byteOffset: record)
        }
        guard let count = Int(exactly: entries), let size = Int(exactly: size), let offset = Int(exactly: offset) else {
            throw ModelError(.malformed, "the ZIP64 end record holds sizes beyond 2^63", byteOffset: record)
        }
        return Directory(offset: offset, size: size, entryCount: count, limit: record)
    }

    /// Reads the central directory entry at `position` and advances past it.
    private static func centralEntry(_ reader: ByteReader, at position: inout Int, end: Int, index: Int,
                                     directory: Directory) throws(ModelError) -> ZipMember {
        let start = position
        guard start <= end - centralEntrySize, reader.u32(start) == centralSignature,
              let flags = reader.u16(start + 8), let method = reader.u16(start + 10), let crc = reader.u32(start + 16),
              let compressed32 = reader.u32(start + 20), let uncompressed32 = reader.u32(start + 24),
              let nameLength = reader.u16(start + 28), let extraLength = reader.u16(start + 30),
              let commentLength = reader.u16(start + 32), let disk16 = reader.u16(start + 34),
              let offset32 = reader.u32(start + 42) else {
            throw ModelError(.malformed, "central directory entry \(index) is missing or damaged", byteOffset: start)
        }
        let nameStart = start + centralEntrySize
        let extraStart = nameStart + Int(nameLength)
        let entryEnd = extraStart + Int(extraLength) + Int(commentLength)
        guard entryEnd <= end, let nameBytes = reader.slice(nameStart, Int(nameLength)),
              let extra = reader.slice(extraStart, Int(extraLength)) else {
            throw ModelError(.malformed, "central directory entry \(index) runs past the directory's end", byteOffset: start)
        }
        position = entryEnd
        let name = try decodeName(nameBytes, utf8: flags & 0x0800 != 0, offset: nameStart)
        func refuse(_ message: String, at offset: Int = start) -> ModelError {
            ModelError(.malformed, message, byteOffset: offset, location: "member '\(name)'")
        }

        // Fields saturated in the entry are in its ZIP64 extra field, in this order.
        var uncompressed = Int(uncompressed32), compressed = Int(compressed32), offset = Int(offset32), disk = Int(disk16)
        if uncompressed32 == 0xFFFF_FFFF || compressed32 == 0xFFFF_FFFF || offset32 == 0xFFFF_FFFF || disk16 == 0xFFFF {
            guard let zip64 = zip64Field(extra) else { throw refuse("saturated sizes without a ZIP64 extra field") }
            var cursor = 0
            func next(_ width: Int) -> Int? {
                defer { cursor += width }
                return width == 8 ? zip64.u64(cursor).flatMap { Int(exactly: $0) } : zip64.u32(cursor).map(Int.init)
            }
            let values = (uncompressed32 == 0xFFFF_FFFF ? next(8) : uncompressed,
                          compressed32 == 0xFFFF_FFFF ? next(8) : compressed,
                          offset32 == 0xFFFF_FFFF ? next(8) : offset,
                          disk16 == 0xFFFF ? next(4) : disk)
            guard let u = values.0, let c = values.1, let o = values.2, let d = values.3 else {
                throw refuse("its ZIP64 extra field is too short or holds sizes beyond 2^63", at: extraStart)
            }
            (uncompressed, compressed, offset, disk) = (u, c, o, d)
        }
        guard disk == 0 else { throw refuse("multi-part ZIP archives are not supported") }
        guard flags & 0x0001 == 0 else { throw refuse("encrypted members are not supported") }
        switch method {
        case 0:
            guard compressed == uncompressed else {
                throw refuse("a stored member with \(compressed) bytes that declares \(uncompressed) bytes uncompressed")
            }
        case 8:
            break
        default:
            throw refuse("compression method \(method) (\(methodName(method))) is not supported; only stored and deflated are")
        }

        let dataOffset = try localData(reader, headerOffset: offset, nameBytes: nameBytes, method: method,
                                       directoryStart: directory.offset, refuse: refuse)
        guard let dataEnd = Checked.add(dataOffset, compressed), dataEnd <= directory.offset else {
            throw refuse("its \(compressed) bytes of data run past the start of the central directory", at: dataOffset)
        }
        return ZipMember(name: name, method: method, crc32: crc, compressedSize: compressed,
                         uncompressedSize: uncompressed, headerOffset: offset, dataOffset: dataOffset)
    }

    /// Checks the local header against the central entry and returns where the data starts.
    private static func localData(_ reader: ByteReader, headerOffset: Int, nameBytes: UnsafeRawBufferPointer, method: UInt16,
                                  directoryStart: Int, refuse: (String, Int) -> ModelError) throws(ModelError) -> Int {
        guard headerOffset <= directoryStart - localHeaderSize, reader.u32(headerOffset) == localSignature,
              let localFlags = reader.u16(headerOffset + 6), let localMethod = reader.u16(headerOffset + 8),
              let nameLength = reader.u16(headerOffset + 26), let extraLength = reader.u16(headerOffset + 28) else {
            throw refuse("no local header where the central directory points", headerOffset)
        }
        let dataOffset = headerOffset + localHeaderSize + Int(nameLength) + Int(extraLength)
        guard let localName = reader.slice(headerOffset + localHeaderSize, Int(nameLength)),
              localName.elementsEqual(nameBytes) else {
            throw refuse("the local header names a different member than the central directory", headerOffset)
        }
        guard localMethod == method, localFlags & 0x0001 == 0 else {
            throw refuse("the local header disagrees with the central directory on compression or encryption", headerOffset)
        }
        return dataOffset
    }

    /// The data of the ZIP64 extended-information field (ID 1) in `extra`, if present.
    private static func zip64Field(_ extra: UnsafeRawBufferPointer) -> ByteReader? {
        let reader = ByteReader(bytes: extra)
        var position = 0
        while let id = reader.u16(position), let size = reader.u16(position + 2),
              let data = reader.slice(position + 4, Int(size)) {
            if id == 0x0001 { return ByteReader(bytes: data) }
            position += 4 + Int(size)
        }
        return nil
    }

    /// A member name: UTF-8 when the entry says so; otherwise ZIP's default
    /// code page 437, of which only the ASCII part is accepted.
    private static func decodeName(_ bytes: UnsafeRawBufferPointer, utf8: Bool, offset: Int) throws(ModelError) -> String {
        if utf8 {
            guard let name = String(validating: bytes, as: UTF8.self) else {
                throw ModelError(.malformed, "a member name flagged UTF-8 is not valid UTF-8", byteOffset: offset)
            }
            return name
        }
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "a member name uses code page 437 beyond ASCII, which is not supported", byteOffset: offset)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func methodName(_ method: UInt16) -> String {
        switch method {
        case 9: return "deflate64"
        case 12: return "bzip2"
        case 14: return "LZMA"
        case 93: return "Zstandard"
        case 95: return "xz"
        default: return "unknown"
        }
    }
}
