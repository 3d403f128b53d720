import ArgumentParser
import FoundationEssentials
import ModelInfo

/// `modelinfo zoo …`: standard architectures with seeded random weights.
struct ZooCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "List or write standard image classifiers and language models with seeded random weights.",
        discussion: "Any command that takes a model file also takes zoo:NAME, e.g. `modelinfo zoo:resnet50` or `modelinfo zoo:gpt2`.",
        subcommands: [ZooListCommand.self, ZooWriteCommand.self],
        defaultSubcommand: ZooWriteCommand.self
    )
}

/// `modelinfo zoo list`: one architecture per line.
struct ZooListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the models with their parameter counts (image classifiers as torchvision counts them, "
            + "language models with a tied embedding counted once)."
    )

    @Flag(help: "List only the image classifiers (the models a script can write and run whole in seconds).")
    var imageClassifiers = false

    func run() throws {
        var rows: [(name: String, parameters: String, summary: String)] = []
        for architecture in Zoo.architectures {
            // Weights are lazy: building only to count costs no generation.
            let model = try Zoo.build(architecture.name)
            rows.append((architecture.name, Units.grouped(Zoo.torchvisionParameterCount(model.graph)), architecture.summary))
        }
        for languageModel in Zoo.languageModels where !imageClassifiers {
            // Every float initializer is a parameter, and a tied one is stored once.
            let model = try Zoo.build(languageModel.name)
            rows.append((languageModel.name, Units.grouped(Zoo.torchvisionParameterCount(model.graph)), languageModel.summary))
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

    @Option(help: "The batch size of the input (image classifiers; 1 unless given).")
    var batch: Int?

    @Option(help: "The input's height and width in pixels (image classifiers; 224 unless given).")
    var imageSize: Int?

    @Option(help: "The number of blocks of a language model, instead of its own.")
    var layers: Int?

    @Option(help: "The seed of the random weights; the same seed gives the same file.")
    var seed: UInt64 = 0

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let model = try Zoo.build(name, batch: batch, imageSize: imageSize, seed: seed, layers: layers)
        // Protobuf cannot hold a model over 2 GB: its weights then go to a side
        // file. 16 MB of headroom covers the graph itself (a few MB at most).
        let weightBytes = model.graph.initializers.reduce(0) { $0 + $1.byteCount }
        let sideFile = (output.split(separator: "/").last.map(String.init) ?? output) + ".data"
        let external = weightBytes >= ONNXWriter.protobufLimit - (1 << 24) ? ExternalDataPolicy(location: sideFile) : nil
        // Writing reads every tensor's bytes, which generates the weights.
        try ONNXWriter(externalData: external).write(model, to: output)
        let seconds = (clock.now - start) / .seconds(1)
        let size = (MappedFile.size(of: output) ?? 0) + (external == nil ? 0 : MappedFile.size(of: output + ".data") ?? 0)
        let rate = seconds > 0 ? Double(size) / seconds / 1e9 : 0
        let note = external == nil ? "" : ", weights over 2 GB in the external data file \(output).data"
        print("wrote \(output)\(note): \(Units.bytes(size)) in \(Units.fixed(seconds, digits: 2)) s "
              + "(\(Units.fixed(rate, digits: 2)) GB/s)")
    }
}
