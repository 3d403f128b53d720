import ModelCore
import Zlib

/// A `.swm` file's contents: the model, with tensors that are views into the
/// mapped file, and what the file says about how they are stored.
public struct SWMFile: Sendable {
    public let model: Model
    /// `major.minor` of the format the file was written in.
    public let formatVersion: String
    /// The tensor table, in table order.
    public let tensors: [TensorEntry]
    /// `nil` when the file has no provenance section.
    public let provenance: Provenance?
    /// Sections this reader does not know and skipped (optional ones only).
    public let skippedSections: [String]
    /// The bytes behind each table entry, shared with `model`'s tensors, so
    /// that a checksum verified here is not computed again on first use.
    let owners: [StoredTensorBytes]

    /// The tensors whose stored bytes fail their checksum or decoding (empty when intact).
    func problems() -> [TensorProblem] {
        zip(tensors, owners).compactMap { entry, owner -> TensorProblem? in
            do throws(ModelError) {
                try owner.prepare()
                return nil
            } catch {
                return TensorProblem(tensor: entry, error: error)
            }
        }
    }
}

/// One tensor that failed `SWMReader.check`.
public struct TensorProblem: Sendable, Equatable {
    public let tensor: TensorEntry
    public let error: ModelError
}

/// Reads `.swm` files (docs/FORMAT.md).
///
/// Opening validates the header, the section table and the tensor table
/// completely before anything is allocated from them: every offset and
/// length with overflow-checked arithmetic, every range inside the file and
/// apart from the others, tensor data 64-byte aligned, every count bounded
/// by the bytes that would hold it. The metadata sections' checksums are
/// checked on every open; a tensor's checksum on its first use (or all of
/// them at once with `verify`).
public enum SWMReader {
    /// True when `bytes` start with the `.swm` signature.
    public static func looksLikeSWM(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= Layout.magic.count && bytes.prefix(Layout.magic.count).elementsEqual(Layout.magic)
    }

    /// Maps and reads the file at `path`.
    public static func read(path: String, verify: Bool = false) throws(ModelError) -> SWMFile {
        try read(file: try MappedFile(path: path), verify: verify)
    }

    /// Reads an already mapped file; with `verify`, every tensor's checksum
    /// (and decoding) is checked now rather than on first use. Errors name `file.path`.
    public static func read(file: MappedFile, verify: Bool = false) throws(ModelError) -> SWMFile {
        do throws(ModelError) {
            let contents = try decode(file)
            if verify, let problem = contents.problems().first { throw problem.error }
            return contents
        } catch {
            throw error.inFile(file.path)
        }
    }

    /// Reads the mapped file and verifies every tensor's checksum and decoding.
    /// Throws for a damaged structure; returns the tensors that fail (empty when intact).
    public static func check(file: MappedFile) throws(ModelError) -> (file: SWMFile, problems: [TensorProblem]) {
        let contents = try read(file: file)
        return (contents, contents.problems())
    }

    private static func decode(_ file: MappedFile) throws(ModelError) -> SWMFile {
        let bytes = file.bytes
        if !looksLikeSWM(bytes) {
            throw ModelError(.malformed, "not a .swm file: it does not start with the SWM signature", byteOffset: 0)
        }
        let header = try Header.decode(bytes)
        let sections = try sectionTable(header, bytes)

        var known: [SectionKind: SectionEntry] = [:]
        var skipped: [String] = []
        for entry in sections {
            switch entry.kind {
            case .model, .tensors, .data, .provenance:
                guard known[entry.kind] == nil else { throw ModelError(.malformed, "the file has two \(entry.kind) sections", byteOffset: Int(entry.offset)) }
                known[entry.kind] = entry
            default:
                if entry.isRequired {
                    throw ModelError(.unsupported(op: nil, dtype: nil), "the file needs a newer reader: it has a required section '\(entry.kind)' that this version does not know",
                                     byteOffset: Int(entry.offset))
                }
                skipped.append(entry.kind.description)
            }
        }
        for kind in [SectionKind.model, .tensors, .data] where known[kind] == nil {
            throw ModelError(.malformed, "the file has no \(kind) section")
        }
        for entry in known.values where entry.kind != .data {
            let actual = CRC32.of(body(of: entry, bytes))
            guard actual == entry.crc else {
                throw ModelError(.malformed, "checksum mismatch in the \(entry.kind) section (stored \(hex32(entry.crc)), computed \(hex32(actual))): "
                                 + "the file is damaged", byteOffset: Int(entry.offset))
            }
        }

        let entries = try tensorTable(known[.tensors]!, data: known[.data]!, bytes)
        let owners = entries.map { StoredTensorBytes(file: file, entry: $0) }
        let tensors = try zip(entries, owners).map { entry, owner throws(ModelError) in
            try Tensor(name: entry.name, dtype: entry.dtype, dims: entry.dims,
                       storage: .bytes(ByteRegion(owner: owner)), docString: entry.docString)
        }
        let modelSection = known[.model]!
        var model = try ModelDecoder.decode(reader(for: modelSection, bytes), tensors: tensors)
        model.graph = try model.graph.validated()

        var provenance: Provenance?
        if let section = known[.provenance] {
            var r = reader(for: section, bytes)
            provenance = try Provenance.decode(&r)
        }
        return SWMFile(model: model, formatVersion: "\(header.major).\(header.minor)", tensors: entries,
                       provenance: provenance, skippedSections: skipped, owners: owners)
    }

