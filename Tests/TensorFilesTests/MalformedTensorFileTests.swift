import Foundation
import ModelInfo
import Testing
import TestSupport
@testable import TensorFiles

/// Bad tensor files are normal input: each gets a one-line error naming the
/// file and a byte offset, never a crash, a hang or an allocation the file
/// did not pay for.
@Suite struct MalformedTensorFileTests {
    /// Checks the error's shape and returns its message.
    static func message(_ bytes: [UInt8], name: String = "bad.npy") throws -> String? {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try Helpers.write(bytes, name, in: folder)
        guard let error = Helpers.failure(reading: path) else { return nil }
        #expect(error.description.hasPrefix(path + ": "), "\(error)")
        #expect(!error.description.contains("\n"))
        return error.message
    }

    // MARK: Crafted .npy headers

    static let headers: [(label: String, bytes: [UInt8], phrase: String)] = [
        ("huge shape", Helpers.npy(Helpers.dictionary(shape: "(9223372036854775807, 2)")), "overflows"),
        ("shape larger than the file", Helpers.npy(Helpers.dictionary(descr: "<f8", shape: "(1000000000,)")),
         "needs 8000000000 bytes of data but 0 remain"),
        ("negative dimension", Helpers.npy(Helpers.dictionary(shape: "(2, -1)")), "negative dimension -1"),
        ("integer too large", Helpers.npy(Helpers.dictionary(shape: "(99999999999999999999999,)")), "integer too large"),
        ("header length past the end", Helpers.npy(Helpers.dictionary(), length: 0xFFFF), "header is 65535 bytes long"),
        ("v2 header length past the end", Helpers.npy(Helpers.dictionary(), major: 2, length: 0x10_0000),
         "header is 1048576 bytes long"),
        ("header length over the limit", Helpers.npy(Helpers.dictionary(), major: 2, length: 0x7FFF_FFFF),
         "claims 2147483647 bytes, more than the 1048576 this reader accepts"),
        ("unclosed dictionary", Helpers.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), "), "expected a value"),
        ("missing colon", Helpers.npy("{'descr' '<f4'}"), "expected \":\""),
        ("unterminated string", Helpers.npy("{'descr: '<f4'}"), "expected \":\""),
        ("string across a newline", Helpers.npy("{'descr\n': 1}"), "unterminated string"),
        ("unknown escape", Helpers.npy("{'de\\x73cr': '<f4'}"), "unsupported escape"),
        ("not a dictionary", Helpers.npy("[1, 2]"), "expected a dictionary"),
        ("trailing text", Helpers.npy(Helpers.dictionary() + "x"), "unexpected \"x\" after the header"),
        ("a name", Helpers.npy("{'descr': float32}"), "unexpected name 'float32'"),
        ("deep nesting", Helpers.npy("{'shape': " + String(repeating: "(", count: 5000) + "}"), "nested more than"),
        ("unknown descr", Helpers.npy(Helpers.dictionary(descr: "<q9")), "unknown type code"),
        ("float of no ONNX size", Helpers.npy(Helpers.dictionary(descr: "<f16")), "no ONNX type of this size"),
        ("object array", Helpers.npy(Helpers.dictionary(descr: "|O")), "object arrays"),
        ("void (bfloat16)", Helpers.npy(Helpers.dictionary(descr: "<V2")), "raw void"),
        ("datetime", Helpers.npy(Helpers.dictionary(descr: "<M8[ns]")), "datetime"),
        ("zero-width strings", Helpers.npy(Helpers.dictionary(descr: "<U0")), "zero-width"),
        ("structured", Helpers.npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}"), "structured arrays"),
        ("descr not a string", Helpers.npy(Helpers.dictionary().replacingOccurrences(of: "'<f4'", with: "4")),
         "'descr' is an integer"),
        ("fortran_order not a bool", Helpers.npy(Helpers.dictionary(fortran: "'no'")), "'fortran_order' is a string"),
        ("shape not a tuple", Helpers.npy(Helpers.dictionary(shape: "(2)")), "'shape' is an integer, not a tuple"),
        ("shape as a list", Helpers.npy(Helpers.dictionary(shape: "[2]")), "'shape' is a list"),
        ("float dimension", Helpers.npy(Helpers.dictionary(shape: "(2, None)")), "a dimension is None"),
        ("missing shape", Helpers.npy("{'descr': '<f4', 'fortran_order': False}"), "no 'shape'"),
        ("extra key", Helpers.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}"), "unexpected key 'x'"),
        ("duplicate key", Helpers.npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}"),
         "'descr' appears twice"),
        ("key not a string", Helpers.npy("{1: 2}"), "a key is an integer"),
        ("version 4", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 4, 0, 0, 0], "unsupported .npy format version 4.0"),
        ("data missing", Helpers.npy(Helpers.padded(Helpers.dictionary(shape: "(3,)")), data: [0, 0, 0, 0]),
         "needs 12 bytes of data but 4 remain"),
        ("data left over", Helpers.npy(Helpers.padded(Helpers.dictionary(shape: "(1,)")), data: [0, 0, 0, 0, 9]),
         "1 unexpected bytes after the array data"),
        ("surrogate in a string", Helpers.npy(Helpers.padded(Helpers.dictionary(descr: "<U1", shape: "(1,)")), data: [0x00, 0xD8, 0, 0]),
         "0xd800, which is not a Unicode code point"),
        ("code point past Unicode", Helpers.npy(Helpers.padded(Helpers.dictionary(descr: "<U1", shape: "()")), data: [0, 0, 0x11, 0]),
         "0x110000"),
        ("invalid UTF-8 in a 3.0 header", Helpers.npy(Helpers.dictionary(descr: "<f\u{FF}"), major: 3).map { $0 == 0xC3 ? 0xFF : $0 },
         "not valid UTF-8"),
    ]

    @Test(arguments: headers.map(\.label))
    func craftedHeaderIsRejected(_ label: String) throws {
        let entry = try #require(Self.headers.first { $0.label == label })
        let message = try #require(try Self.message(entry.bytes), "\(label) was read")
        #expect(message.contains(entry.phrase), "\(label): \(message)")
    }

    @Test func errorPointsAtTheBadValue() throws {
        let bytes = Helpers.npy(Helpers.dictionary(shape: "(2, -7)"))
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = try #require(Helpers.failure(reading: try Helpers.write(bytes, "x.npy", in: folder)))
        let text = Array(Helpers.dictionary(shape: "(2, -7)").utf8)
        let minus = try #require(text.firstIndex(of: UInt8(ascii: "-")))
        #expect(error.byteOffset == 10 + minus)
    }

    /// A zero-length axis makes any other length valid: numpy reads such an array too.
    @Test func emptyArrayWithHugeAxes() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let shape = "(0, 9223372036854775807, 9223372036854775807)"
        let path = try Helpers.write(Helpers.npy(Helpers.padded(Helpers.dictionary(shape: shape))), "void.npy", in: folder)
        let tensor = try #require(try TensorFile.read(path: path).first)
        #expect(tensor.elementCount == 0)
        #expect(tensor.dims == [0, Int.max, Int.max])
    }

    // MARK: Crafted archives

    /// An archive written by `ZipWriter` from the given members, as bytes.
    static func archive(_ members: [(name: String, bytes: [UInt8])], compressed: Bool) throws -> [UInt8] {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("a.npz").path
        let output = try OutputFile(target: path)
        let zip = ZipWriter(file: output, compressed: compressed, zip64Threshold: Int(UInt32.max))
        for member in members { try zip.add(name: member.name, pieces: [ByteRegion(copying: member.bytes)]) }
        try zip.finish()
        try output.commit()
        return try Helpers.read(path)
    }

    /// A valid `.npy` of `count` float32 zeros.
    static func zeros(_ count: Int) throws -> [UInt8] {
        let tensor = try Tensor(name: "z", dtype: .float, dims: [count],
                                storage: .bytes(ByteRegion(copying: [UInt8](repeating: 0, count: count * 4))))
        let (header, data) = try NumpyArray.encode(tensor)
        return header + data.array
    }

    static func central(_ bytes: [UInt8], _ index: Int = 0) throws -> Int {
        try #require(Helpers.offsets(of: ZipReader.centralSignature, in: bytes).dropFirst(index).first)
    }

    static func endRecord(_ bytes: [UInt8]) throws -> Int {
        try #require(Helpers.offsets(of: ZipReader.endRecordSignature, in: bytes).last)
    }

    @Test func memberInflatingPastItsDeclaredSizeIsRefused() throws {
        // The header promises 16 floats; the stream carries a megabyte more.
        let small = try Self.zeros(16)
        var bytes = try Self.archive([("bomb.npy", small + [UInt8](repeating: 0, count: 1 << 20))], compressed: true)
        Helpers.store32(UInt32(small.count), at: try Self.central(bytes) + 24, in: &bytes)
        let message = try #require(try Self.message(bytes, name: "bomb.npz"))
        #expect(message.contains("inflates to more than the \(small.count) bytes it declares"), "\(message)")
    }

    @Test func declaredSizeBeyondDeflatesRatioIsRefusedBeforeInflating() throws {
        var bytes = try Self.archive([("x.npy", try Self.zeros(4))], compressed: true)
        Helpers.store32(0x7FFF_0000, at: try Self.central(bytes) + 24, in: &bytes)
        #expect(try Self.message(bytes, name: "x.npz")?.contains("more than deflate can produce") == true)
    }

    @Test func declaredSizeDisagreeingWithTheHeaderIsRefused() throws {
        let npy = try Self.zeros(4)
        var bytes = try Self.archive([("x.npy", npy)], compressed: true)
        Helpers.store32(UInt32(npy.count + 64), at: try Self.central(bytes) + 24, in: &bytes)
        #expect(try Self.message(bytes, name: "x.npz")?.contains("but its .npy header describes 128 + 16 bytes") == true)
    }

    @Test func headerLongerThanTheMemberIsRefused() throws {
        let npy = try Self.zeros(4)
        var bytes = try Self.archive([("x.npy", npy)], compressed: true)
        Helpers.store32(64, at: try Self.central(bytes) + 24, in: &bytes)
        #expect(try Self.message(bytes, name: "x.npz")?.contains("is longer than the 64 bytes") == true)
    }

    @Test func archiveCrafts() throws {
        let npy = try Self.zeros(4)
        let stored = try Self.archive([("a.npy", npy), ("b.npy", npy)], compressed: false)
        let deflated = try Self.archive([("a.npy", npy)], compressed: true)
        let end = try Self.endRecord(stored)
        let first = try Self.central(stored), second = try Self.central(stored, 1)
        var cases: [(label: String, bytes: [UInt8], phrase: String)] = []
        func patched(_ base: [UInt8], _ label: String, _ phrase: String, _ change: (inout [UInt8]) -> Void) {
            var copy = base
            change(&copy)
            cases.append((label, copy, phrase))
        }
        patched(stored, "directory past the end", "runs past its end record") { Helpers.store32(0x00FF_FFFF, at: end + 16, in: &$0) }
        patched(stored, "too many members", "declares 65000 members") { Helpers.store16(65000, at: end + 10, in: &$0); Helpers.store16(65000, at: end + 8, in: &$0) }
        patched(stored, "multi-disk", "multi-part") { Helpers.store16(1, at: end + 4, in: &$0) }
        patched(stored, "saturated without ZIP64", "no ZIP64 locator") { Helpers.store32(0xFFFF_FFFF, at: end + 16, in: &$0) }
        patched(stored, "encrypted", "encrypted") { Helpers.store16(1, at: first + 8, in: &$0) }
        patched(stored, "bzip2", "method 12 (bzip2)") { Helpers.store16(12, at: first + 10, in: &$0) }
        patched(stored, "stored sizes disagree", "declares") { Helpers.store32(1, at: first + 24, in: &$0) }
        patched(stored, "overlapping members", "overlaps") {
            // The second entry names the first member and points at it.
            $0[second + 46] = UInt8(ascii: "a")
            Helpers.store32(0, at: second + 42, in: &$0)
        }
        patched(stored, "local header elsewhere", "no local header where") { Helpers.store32(7, at: first + 42, in: &$0) }
        patched(stored, "local name differs", "names a different member") { $0[30] = UInt8(ascii: "z") }
        patched(stored, "damaged stored data", "CRC-32 mismatch") {
            // The last byte before the directory is the second member's last data byte.
            $0[first - 1] ^= 1
        }
        patched(stored, "data past the directory", "run past the start of the central directory") {
            Helpers.store32(100_000, at: second + 20, in: &$0)
            Helpers.store32(100_000, at: second + 24, in: &$0)
        }
        patched(stored, "entry past the directory", "runs past the directory's end") { Helpers.store16(0xFFFF, at: second + 32, in: &$0) }
        patched(stored, "directory leftovers", "unexpected bytes after the last central directory entry") {
            Helpers.store16(1, at: end + 8, in: &$0)
            Helpers.store16(1, at: end + 10, in: &$0)
        }
        patched(stored, "bad entry signature", "central directory entry 1 is missing or damaged") { $0[second] = 0 }
        patched(stored, "name not UTF-8", "not valid UTF-8") {
            Helpers.store16(0x0800, at: first + 8, in: &$0)
            $0[first + 46] = 0xFF
        }
        patched(stored, "name beyond ASCII", "code page 437") { $0[first + 46] = 0xE9 }
        let deflatedEntry = try Self.central(deflated)
        let dataStart = 30 + 5
        patched(deflated, "damaged deflate data", "damaged deflate data") {
            for i in dataStart..<(dataStart + 8) { $0[i] = 0xFF }
        }
        patched(deflated, "deflate data cut short", "truncated: the deflate data ends") {
            let size = Int(Helpers.load32($0, at: deflatedEntry + 20))
            Helpers.store32(UInt32(size / 2), at: deflatedEntry + 20, in: &$0)
        }
        patched(deflated, "damaged inflated data", "CRC-32 mismatch") { $0[deflatedEntry + 16] ^= 1 }
        cases.append(("not a .npy member", try Self.archive([("notes.txt", npy)], compressed: false), "not a .npy array"))
        cases.append(("duplicate member", try Self.archive([("a.npy", npy), ("a.npy", npy)], compressed: false), "a second member"))
        cases.append(("bad member header", try Self.archive([("a.npy", Array("hello".utf8))], compressed: true),
                      "not a .npy array: it does not start with"))
        cases.append(("no end record", Array(stored[..<end]), "no end-of-central-directory record"))

        for entry in cases {
            let message = try Self.message(entry.bytes, name: "crafted.npz")
            #expect(message?.contains(entry.phrase) == true, "\(entry.label): \(message ?? "read without error")")
        }
    }

    @Test func memberErrorsNameTheMember() throws {
        let bytes = try Self.archive([("first.npy", try Self.zeros(2)), ("second.npy", Helpers.npy("{}"))], compressed: false)
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let error = try #require(Helpers.failure(reading: try Helpers.write(bytes, "m.npz", in: folder)))
        #expect(error.location == "member 'second.npy'")
        let memberStart = try #require(Helpers.offsets(of: 0x4D55_4E93, in: bytes).last)
        #expect(error.byteOffset == memberStart + 10, "\(error)")
    }

    // MARK: Truncation and mutation

    /// The small files every byte-level test starts from.
    static func seeds() throws -> [(name: String, bytes: [UInt8])] {
        try ["float32.npy", "strings.npy", "fortran.npy", "big-endian.npy", "stored.npz", "compressed.npz", "tensor.pb"]
            .map { ($0, try Fixtures.bytes("tensors/" + $0)) }
    }

    /// Every proper prefix of an .npy or .npz is refused: their sizes are exact.
    @Test func truncationAtEveryByte() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, original) in try Self.seeds() where !name.hasSuffix(".pb") {
            for cut in 0..<original.count {
                let path = try Helpers.write(Array(original[..<cut]), "cut-" + name, in: folder)
                let error = Helpers.failure(reading: path)
                #expect(error != nil, "\(name) cut at \(cut) was read")
                #expect(error?.description.hasPrefix(path + ": ") == true)
                #expect(error?.byteOffset.map { $0 <= cut } ?? true, "\(name) cut at \(cut): \(String(describing: error))")
            }
        }
    }

    /// Seeded random damage: every outcome is a tensor or a one-line error.
    @Test func randomMutations() throws {
        let folder = try Helpers.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let seeds = try Self.seeds()
        var random = SeededGenerator(seed: 20_240_601)
        var read = 0, refused = 0
        for round in 0..<3000 {
            let (name, original) = seeds[round % seeds.count]
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 4 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes[position] ^= 1 << UInt8(random.next() % 8)
                case 2: bytes[position] = [0x00, 0xFF, 0x7F, 0x80][Int(random.next() % 4)]
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                }
            }
            let path = try Helpers.write(bytes, "mutant-" + name, in: folder)
            do {
                for tensor in try TensorFile.read(path: path) {
                    // Every element must be readable: the data really is as long as the header says.
                    if tensor.dtype == .string { _ = try tensor.stringValues() }
                    else if tensor.dtype == .complex64 || tensor.dtype == .complex128 { _ = try tensor.complexValues() }
                    else if tensor.dtype.isKnown { _ = try? tensor.doubleValues() }
                }
                read += 1
            } catch {
                #expect(error.description.hasPrefix(path + ": "), "\(error)")
                #expect(!error.description.contains("\n"))
                refused += 1
            }
        }
        #expect(refused > 1000, "read \(read), refused \(refused)")
    }

    @Test func foreignFilesAreNamed() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D]
        #expect(try Self.message(png, name: "image.npy")?.contains("looks like a PNG image") == true)
        #expect(try Self.message([], name: "empty.npy")?.contains("empty file") == true)
    }
}
