import FoundationEssentials

/// The files of test data: ONNX's layout (`test_data_set_N/input_K.pb`,
/// `output_K.pb`, or `.npy`) and the one `modelinfo run` writes
/// (`<output name>.npy`, or `<output name>.pb` for a sequence or optional).
public enum TestDataFiles {
    /// The value of declared type `type` in `path` when that type is a
    /// sequence or optional (a `SequenceProto` or `OptionalProto` file);
    /// nil for a tensor type, whose files `TensorFile` reads.
    public static func readValue(path: String, type: ValueType?) throws(ModelError) -> StoredValue? {
        switch type {
        case .sequence?, .optional?: try ONNXReader.readValue(path: path, type: type)
        default: nil
        }
    }

    /// The values in `folder` for `infos`, each from the first file found of
    /// `<prefix>_K.pb`, `<prefix>_K.npy`, `<name>.npy` and `<name>.pb`, where
    /// K is its position; a value with no file is left out. Also the file each came from.
    public static func read(in folder: String, prefix: String,
                            values infos: [ValueInfo]) throws(ModelError) -> (values: [String: StoredValue], files: [String: String]) {
        var values: [String: StoredValue] = [:], files: [String: String] = [:]
        for (k, info) in infos.enumerated() {
            let name = OutputFiles.name(for: info.name)
            let candidates = ["\(prefix)_\(k).pb", "\(prefix)_\(k).npy", name + ".npy", name + ".pb"]
            guard let path = candidates.map({ folder + "/" + $0 }).first(where: FileManager.default.fileExists) else { continue }
            if let value = try readValue(path: path, type: info.type) {
                values[info.name] = value
            } else if let tensor = try TensorFile.read(path: path).first {
                values[info.name] = .tensor(tensor)
            } else {
                continue
            }
            files[info.name] = path
        }
        return (values, files)
    }
}

/// The file names that `run` writes and `verify` reads.
public enum OutputFiles {
    /// The value's name with every character other than letters, digits, `.`, `-` and `_` replaced by `_`.
    public static func name(for value: String) -> String {
        let safe = String(value.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") ? $0 : "_" })
        return safe.isEmpty || safe == "." || safe == ".." ? "_" + safe : safe
    }

    /// Writes output `name` into `folder`: a tensor as `.npy`, a sequence or
    /// optional as a `SequenceProto` or `OptionalProto` `.pb`. Returns the path.
    public static func write(_ value: StoredValue, name: String, in folder: String) throws(ModelError) -> String {
        let base = folder + "/" + self.name(for: name)
        if case .tensor(let tensor) = value {
            try TensorFile.write(tensor, to: base + ".npy", format: .npy)
            return base + ".npy"
        }
        try ONNXWriter.writeValue(value, to: base + ".pb")
        return base + ".pb"
    }
}

/// A model run on one test-data set and compared with its reference outputs.
public struct TestDataVerification: Sendable, Encodable {
    /// The set's folder name.
    public var set: String
    /// Whether every compared output passed.
    public var passed: Bool
    public var inputs: [InputUse]
    public var outputs: [OutputComparison]

    /// Runs `plan` (made from `model`) on the inputs in `folder`, seeded
    /// random ones for the tensor inputs with no file, and compares every
    /// output that has a reference there. An output with a reference that the
    /// run did not produce fails as such.
    /// - Throws: `ModelError` when the set holds no reference outputs, or reading or running fails.
    public init(model: Model, plan: ExecutionPlan, folder: String, atol: Double, rtol: Double, seed: UInt64,
                options: AnalysisOptions, context: ExecutionContext) throws(ModelError) {
        set = String(folder.split(separator: "/").last ?? Substring(folder))
        let given = try TestDataFiles.read(in: folder, prefix: "input", values: model.graph.runtimeInputs)
        let expected = try TestDataFiles.read(in: folder, prefix: "output", values: model.graph.outputs)
        guard !expected.values.isEmpty else {
            throw ModelError(.invalidInput, "holds no reference outputs: no output_K.pb, output_K.npy, <output name>.npy or <output name>.pb",
                             file: folder)
        }
        let feeds = try ModelInputs.values(for: model, options: options, seed: seed, given: given.values)
        inputs = ModelInputs.describe(feeds, of: model, seed: seed, files: given.files)
        let results = try plan.run(values: feeds, context: context)
        outputs = []
        for name in plan.outputNames {
            guard let reference = expected.values[name] else { continue }
            guard let actual = results[name] else {
                outputs.append(OutputComparison(name: name, problem: "the run produced no value"))
                continue
            }
            outputs.append(OutputComparison(name: name, actual: try actual.stored(name: name), expected: reference, atol: atol, rtol: rtol))
        }
        passed = outputs.allSatisfy(\.passed)
    }
}
