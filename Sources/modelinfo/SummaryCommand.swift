import ArgumentParser
import Foundation
import ModelInfo

/// `modelinfo FILE`: what is in a model, readable in five seconds.
struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's format, producer, inputs, outputs, operators and size."
    )

    @Argument(help: "The model file (.onnx).")
    var file: String

    @Flag(help: "Print one JSON object instead of text (keys are documented in the README).")
    var json = false

    func run() throws {
        let summary = ModelSummary(try Model.load(path: file))
        if json {
            print(try JSONText.encode(summary))
        } else {
            print(SummaryText.render(summary), terminator: "")
        }
    }
}

/// JSON output shared by the commands: pretty-printed, sorted keys.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
