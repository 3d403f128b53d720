import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo check FILE.swm`: verifies every checksum of a `.swm` file.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Verify a .swm file: its structure and every tensor's checksum.",
        discussion: "Exit status 0 when the file is intact, 1 when anything is damaged (each damaged tensor is named)."
    )

    @Argument(help: "The .swm file.")
    var file: String

    func run() throws {
        let mapped = try MappedFile(path: file)
        guard SWMReader.looksLikeSWM(mapped.bytes) else {
            // Loading checks an ONNX file's structure; it has no checksums to verify.
            _ = try Model.load(path: file)
            print("\(file): ONNX, structure valid (ONNX files carry no checksums)")
            return
        }
        let (contents, problems) = try SWMReader.check(file: mapped)
        for problem in problems { printError("modelinfo: \(problem.error)") }
        let bytes = contents.tensors.reduce(0) { $0 + $1.storedLength }
        if problems.isEmpty {
            print("\(file): intact — header, sections and \(contents.tensors.count) tensors (\(Units.bytes(bytes))) match their checksums")
        } else {
            print("\(file): damaged — \(problems.count) of \(contents.tensors.count) tensors fail: "
                  + problems.map { "'\($0.tensor.name)'" }.joined(separator: ", "))
            throw ExitCode(1)
        }
    }
}
