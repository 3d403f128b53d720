import Foundation
import ModelInfo
@testable import SWMFormat
import Testing
import TestSupport
import Zlib

/// Every file is untrusted: damage gives one clear error, never a crash.
@Suite struct DamagedFileTests {
    /// A small `.swm` file's bytes, written from a fixture.
    static func sample(_ fixture: String = "valid/tiny-cnn.onnx", writer: SWMWriter = SWMWriter()) throws -> [UInt8] {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("sample.swm").path
        try writer.write(try ONNXReader.read(path: Fixtures.path(fixture)), to: path, provenance: { RoundTripTests.provenance })
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes `bytes` to a file and opens it as a model.
    static func open(_ bytes: [UInt8], in folder: URL) throws -> SWMFile {
        let url = folder.appendingPathComponent("damaged.swm")
        try Data(bytes).write(to: url)
        return try SWMReader.read(path: url.path)
    }

    static func expectError(_ bytes: [UInt8], containing text: String, in folder: URL,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try open(bytes, in: folder)
            Issue.record("opened although it should fail with '\(text)'", sourceLocation: sourceLocation)
        } catch let error as ModelError {
            #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Rewriting files with valid checksums, to reach the checks behind them

    /// The section table of `bytes`.
    static func sections(_ bytes: [UInt8]) throws -> [SectionEntry] {
        try bytes.withUnsafeBytes { raw in
            let header = try Header.decode(raw)
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[Int(header.tableOffset)...]), fileOffset: 0, context: "test")
            return try (0..<Int(header.sectionCount)).map { _ in try SectionEntry.decode(&r) }
        }
    }

    /// `bytes` with `sections` as its table (appended at the end) and a header to match.
    static func withTable(_ bytes: [UInt8], _ sections: [SectionEntry], major: UInt16 = Layout.majorVersion) -> [UInt8] {
        var out = bytes
        while out.count % 8 != 0 { out.append(0) }
        var rows = ByteWriter()
        for s in sections { s.encode(into: &rows) }
        let tableOffset = out.count
        out += rows.bytes
        var header = Header(fileSize: UInt64(out.count), tableOffset: UInt64(tableOffset), sectionCount: UInt32(sections.count),
                            tableCRC: CRC32.of(rows.bytes))
        header.major = major
        out.replaceSubrange(0..<Layout.headerSize, with: header.encoded())
        return out
    }

    /// `bytes` with the contents of section `kind` replaced (appended anew, with its checksum).
    static func replacing(_ kind: SectionKind, in bytes: [UInt8], with body: [UInt8]) throws -> [UInt8] {
        var table = try sections(bytes)
        var out = bytes
        while out.count % 8 != 0 { out.append(0) }
        let index = try #require(table.firstIndex { $0.kind == kind })
        table[index].offset = UInt64(out.count)
        table[index].length = UInt64(body.count)
        table[index].crc = CRC32.of(body)
        out += body
        return withTable(out, table)
    }

    /// `bytes` with its tensor table edited by `edit`.
    static func editingTensors(_ bytes: [UInt8], _ edit: (inout [TensorEntry]) throws -> Void) throws -> [UInt8] {
        let table = try sections(bytes)
        let section = try #require(table.first { $0.kind == .tensors })
        var entries = try bytes.withUnsafeBytes { raw in
            var r = ByteReader(UnsafeRawBufferPointer(rebasing: raw[Int(section.offset)..<Int(section.offset + section.length)]),
                               fileOffset: 0, context: "test")
            return try r.list(of: "tensor") { r throws(ModelError) in try TensorEntry.decode(&r) }
        }
        try edit(&entries)
        var w = ByteWriter()
        w.count(entries.count)
        for e in entries { e.encode(into: &w) }
        return try replacing(.tensors, in: bytes, with: w.bytes)
    }

    static func entry(_ e: TensorEntry, offset: Int? = nil, storedLength: Int? = nil, dims: [Int]? = nil,
                      compression: StoredCompression? = nil) throws -> TensorEntry {
        // The test builds entries the reader must refuse, so it bypasses the initializer's checks through encoding.
        var w = ByteWriter()
        w.string(e.name)
        w.signed(Int64(e.dtype.rawValue))
        let d = dims ?? e.dims
        w.count(d.count)
        for x in d { w.count(x) }
        w.string(e.docString)
        w.byte(e.encoding.rawValue)
        w.byte((compression ?? e.compression).rawValue)
        w.count(e.axis)
        w.count(offset ?? e.offset)
        w.count(storedLength ?? e.storedLength)
        w.uint32(e.crc)
        return try w.bytes.withUnsafeBytes { raw in
            var r = ByteReader(raw, fileOffset: 0, context: "test")
            return try TensorEntry.decode(&r)
        }
    }

