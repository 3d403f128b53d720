import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import ModelInfo

/// The `modelinfo` command: `modelinfo FILE` prints a model's summary.
@main
struct ModelInfoTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelinfo",
        abstract: "Inspect neural-network model files.",
        discussion: "Exit status: 0 success, 1 bad input or a failed check, 2 usage error.",
        version: ModelInfoVersion.current,
        subcommands: [SummaryCommand.self, CompareCommand.self, ReportCommand.self, RunCommand.self, VerifyCommand.self, BenchCommand.self, ConvertCommand.self,
                      CheckCommand.self, ZooCommand.self],
        defaultSubcommand: SummaryCommand.self
    )

    /// Runs the command with the exit codes the README promises: 0 success,
    /// 1 bad input or a failed check, 2 usage error (ArgumentParser's own
    /// default is 64; a `ModelError` of kind `usage` is one too).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ModelError {
            printError("modelinfo: \(error)")
            Glibc.exit(error.kind == .usage ? 2 : 1)
        } catch let code as ExitCode {
            // A failed check that has already said why.
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            printError(fullMessage(for: error))
            Glibc.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

func printError(_ message: String) {
    var line = message
    if !line.hasSuffix("\n") { line += "\n" }
    writeStandardError(line)
}

/// Writes `text` to standard error (file descriptor 2, unbuffered).
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { return }
        bytes = bytes.dropFirst(written)
    }
}
