import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo zoo …`: standard architectures with seeded random weights.
struct ZooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "List or write standard image-classification architectures with seeded random weights.",
        discussion: "Any command that takes a model file also takes zoo:NAME, e.g. `modelinfo zoo:resnet50`.",
        subcommands: [ZooListCommand.self, ZooWriteCommand.self],
        defaultSubcommand: ZooWriteCommand.self
    )
}

/// `modelinfo zoo list`: one architecture per line.
struct ZooListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the architectures with their parameter counts (as torchvision counts them)."
    )

    func run() throws {
        var rows: [(name: String, parameters: String, summary: String)] = []
        for architecture in Zoo.architectures {
            // Weights are lazy: building only to count costs no generation.
            let model = try Zoo.build(architecture.name)
            rows.append((architecture.name, Units.grouped(Zoo.torchvisionParameterCount(model.graph)), architecture.summary))
        }
        let nameWidth = rows.map(\.name.count).max() ?? 0
        let countWidth = rows.map(\.parameters.count).max() ?? 0
        for row in rows {
            let name = row.name + String(repeating: " ", count: nameWidth - row.name.count)
            let count = String(repeating: " ", count: countWidth - row.parameters.count) + row.parameters
            print("\(name)  \(count)  \(row.summary)")
        }
    }
}

/// `modelinfo zoo NAME -o FILE.onnx`: builds an architecture and writes it as ONNX.
struct ZooWriteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write an architecture as an ONNX file (the default: `modelinfo zoo NAME -o FILE`)."
    )

    @Argument(help: "The architecture (see `modelinfo zoo list`).")
    var name: String

    @Option(name: [.short, .customLong("output")], help: "The ONNX file to write.")
    var output: String

    @Option(help: "The batch size of the input.")
    var batch = 1

    @Option(help: "The input's height and width in pixels.")
    var imageSize = 224

    @Option(help: "The seed of the random weights; the same seed gives the same file.")
    var seed: UInt64 = 0

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let model = try Zoo.build(name, batch: batch, imageSize: imageSize, seed: seed)
        // Writing reads every tensor's bytes, which generates the weights.
        try ONNXWriter().write(model, to: output)
        let seconds = (clock.now - start) / .seconds(1)
        let size = MappedFile.size(of: output) ?? 0
        let rate = seconds > 0 ? Double(size) / seconds / 1e9 : 0
        print("wrote \(output): \(Units.bytes(size)) in \(Units.fixed(seconds, digits: 2)) s "
              + "(\(Units.fixed(rate, digits: 2)) GB/s)")
    }
}
