import Foundation
import ModelInfo
import Testing
import TestSupport

/// `modelinfo run`, `verify` and `bench`: inputs are never made up, always
/// checked against the model, and always reported.
@Suite struct RunCommandTests {
    static let fixture = "Fixtures/valid/tiny-cnn.onnx"   // input float32[N×3×8×8]

    /// Writes `values` as a float32 or float64 .npy of `dims` into `folder`.
    static func npy(_ folder: URL, _ name: String, dims: [Int], double: Bool = false) throws -> String {
        let count = dims.reduce(1, *)
        let bytes: [UInt8] = double
            ? (0..<count).flatMap { withUnsafeBytes(of: Double($0 % 7) / 7) { Array($0) } }
            : (0..<count).flatMap { withUnsafeBytes(of: Float($0 % 7) / 7) { Array($0) } }
        let tensor = try Tensor(name: name, dtype: double ? .double : .float, dims: dims, storage: .bytes(ByteRegion(copying: bytes)))
        let path = folder.appendingPathComponent(name + ".npy").path
        try TensorFile.write(tensor, to: path, format: .npy)
        return path
    }

    @Test func benchRefusesToInventAnOpenDimension() throws {
        // tokens and mask are int64/float32[N×seq]: N is the batch (1 by default), seq has no default.
        let result = try CommandLineTool.run(["bench", "Fixtures/valid/symbolic.onnx", "--runs", "1"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("input 'tokens' leaves dimension 1 (seq) open"))
        #expect(result.stderr.contains("--input-shape tokens=1x<seq>"))
        #expect(result.stdout.isEmpty)
    }

    @Test func benchSaysWhatItTimed() throws {
        let result = try CommandLineTool.run(["bench", Self.fixture, "--runs", "3", "--warmup", "1", "--batch", "2", "--threads", "64"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("input   input float32[2×3×8×8] (random, seed 0)"))
        #expect(result.stdout.contains("p90") && result.stdout.contains("p99") && result.stdout.contains("(1 warm-up), 64 threads"))
        #expect(result.stderr.contains("--threads 64 is more than the"))
        let json = try CommandLineTool.run(["bench", Self.fixture, "--runs", "2", "--json", "--seed", "5"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let inputs = try #require(object["inputs"] as? [[String: Any]])
        #expect(inputs.first?["shape"] as? [Int] == [1, 3, 8, 8])
        #expect(inputs.first?["source"] as? String == "random, seed 5")
        #expect(object["p99Ms"] is Double && object["warmup"] as? Int == 2)
    }

    @Test func runOutputFeedsVerify() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CommandLineTool.run(["run", Self.fixture, "-o", folder.path, "--seed", "3"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("input   input float32[1×3×8×8] (random, seed 3)"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("output.npy").path))

        let verify = try CommandLineTool.run(["verify", Self.fixture, "--test-data", folder.path, "--seed", "3"])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("pass   \(folder.lastPathComponent)  output: max abs 0"))
        // Other inputs than run's give other outputs, and verify says which outputs fail.
        let other = try CommandLineTool.run(["verify", Self.fixture, "--test-data", folder.path, "--seed", "4"])
        #expect(other.status == 1)
        #expect(other.stderr.contains("outputs that do not match their references: output"))
    }

    @Test func verifyPrintsEveryFormat() throws {
        let data = "Fixtures/valid/tiny-cnn"
        let csv = try CommandLineTool.run(["verify", Self.fixture, "--test-data", data, "--csv"])
        #expect(csv.status == 0)
        #expect(csv.stdout.hasPrefix("set,output,result,max abs,max rel,outside tolerance,elements,cosine,problem\ntest_data_set_0,output,pass,"))
        let markdown = try CommandLineTool.run(["verify", Self.fixture, "--test-data", data, "--markdown"])
        #expect(markdown.stdout.contains("| test_data_set_0 | output | pass |"))
        let json = try CommandLineTool.run(["verify", Self.fixture, "--test-data", data, "--json"])
        let sets = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(sets.first?["set"] as? String == "test_data_set_0")
        #expect(sets.first?["passed"] as? Bool == true)
        #expect((sets.first?["inputs"] as? [[String: Any]])?.first?["source"] as? String == "Fixtures/valid/tiny-cnn/test_data_set_0/input_0.pb"
                || ((sets.first?["inputs"] as? [[String: Any]])?.first?["source"] as? String)?.hasSuffix("test_data_set_0/input_0.pb") == true)
    }

    @Test func verifyTellsAMissingFolderAndATypeMismatch() throws {
        let missing = try CommandLineTool.run(["verify", Self.fixture, "--test-data", "/nonexistent/folder"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "modelinfo: /nonexistent/folder: no such folder\n")

        // A float64 reference (numpy's default) is a type error, not a tolerance failure.
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try Self.npy(folder, "output", dims: [1, 10], double: true)
        let result = try CommandLineTool.run(["verify", Self.fixture, "--test-data", folder.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("FAIL   \(folder.lastPathComponent)  output: type float32 differs from the reference float64"))
        #expect(result.stderr.contains("output (type float32 differs from the reference float64)"))
    }

    @Test func inputsAreCheckedAgainstTheModel() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let wrongShape = try Self.npy(folder, "big", dims: [1, 3, 9, 9])
        let shape = try CommandLineTool.run(["run", Self.fixture, "--input", "input=\(wrongShape)", "-o", folder.path])
        #expect(shape.status == 1)
        #expect(shape.stderr.contains("input 'input' is N×3×8×8 in the model, but the given tensor is 1×3×9×9 (dimension 2 is 9, not 8)"))

        let wrongRank = try Self.npy(folder, "flat", dims: [3, 8, 8])
        let rank = try CommandLineTool.run(["bench", Self.fixture, "--input", "input=\(wrongRank)"])
        #expect(rank.status == 1)
        #expect(rank.stderr.contains("input 'input' has rank 4"))

        let double = try Self.npy(folder, "double", dims: [2, 3, 8, 8], double: true)
        let type = try CommandLineTool.run(["run", Self.fixture, "--input", "input=\(double)", "-o", folder.path])
        #expect(type.status == 1)
        #expect(type.stderr.contains("input 'input' is float32 in the model, but the given tensor is float64 (numpy's default"))

        // A given tensor fixes the open batch dimension.
        let good = try Self.npy(folder, "good", dims: [2, 3, 8, 8])
        let run = try CommandLineTool.run(["run", Self.fixture, "--input", "input=\(good)", "-o", folder.path])
        #expect(run.status == 0)
        #expect(run.stdout.contains("input   input float32[2×3×8×8] (\(good))"))
        #expect(run.stdout.contains("output  output  float32  2×10"))
    }

    @Test func anInputNameTheModelLacksIsAUsageError() throws {
        let result = try CommandLineTool.run(["run", Self.fixture, "--input", "nope=x.npy"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--input names 'nope', but the model's inputs are input"))
    }

    /// Sequences and optionals go in and out as ONNX test data does: verify
    /// reads the suite's SequenceProto and OptionalProto files, run writes
    /// `<output>.pb` for them, and verify reads what run wrote.
    @Test func sequencesAndOptionalsGoThroughRunAndVerify() throws {
        for name in ["test_sequence_insert_at_back", "test_optional_get_element_optional_sequence", "test_optional_has_element_empty_optional_input"] {
            let folder = Fixtures.onnxSuite.appendingPathComponent(name).path
            let verify = try CommandLineTool.run(["verify", folder + "/model.onnx", "--test-data", folder, "--atol", "1e-7"])
            #expect(verify.status == 0, "\(name): \(verify.stderr)")
            #expect(verify.stdout.contains("pass   test_data_set_0"), "\(name): \(verify.stdout)")
        }
        let suiteCase = Fixtures.onnxSuite.appendingPathComponent("test_sequence_insert_at_back").path
        #expect(try CommandLineTool.run(["verify", suiteCase + "/model.onnx", "--test-data", suiteCase]).stdout
            .contains("input  test_data_set_0  sequence sequence of int64["))

        // SplitToSequence: tensors in (random data, the suite's split), a sequence out.
        let split = Fixtures.onnxSuite.appendingPathComponent("test_split_to_sequence_1")
        let model = split.appendingPathComponent("model.onnx").path
        let output = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: output) }
        try FileManager.default.copyItem(at: split.appendingPathComponent("test_data_set_0/input_1.pb"), to: output.appendingPathComponent("input_1.pb"))
        let run = try CommandLineTool.run(["run", model, "-o", output.path, "--seed", "2", "--input", "split=\(output.path)/input_1.pb"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("output  seq  sequence of "), "\(run.stdout)")
        #expect(run.stdout.contains("float32 tensors  → \(output.path)/seq.pb"), "\(run.stdout)")
        let again = try CommandLineTool.run(["verify", model, "--test-data", output.path, "--seed", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        let other = try CommandLineTool.run(["verify", model, "--test-data", output.path, "--seed", "3"])
        #expect(other.status == 1)

        // A sequence input has no random form: it must come from a file.
        let missing = try CommandLineTool.run(["run", suiteCase + "/model.onnx"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("input 'sequence' is seq("), "\(missing.stderr)")
        let given = try CommandLineTool.run(["run", suiteCase + "/model.onnx", "-o", output.path,
                                             "--input", "sequence=\(suiteCase)/test_data_set_0/input_0.pb",
                                             "--input", "tensor=\(suiteCase)/test_data_set_0/input_1.pb"])
        #expect(given.status == 0, "\(given.stderr)")
    }
}
