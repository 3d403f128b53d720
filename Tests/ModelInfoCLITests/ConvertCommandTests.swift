import Foundation
import ModelInfo
import Testing
import TestSupport

/// `modelinfo convert` and `check`, and every other command on a `.swm` file.
@Suite struct ConvertCommandTests {
    static let fixture = "Fixtures/valid/tiny-cnn.onnx"

    /// Converts the fixture into a fresh folder; returns the folder and the `.swm` path.
    static func converted(_ extra: [String] = []) throws -> (folder: URL, swm: String, result: CommandLineTool.Result) {
        let folder = try Fixtures.temporaryFolder()
        let swm = folder.appendingPathComponent("tiny.swm").path
        let result = try CommandLineTool.run(["convert", fixture, "-o", swm] + extra)
        return (folder, swm, result)
    }

    @Test func convertPrintsOneClosingLineAndNoProgressWithoutATerminal() throws {
        let (folder, swm, result) = try Self.converted()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "no progress bar when standard error is not a terminal")
        #expect(result.stdout.hasPrefix("wrote \(swm): 3.9 kB → 4.6 kB ("), "\(result.stdout)")
        #expect(result.stdout.split(separator: "\n").count == 1)
    }

    /// The summary of the `.swm` is the ONNX summary plus the storage lines.
    @Test func summaryOfSWMIsTheONNXSummaryPlusStorage() throws {
        let (folder, swm, _) = try Self.converted()
        defer { try? FileManager.default.removeItem(at: folder) }
        let onnx = try CommandLineTool.run([Self.fixture]).stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let native = try CommandLineTool.run([swm]).stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(native.first?.hasPrefix("\(swm)  SWM, 4.6 kB") == true)
        let digest = try Fixtures.bytes("valid/tiny-cnn.onnx").withUnsafeBytes { SHA256.hex(of: $0) }
        let storage = ["  SWM 1.0 · tensors 8 raw · 3.1 kB stored for 3.1 kB",
                       "  converted from tiny-cnn.onnx (sha256 \(digest.prefix(16))…) by \(Conversion.converterName) with --weights f32"]
        #expect(Array(native[4...5]).map(String.init) == storage)
        #expect(Array(native.dropFirst().filter { !storage.contains(String($0)) }) == Array(onnx.dropFirst()))

        let json = try JSONSerialization.jsonObject(with: Data(try CommandLineTool.run([swm, "--json"]).stdout.utf8)) as? [String: Any]
        let stored = try #require(json?["storage"] as? [String: Any])
        #expect(json?["format"] as? String == "SWM")
        #expect(stored["encodings"] as? [String: Int] == ["raw": 8])
        #expect(stored["sourceSHA256"] as? String == digest)
    }

    @Test func checkPassesAnIntactFileAndNamesADamagedTensor() throws {
        let (folder, swm, _) = try Self.converted()
        defer { try? FileManager.default.removeItem(at: folder) }
        let intact = try CommandLineTool.run(["check", swm])
        #expect(intact.status == 0)
        #expect(intact.stdout.contains("intact"))

        let file = try SWMReader.read(path: swm)
        let weight = try #require(file.tensors.first { $0.name == "conv.weight" })
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: swm)))
        bytes[weight.offset + 5] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: swm))
        let damaged = try CommandLineTool.run(["check", swm])
        #expect(damaged.status == 1)
        #expect(damaged.stdout.contains("damaged — 1 of 8 tensors fail: 'conv.weight'"))
        #expect(damaged.stderr.contains("checksum mismatch"))
        #expect(damaged.stderr.contains("inside tensor 'conv.weight'"))
        // The summary does not read the weights, so it checks them only when asked to.
        #expect(try CommandLineTool.run([swm]).status == 0)
        let verified = try CommandLineTool.run([swm, "--verify"])
        #expect(verified.status == 1)
        #expect(verified.stderr.contains("inside tensor 'conv.weight'"))
        // Running the damaged model fails before any work, naming the tensor.
        let run = try CommandLineTool.run(["run", swm, "--output-dir", folder.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("tensor 'conv.weight'"))
    }

    @Test func runVerifyBenchAndCompareAcceptSWM() throws {
        let (folder, swm, _) = try Self.converted()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fromONNX = folder.appendingPathComponent("onnx").path, fromSWM = folder.appendingPathComponent("swm").path
        #expect(try CommandLineTool.run(["run", Self.fixture, "--output-dir", fromONNX]).status == 0)
        #expect(try CommandLineTool.run(["run", swm, "--output-dir", fromSWM]).status == 0)
        let outputs = try FileManager.default.contentsOfDirectory(atPath: fromONNX)
        #expect(!outputs.isEmpty)
        for name in outputs {
            #expect(FileManager.default.contents(atPath: fromONNX + "/" + name) == FileManager.default.contents(atPath: fromSWM + "/" + name))
        }
        #expect(try CommandLineTool.run(["verify", swm, "--test-data", "Fixtures/valid/tiny-cnn"]).status == 0)
        let bench = try CommandLineTool.run(["bench", swm, "--runs", "2", "--json"])
        #expect(bench.status == 0)
        #expect(bench.stdout.contains("\"medianMs\""))
        #expect(try CommandLineTool.run(["compare", Self.fixture, swm]).status == 0)
    }

    @Test func backToONNXGivesTheOriginalModel() throws {
        let (folder, swm, _) = try Self.converted(["--compress"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let onnx = folder.appendingPathComponent("back.onnx").path
        let result = try CommandLineTool.run(["convert", swm, "-o", onnx])
        #expect(result.status == 0)
        #expect(try ONNXReader.read(path: onnx) == (try ONNXReader.read(path: Fixtures.path("valid/tiny-cnn.onnx"))))
    }

    @Test func lossyConversionReportsOutputError() throws {
        let (folder, _, result) = try Self.converted(["--weights", "int8", "--samples", "2"])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(result.status == 0)
        // Cosine and top-1 first, the error against the output's range next, the relative error last.
        var text = Snapshot.masking(result.stdout, /in [0-9.]+ s \([0-9.]+ GB\/s\)/, with: "in ‹time›")
        text = text.replacing(folder.path, with: "‹folder›")
        try assertSnapshot(text, named: "convert-int8.txt")
        let quiet = try Self.converted(["--weights", "f16", "--no-verify"])
        defer { try? FileManager.default.removeItem(at: quiet.folder) }
        #expect(!quiet.result.stdout.contains("compared with"))
    }

    @Test func usageErrors() throws {
        let unknown = try CommandLineTool.run(["convert", Self.fixture, "-o", "/tmp/model.bin"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("cannot tell the output format"))
        #expect(try CommandLineTool.run(["convert", Self.fixture, "-o", "/tmp/model.onnx", "--weights", "f16"]).status == 2)
        #expect(try CommandLineTool.run(["convert", Self.fixture, "-o", "/tmp/model.swm", "--weights", "f8"]).status == 2)
    }
}
