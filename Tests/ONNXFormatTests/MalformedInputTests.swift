import Foundation
import ModelInfo
import Testing
import TestSupport

/// Bad input is normal input: every malformed file gets a one-line error
/// saying what and where, never a crash or a hang.
@Suite struct MalformedInputTests {
    /// Each crafted fixture and a phrase its error must contain.
    static let cases: [(file: String, phrase: String)] = [
        ("malformed/empty.onnx", "empty file"),
        ("malformed/png.onnx", "looks like a PNG image"),
        ("malformed/text.onnx", "looks like a text file"),
        ("malformed/deep-nesting.onnx", "nested too deeply"),
        ("malformed/length-past-end.onnx", "declared length"),
        ("malformed/bad-varint.onnx", "malformed varint"),
        ("malformed/bad-wiretype.onnx", "invalid wire type"),
        ("malformed/truncated.onnx", "truncated"),
        ("malformed/dims-overflow.onnx", "overflows"),
        ("malformed/raw-size-mismatch.onnx", "needs 24 bytes of data but has 20"),
        ("malformed/external-absolute.onnx", "is absolute"),
        ("malformed/external-dotdot.onnx", "contains '..'"),
        ("malformed/external-symlink/model.onnx", "leads outside the model's folder"),
        ("malformed/external-past-end/model.onnx", "lies past the end"),
        ("malformed/external-missing/model.onnx", "does not exist"),
        ("malformed/cycle.onnx", "cycle"),
        ("malformed/missing-value.onnx", "which no node, graph input or initializer provides"),
        ("malformed/duplicate-output.onnx", "produced twice"),
    ]

    @Test(arguments: cases.map(\.file))
    func malformedFixtureIsRejected(_ file: String) throws {
        let phrase = try #require(Self.cases.first { $0.file == file }).phrase
        let path = Fixtures.path(file)
        do {
            _ = try ONNXReader.read(path: path)
            Issue.record("\(file) loaded without error")
        } catch {
            let text = error.description
            #expect(text.hasPrefix(path + ": "), "error does not name the file: \(text)")
            #expect(text.contains(phrase), "\(text)")
            #expect(!text.contains("\n"))
        }
    }

    @Test func deepNestingErrorSaysWhere() throws {
        do {
            _ = try ONNXReader.read(path: Fixtures.path("malformed/deep-nesting.onnx"))
            Issue.record("loaded")
        } catch {
            #expect(error.byteOffset != nil)
            #expect(error.location?.hasPrefix("ModelProto.graph.input[0].type.sequence_type") == true)
            #expect(error.description.count < 400, "the path through deep nesting is elided")
        }
    }

    @Test func directoryIsRejected() {
        #expect(throws: ModelError.self) { try ONNXReader.read(path: Fixtures.path("valid")) }
    }

    /// Cutting a valid file at any byte fails with "truncated", unless the cut
    /// falls between two top-level fields (then the prefix is a valid, smaller
    /// message, which may load or fail for lack of a graph).
    @Test func truncationAtEveryByte() throws {
        let original = try Fixtures.bytes("valid/tiny-cnn.onnx")
        let boundaries = Self.topLevelFieldBoundaries(original)
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var truncatedErrors = 0
        for cut in 0..<original.count {
            let prefix = Array(original[..<cut])
            do {
                _ = try loadModel(bytes: prefix, in: folder)
                #expect(boundaries.contains(cut), "cut at \(cut) loaded")
            } catch let error as ModelError {
                if !boundaries.contains(cut) {
                    #expect(error.message.hasPrefix("truncated"), "cut at \(cut): \(error)")
                    #expect(error.byteOffset.map { $0 <= cut } == true, "cut at \(cut): \(error)")
                    truncatedErrors += 1
                }
            }
        }
        #expect(truncatedErrors > original.count * 9 / 10)
    }

    /// Thousands of seeded random mutations: byte overwrites, bit flips,
    /// insertions and deletions. Each must load or throw a ModelError.
    @Test func seededRandomMutations() throws {
        let originals = [try Fixtures.bytes("valid/tiny-cnn.onnx"), try Fixtures.bytes("valid/control-flow.onnx")]
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SeededGenerator(seed: 20261127)
        var rejected = 0, loaded = 0
        for round in 0..<3000 {
            var bytes = originals[round % originals.count]
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: position)
                default: if bytes.count > 1 { bytes.remove(at: position) }
                }
            }
            do {
                let model = try loadModel(bytes: bytes, in: folder)
                // Whatever loads must be internally consistent.
                _ = model.graph.topology()
                for tensor in model.graph.initializers where tensor.dtype.isFloatingPoint {
                    _ = try tensor.doubleValues()
                }
                loaded += 1
            } catch let error as ModelError {
                #expect(!error.description.contains("\n"))
                rejected += 1
            }
        }
        #expect(rejected + loaded == 3000)
        #expect(rejected > 0 && loaded > 0, "mutations should both break and spare files (\(rejected) rejected, \(loaded) loaded)")
    }

    /// Offsets where a top-level ModelProto field starts or the file ends.
    static func topLevelFieldBoundaries(_ bytes: [UInt8]) -> Set<Int> {
        func varint(_ position: inout Int) -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                shift += 7
                if byte & 0x80 == 0 { break }
            }
            return value
        }
        var boundaries: Set<Int> = [0]
        var position = 0
        while position < bytes.count {
            let tag = varint(&position)
            switch tag & 7 {
            case 0: _ = varint(&position)
            case 1: position += 8
            case 5: position += 4
            default: position += Int(varint(&position))
            }
            boundaries.insert(position)
        }
        return boundaries
    }
}