    /// The section table, each range checked to lie inside the file and apart from the others.
    private static func sectionTable(_ header: Header, _ bytes: UnsafeRawBufferPointer) throws(ModelError) -> [SectionEntry] {
        let size = UInt64(bytes.count)
        let count = UInt64(header.sectionCount)
        guard header.tableOffset >= UInt64(Layout.headerSize), header.tableOffset <= size,
              count <= (size - header.tableOffset) / UInt64(Layout.sectionEntrySize) else {
            throw ModelError(.malformed, "the section table (\(count) entries at byte \(header.tableOffset)) lies outside the file", byteOffset: 24)
        }
        let tableStart = Int(header.tableOffset)
        let tableLength = Int(count) * Layout.sectionEntrySize
        let tableBytes = UnsafeRawBufferPointer(rebasing: bytes[tableStart..<(tableStart + tableLength)])
        let actual = CRC32.of(tableBytes)
        guard actual == header.tableCRC else {
            throw ModelError(.malformed, "checksum mismatch in the section table (stored \(hex32(header.tableCRC)), computed \(hex32(actual))): "
                             + "the file is damaged", byteOffset: tableStart)
        }
        var r = ByteReader(tableBytes, fileOffset: tableStart, context: "section table")
        var sections: [SectionEntry] = []
        var ranges: [(range: Range<UInt64>, what: String)] = [(0..<UInt64(Layout.headerSize), "the header"),
                                                               (header.tableOffset..<(header.tableOffset + UInt64(tableLength)), "the section table")]
        for index in 0..<Int(count) {
            let entry = try SectionEntry.decode(&r)
            let (end, overflow) = entry.offset.addingReportingOverflow(entry.length)
            guard !overflow, end <= size else {
                throw ModelError(.malformed, "section \(index) (\(entry.kind)) at byte \(entry.offset) with \(entry.length) bytes runs past the end of the file",
                                 byteOffset: tableStart + index * Layout.sectionEntrySize)
            }
            sections.append(entry)
            ranges.append((entry.offset..<end, "section \(entry.kind)"))
        }
        try checkApart(ranges)
        return sections
    }

    /// Throws if any two non-empty ranges overlap.
    private static func checkApart(_ ranges: [(range: Range<UInt64>, what: String)]) throws(ModelError) {
        let sorted = ranges.filter { !$0.range.isEmpty }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.range.lowerBound < a.range.upperBound {
            throw ModelError(.malformed, "\(b.what) overlaps \(a.what)", byteOffset: Int(b.range.lowerBound))
        }
    }

    private static func body(of section: SectionEntry, _ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Int(section.offset)..<Int(section.offset + section.length)])
    }

    private static func reader(for section: SectionEntry, _ bytes: UnsafeRawBufferPointer) -> ByteReader {
        ByteReader(body(of: section, bytes), fileOffset: Int(section.offset), context: "\(section.kind) section")
    }

    /// The tensor table; every tensor's stored bytes lie inside the data
    /// section, start at a multiple of 64, and do not overlap another's.
    private static func tensorTable(_ section: SectionEntry, data: SectionEntry,
                                    _ bytes: UnsafeRawBufferPointer) throws(ModelError) -> [TensorEntry] {
        var r = reader(for: section, bytes)
        // An entry takes at least 13 bytes (name, type, rank, doc, encoding,
        // compression, axis, offset, length: one byte each; CRC: four).
        let count = try r.count(minimumItemBytes: 13, of: "tensor")
        var entries: [TensorEntry] = []
        let dataRange = data.offset..<(data.offset + data.length)
        var ranges: [(range: Range<UInt64>, what: String)] = []
        for _ in 0..<count {
            let start = r.position
            let entry = try TensorEntry.decode(&r)
            let offset = UInt64(entry.offset)
            let (end, overflow) = offset.addingReportingOverflow(UInt64(entry.storedLength))
            guard !overflow, dataRange.contains(offset) || (entry.storedLength == 0 && offset == dataRange.upperBound),
                  end <= dataRange.upperBound else {
                throw r.error("tensor '\(entry.name)' data (\(entry.storedLength) bytes at byte \(entry.offset)) lies outside the data section", at: start)
            }
            guard entry.offset % Layout.tensorAlignment == 0 else {
                throw r.error("tensor '\(entry.name)' data at byte \(entry.offset) is not \(Layout.tensorAlignment)-byte aligned", at: start)
            }
            entries.append(entry)
            ranges.append((offset..<end, "tensor '\(entry.name)'"))
        }
        guard r.isAtEnd else { throw r.error("\(r.remaining) unexpected bytes after the tensor table") }
        try checkApart(ranges)
        return entries
    }
}