    // MARK: Crafted damage

    @Test func craftedDamageIsNamed() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = try Self.sample()
        #expect(try Self.open(good, in: folder).tensors.count == 8)
        let table = try Self.sections(good)

        Self.expectError(Self.withTable(good, table, major: 2), containing: "newer than this reader's 1.x", in: folder)
        var flipped = good
        flipped[20] ^= 1
        Self.expectError(flipped, containing: "header checksum mismatch", in: folder)
        Self.expectError(good + [0], containing: "trailing bytes", in: folder)
        Self.expectError(Array(good.dropLast()), containing: "truncated", in: folder)
        Self.expectError(Array(Data("PK\u{3}\u{4} not a model".utf8)), containing: "not a .swm file", in: folder)

        // Sections: unknown optional ones are skipped, unknown required ones refused.
        let extra = SectionEntry(kind: SectionKind("XTRA"), flags: 0, offset: 8, length: 0, crc: 0)
        #expect(try Self.open(Self.withTable(good, table + [extra]), in: folder).skippedSections == ["XTRA"])
        var required = extra
        required.flags = SectionEntry.requiredFlag
        Self.expectError(Self.withTable(good, table + [required]), containing: "needs a newer reader", in: folder)
        var overlapping = table
        let model = try #require(overlapping.firstIndex { $0.kind == .model })
        overlapping[model].offset -= 8
        Self.expectError(Self.withTable(good, overlapping), containing: "overlaps", in: folder)
        var outside = table
        outside[model].length = UInt64.max - 4
        Self.expectError(Self.withTable(good, outside), containing: "runs past the end of the file", in: folder)
        Self.expectError(Self.withTable(good, table.filter { $0.kind != .tensors }), containing: "no TENS section", in: folder)
        var duplicate = table[model]
        duplicate.length = 0
        Self.expectError(Self.withTable(good, table + [duplicate]), containing: "two MODL sections", in: folder)

        // The tensor table.
        Self.expectError(try Self.editingTensors(good) { $0[0] = try Self.entry($0[0], offset: $0[0].offset + 4) },
                         containing: "not 64-byte aligned", in: folder)
        Self.expectError(try Self.editingTensors(good) { $0[1] = try Self.entry($0[1], offset: $0[0].offset) },
                         containing: "overlaps", in: folder)
        Self.expectError(try Self.editingTensors(good) { $0[0] = try Self.entry($0[0], offset: 64 * 1_000_000) },
                         containing: "outside the data section", in: folder)
        Self.expectError(try Self.replacing(.tensors, in: good, with: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
                         containing: "tensor count 4294967295 exceeds", in: folder)
        Self.expectError(try Self.replacing(.model, in: good, with: [0x80, 0x80]), containing: "truncated", in: folder)
        #expect(throws: ModelError.self) {
            _ = try TensorEntry(name: "w", dtype: .float, dims: [2], docString: "", encoding: .raw, compression: .none,
                                axis: 0, offset: 0, storedLength: 4, crc: 0)
        }
        #expect(throws: ModelError.self) {
            _ = try TensorEntry(name: "w", dtype: .float, dims: [1 << 40], docString: "", encoding: .raw, compression: .shuffleDeflate,
                                axis: 0, offset: 0, storedLength: 64, crc: 0)
        }
        #expect(throws: ModelError.self) {
            _ = try TensorEntry(name: "w", dtype: .float, dims: [Int.max, 4], docString: "", encoding: .raw, compression: .none,
                                axis: 0, offset: 0, storedLength: 64, crc: 0)
        }
    }

    // MARK: Exhaustive and random damage

    /// Any single byte changed inside a tensor's data is caught, naming that tensor.
    @Test(arguments: [false, true])
    func everyFlippedTensorByteIsCaught(compressed: Bool) throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = try Self.sample(writer: SWMWriter(weights: compressed ? .int8 : .f32, compress: compressed))
        let path = folder.appendingPathComponent("flipped.swm").path
        let entries = try Self.open(good, in: folder).tensors
        var flips = 0
        for entry in entries {
            for offset in entry.offset..<(entry.offset + entry.storedLength) {
                var bytes = good
                bytes[offset] ^= 0x5A
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                let (_, problems) = try SWMReader.check(file: MappedFile(path: path))
                #expect(problems.map(\.tensor.name) == [entry.name], "flip at byte \(offset)")
                flips += 1
            }
        }
        #expect(flips > 500)
    }

    @Test func truncationAtEveryByteIsAnError() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = try Self.sample()
        for cut in 0..<good.count {
            do {
                _ = try Self.open(Array(good[..<cut]), in: folder)
                Issue.record("a file cut at byte \(cut) opened")
            } catch let error as ModelError {
                #expect(!error.description.contains("\n"))
            }
        }
    }

    /// Thousands of seeded mutations, half of them with every checksum made
    /// valid again so that they reach the parsers behind the checksums. Each
    /// file opens or throws; what opens is checked and run through `prepare`.
    @Test func seededRandomMutations() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let originals = [try Self.sample(), try Self.sample("valid/control-flow.onnx"),
                         try Self.sample(writer: SWMWriter(weights: .int8, compress: true))]
        var generator = SeededGenerator(seed: 20261127)
        var rejected = 0, opened = 0
        for round in 0..<3000 {
            var bytes = originals[round % originals.count]
            let refreshChecksums = round % 2 == 1
            let table = try Self.sections(bytes)
            // With refreshed checksums, aim at the metadata sections (the data's damage is the flip test's).
            let targets = refreshChecksums ? table.filter { $0.kind != .data && $0.length > 0 } : []
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let range: Range<Int>
                if let section = targets.randomElement(using: &generator) {
                    range = Int(section.offset)..<Int(section.offset + section.length)
                } else {
                    range = 0..<bytes.count
                }
                let position = Int.random(in: range, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                default: bytes[position] = [0x00, 0x7F, 0x80, 0xFF].randomElement(using: &generator)!
                }
            }
            if refreshChecksums {
                var fixed = table
                for i in fixed.indices where fixed[i].kind != .data {
                    fixed[i].crc = CRC32.of(Array(bytes[Int(fixed[i].offset)..<Int(fixed[i].offset + fixed[i].length)]))
                }
                let tableStart = bytes.count - table.count * Layout.sectionEntrySize
                bytes = Self.withTable(Array(bytes[..<tableStart]), fixed)
            }
            do {
                let file = try Self.open(bytes, in: folder)
                for tensor in file.model.graph.initializers { try? tensor.bytes?.prepare() }
                _ = try SWMReader.check(file: MappedFile(path: folder.appendingPathComponent("damaged.swm").path))
                opened += 1
            } catch let error as ModelError {
                #expect(!error.description.contains("\n"))
                rejected += 1
            }
        }
        #expect(rejected + opened == 3000)
        #expect(rejected > 1000 && opened > 0, "\(rejected) rejected, \(opened) opened")
    }
}

