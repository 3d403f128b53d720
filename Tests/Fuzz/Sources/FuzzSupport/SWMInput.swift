import ModelInfo

/// What the commands do with a `.swm` file: `check` (the structure, then
/// every tensor's checksum and decoding), then load, analyse, and read
/// every weight as `convert` and the engine do.
public func checkSWM(_ input: InputFile) {
    guard let file = try? MappedFile(path: input.path), (try? SWMReader.check(file: file)) != nil,
          let loaded = try? Model.load(path: input.path) else { return }
    _ = try? Analyzer.analyze(loaded.model)
    for tensor in loaded.model.graph.initializers { try? tensor.prepareData() }
}
