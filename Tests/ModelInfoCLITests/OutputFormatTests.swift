import Foundation
import Testing
import TestSupport

/// Every output format a command lists in its `--help` prints something,
/// every command's output is pinned by a snapshot, and the default summary
/// fits a 100-column terminal.
@Suite struct OutputFormatTests {
    static let tiny = "Fixtures/valid/tiny-cnn.onnx"
    static let encoder = "Fixtures/valid/encoder.onnx"

    /// A runnable command line for each command that offers output formats.
    static let formatCommands: [String: [String]] = [
        "summary": ["summary", tiny],
        "compare": ["compare", tiny, "Fixtures/valid/external/model.onnx", "--batch", "1"],
        "verify": ["verify", tiny, "--test-data", "Fixtures/valid/tiny-cnn"],
        "bench": ["bench", tiny, "--runs", "2", "--warmup", "0"],
    ]

    func run(_ arguments: [String], status: Int32 = 0) throws -> String {
        let result = try CommandLineTool.run(arguments)
        #expect(result.status == status, "\(arguments): \(result.stderr)")
        return result.stdout
    }

    /// The subcommands that `modelinfo --help` lists.
    func subcommands() throws -> [String] {
        let help = try run(["--help"])
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        let list = String(help[start.upperBound...]).components(separatedBy: "\n\n").first ?? ""   // up to the blank line
        return list.split(separator: "\n").compactMap { line in
            // "  name (default)   text": a name indented by exactly two spaces.
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { return nil }
            return String(name)
        }
    }

    @Test func everyFormatListedInAnyHelpPrintsOutput() throws {
        let commands = try subcommands()
        #expect(commands.contains("summary") && commands.contains("bench") && commands.count >= 8, "\(commands)")
        var checked = 0
        for command in commands {
            let help = try run([command, "--help"])
            // A format the command offers is an option line of its own, not a mention in prose.
            let formats = ["--json", "--csv", "--markdown"].filter { help.contains("\n  " + $0 + " ") }
            guard !formats.isEmpty else { continue }
            let line = try #require(Self.formatCommands[command], "'\(command)' lists \(formats) but has no command line here")
            for format in formats {
                let output = try run(line + [format])
                #expect(!output.isEmpty, "\(command) \(format) printed nothing")
                if format == "--json" {
                    #expect((try? JSONSerialization.jsonObject(with: Data(output.utf8))) != nil, "\(command) --json is not JSON")
                }
                checked += 1
            }
        }
        #expect(checked == 10, "summary, compare and verify list three formats each, bench lists --json")
    }

    // MARK: - Snapshots of every command

    @Test func summaryOfATransformerWithOpenDimensions() throws {
        // Not counted: `?`, the first node and why, the hint for the open dimensions, Constants folded.
        try assertSnapshot(try run([Self.encoder]), named: "encoder.txt")
        // Fixed: the inputs line shows the shape used, the hint is gone, the stages are the layers.
        try assertSnapshot(try run([Self.encoder, "--input-shape", "input_ids=1x8", "--group-by", "stage"]), named: "encoder-stages.txt")
    }

    @Test func summaryFormats() throws {
        try assertSnapshot(try run([Self.tiny, "--csv"]), named: "tiny-cnn.csv")
        try assertSnapshot(try run([Self.tiny, "--json", "--top", "2"]), named: "tiny-cnn-top2.json")
    }

    @Test func compareFormats() throws {
        let line = Self.formatCommands["compare"]!
        try assertSnapshot(try run(line), named: "compare-tiny-external.txt")
        try assertSnapshot(try run(line + ["--markdown"]), named: "compare-tiny-external.md")
        try assertSnapshot(try run(line + ["--csv"]), named: "compare-tiny-external.csv")
        try assertSnapshot(try run(line + ["--json"]), named: "compare-tiny-external.json")
    }

    /// Errors of a few units in the last place depend on the kernels the CPU has.
    static func maskingSmallErrors(_ text: String) -> String {
        Snapshot.masking(text, /[0-9.]+e-[0-9]+/, with: "‹small›")
    }

    @Test func verifyFormats() throws {
        let line = Self.formatCommands["verify"]!
        try assertSnapshot(Self.maskingSmallErrors(try run(line)), named: "verify-tiny-cnn.txt")
        try assertSnapshot(Self.maskingSmallErrors(try run(line + ["--markdown"])), named: "verify-tiny-cnn.md")
        let csv = try run(line + ["--csv"])
        // CSV keeps every digit: the errors, and a cosine a few units below 1.
        try assertSnapshot(Snapshot.masking(csv, /[0-9]\.[0-9]{6,}(e-[0-9]+)?/, with: "‹raw›"), named: "verify-tiny-cnn.csv")
    }

    @Test func benchFormats() throws {
        let line = Self.formatCommands["bench"]!
        let text = try run(line + ["--threads", "2"]).replacing(/[0-9.]+ (ms|GFLOP\/s)/) { "‹\($0.output.1)›" }
        try assertSnapshot(text, named: "bench-tiny-cnn.txt")
        let json = Snapshot.masking(try run(line + ["--json", "--threads", "2"]), /: [0-9]+\.[0-9]+/, with: ": ‹measured›")
        try assertSnapshot(json, named: "bench-tiny-cnn.json")
    }

    @Test func runConvertAndCheck() throws {
        let folder = try Fixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func masked(_ text: String) -> String {
            Snapshot.masking(text.replacing(folder.path, with: "‹folder›"), /in [0-9.]+ s \([0-9.]+ GB\/s\)/, with: "in ‹time›")
        }
        try assertSnapshot(masked(try run(["run", Self.tiny, "-o", folder.path, "--seed", "1"])), named: "run-tiny-cnn.txt")
        let swm = folder.appendingPathComponent("tiny.swm").path
        try assertSnapshot(masked(try run(["convert", Self.tiny, "-o", swm, "--compress"])), named: "convert-compress.txt")
        try assertSnapshot(masked(try run(["check", swm])), named: "check-tiny-cnn.txt")
        try assertSnapshot(try run(["zoo", "list"]), named: "zoo-list.txt")
    }

    // MARK: - Width

    /// Characters of the widest line (a `×` or `…` is one column, as on a terminal).
    static func widestLine(_ text: String) -> (width: Int, line: String) {
        let lines = text.split(separator: "\n").map(String.init)
        let widest = lines.max { $0.count < $1.count } ?? ""
        return (widest.count, widest)
    }

    @Test func defaultSummaryOfEveryZooModelAndATransformerFitsOneHundredColumns() throws {
        let names = try run(["zoo", "list"]).split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(names.count >= 18)
        for model in names.map({ "zoo:" + $0 }) + [Self.encoder] {
            let (width, line) = Self.widestLine(try run([model]))
            #expect(width <= 100, "\(model): \(width) columns: \(line)")
        }
        // A wide table is a choice.
        #expect(Self.widestLine(try run(["zoo:resnet50", "--wide"])).width > 100)
    }
}