/// A tensor whose data fails its check stops the writer; the thread that
/// computes the other tensors' checksums meanwhile must have finished when
/// the error is thrown, since it reads the model's bytes. (The fuzzer found
/// it still running into the next input, whose file had replaced them.)
@Suite struct WriterFailureTests {
    /// Bytes that check fine but take a while to hand out, and say when they have.
    final class SlowBytes: ByteOwner, @unchecked Sendable {
        let storage = [UInt8](repeating: 1, count: 4096)
        var handedOut = false
        var byteCount: Int { storage.count }
        var bytes: UnsafeRawBufferPointer {
            usleep(200_000)
            handedOut = true
            return storage.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[...]) }
        }
        func prepare() throws(ModelError) {}
    }

    /// Bytes whose check fails, as a damaged `.swm` tensor's does.
    final class DamagedBytes: ByteOwner, @unchecked Sendable {
        let storage = [UInt8](repeating: 0, count: 16)
        var bytes: UnsafeRawBufferPointer { storage.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[...]) } }
        func prepare() throws(ModelError) { throw ModelError(.malformed, "checksum mismatch") }
    }

    @Test func aFailedWriteLeavesNoChecksumRunning() throws {
        let slow = SlowBytes()
        let tensors = [
            try Tensor(name: "damaged", dtype: .float, dims: [4], storage: .bytes(ByteRegion(owner: DamagedBytes()))),
            try Tensor(name: "slow", dtype: .float, dims: [1024], storage: .bytes(ByteRegion(owner: slow))),
        ]
        let graph = Graph(nodes: [Node(name: "add", opType: "Add", inputs: ["damaged", "slow"], outputs: ["y"])],
                          initializers: tensors, outputs: [ValueInfo(name: "y")])
        let path = try Fixtures.temporaryFolder().appendingPathComponent("failed.swm").path
        slow.handedOut = false
        #expect(throws: ModelError.self) {
            try SWMWriter().write(Model(irVersion: 8, opsets: [OpsetID(domain: "", version: 17)], graph: graph), to: path,
                                  provenance: { RoundTripTests.provenance })
        }
        #expect(slow.handedOut, "the checksum thread was still reading when write returned")
    }
}
