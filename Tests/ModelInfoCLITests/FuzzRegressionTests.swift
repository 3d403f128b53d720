import Foundation
import ModelInfo
import Testing
import TestSupport

/// Every input the fuzzers (`Tools/fuzz`) once failed on, kept in
/// `Fixtures/fuzz-regressions/TARGET/`, goes through the command that target
/// stands for and ends in a result or a one-line exit 1: never a signal.
/// (The fuzz build replays them too, under the sanitizers, as seeds.)
@Suite struct FuzzRegressionTests {
    static let folder = Fixtures.root.appendingPathComponent("Fixtures/fuzz-regressions")

    /// Each target's inputs, as `target/name` paths relative to the folder.
    static let cases: [String] = {
        let targets = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return targets.filter { !$0.hasSuffix(".md") }.sorted().flatMap { target in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent(target).path)) ?? [])
                .sorted().map { "\(target)/\($0)" }
        }
    }()

    @Test func theFindingsAreThere() {
        #expect(Self.cases.count >= 6, "\(Self.cases)")
    }

    @Test(arguments: cases)
    func findingIsHandled(_ relative: String) throws {
        let path = Self.folder.appendingPathComponent(relative).path
        let target = String(relative.split(separator: "/")[0])
        if target == "tensors" {
            // No command reads a tensor file alone; the reader is what was fuzzed.
            do { _ = try TensorFile.read(path: path) } catch { #expect(!error.description.contains("\n")) }
            return
        }
        let arguments: [String] = switch target {
        case "onnx": [path, "--json"]
        // Lower limits than the defaults keep the debug build's replay short.
        case "engine": ["run", path, "-o", try Fixtures.temporaryFolder().path, "--max-memory", "256M", "--max-loop-iterations", "100000"]
        default: ["check", path]
        }
        let result = try CommandLineTool.run(arguments)
        #expect(result.status == 0 || result.status == 1, "\(relative): status \(result.status): \(result.stderr)")
        if result.status == 1 {
            #expect(result.stderr.split(separator: "\n").count == 1, "\(relative): \(result.stderr)")
        }
    }
}
