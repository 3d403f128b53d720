/// Inputs for running a model: from tensor files, or seeded random data for the declared shapes.
///
/// No shape is invented: a dimension the model leaves open takes its value from
/// a given tensor, `--input-shape`, `--symbol`, `--batch`, or, for the first (batch)
/// dimension only, the documented default of 1. Any other open dimension is a
/// usage error that names the input and the dimension.
public enum ModelInputs {
    /// Concrete shapes for the model's runtime inputs: the shapes of `given`
    /// tensors (checked against the declaration), then `options`, then the
    /// declared dims with the batch default.
    public static func shapes(of model: Model, options: AnalysisOptions,
                              given: [String: Tensor] = [:]) throws(ModelError) -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for info in model.graph.runtimeInputs {
            if let tensor = given[info.name] {
                try check(tensor, against: info)
                result[info.name] = tensor.dims
                continue
            }
            if let dims = options.inputShapes[info.name] {
                result[info.name] = dims
                continue
            }
            let shape: Shape
            switch info.type {
            case .tensor(_, let declared?)?:
                shape = declared
            case .tensor?, nil:
                throw ModelError(.usage, "input '\(info.name)' has no declared tensor shape; give one with --input-shape \(info.name)=DIMS")
            default:
                continue   // sequences and optionals come only from files (`values`)
            }
            var dims: [Int] = []
            for (i, dim) in shape.dims.enumerated() {
                if let value = dim.substituting(options.symbols).value {
                    dims.append(value)
                } else if i == 0 {
                    dims.append(options.batch ?? 1)
                } else {
                    throw ModelError(.usage, "input '\(info.name)' leaves dimension \(i) (\(dim)) open and nothing gives it a value; "
                                     + "give it with --symbol NAME=N or every open dimension, e.g. --input-shape \(info.name)=\(example(shape, batch: options.batch ?? 1))")
                }
            }
            result[info.name] = dims
        }
        return result
    }

    /// Feeds for every runtime input: the `given` tensors, and seeded random
    /// values for the rest: floats uniform in [-1, 1) (float16 and bfloat16
    /// rounded from the float32 draws), integers in [0, 10),
    /// booleans half true. The same seed gives the same values everywhere.
    public static func random(for model: Model, options: AnalysisOptions, seed: UInt64,
                              given: [String: Tensor] = [:]) throws(ModelError) -> [String: EngineTensor] {
        let shapes = try shapes(of: model, options: options, given: given)
        var feeds: [String: EngineTensor] = [:]
        for (index, info) in model.graph.runtimeInputs.enumerated() {
            if let tensor = given[info.name] {
                feeds[info.name] = try EngineTensor(tensor)
                continue
            }
            guard case .tensor(let dtype, _)? = info.type, let dims = shapes[info.name] else { continue }
            var generator = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            let tensor = try EngineTensor(dtype: dtype, shape: dims)
            switch dtype {
            case .float:
                let values = tensor.floats
                for i in values.indices { values[i] = generator.unitFloat() * 2 - 1 }
            case .double:
                let values = tensor.elements(Double.self)
                for i in values.indices { values[i] = Double(generator.unitFloat() * 2 - 1) }
            case .float16:
                let values = tensor.elements(UInt16.self)
                for i in values.indices { values[i] = Float16(generator.unitFloat() * 2 - 1).bitPattern }
            case .bfloat16:
                let values = tensor.elements(UInt16.self)
                for i in values.indices { values[i] = ElementCodec.bfloat16Bits(generator.unitFloat() * 2 - 1) }
            case .int64:
                let values = tensor.elements(Int64.self)
                for i in values.indices { values[i] = Int64(generator.next() % 10) }
            case .int32:
                let values = tensor.elements(Int32.self)
                for i in values.indices { values[i] = Int32(generator.next() % 10) }
            case .bool, .uint8, .int8:
                let values = tensor.elements(UInt8.self)
                for i in values.indices { values[i] = UInt8(generator.next() % (dtype == .bool ? 2 : 10)) }
            default:
                throw ModelError(.unsupported(op: nil, dtype: dtype), "cannot make random data of type \(dtype) for input '\(info.name)'; give it with --input")
            }
            feeds[info.name] = tensor
        }
        return feeds
    }

    /// Feeds of every kind: `given` values, and for the tensor inputs not
    /// given, the seeded random values of `random`. A sequence or optional
    /// input has no random form and must be given.
    public static func values(for model: Model, options: AnalysisOptions, seed: UInt64,
                              given: [String: StoredValue]) throws(ModelError) -> [String: EngineValue] {
        var tensors: [String: Tensor] = [:], feeds: [String: EngineValue] = [:]
        for info in model.graph.runtimeInputs {
            switch (given[info.name], info.type) {
            case (.tensor(let tensor)?, _):
                tensors[info.name] = tensor
            case (let value?, _):
                feeds[info.name] = try EngineValue(value, type: info.type)
            case (nil, .tensor?), (nil, nil):
                break
            case (nil, let type?):
                throw ModelError(.usage, "input '\(info.name)' is \(type), which has no random values; "
                                 + "give it as a SequenceProto or OptionalProto .pb file")
            }
        }
        for (name, tensor) in try random(for: model, options: options, seed: seed, given: tensors) { feeds[name] = .tensor(tensor) }
        return feeds
    }

    /// Refuses a tensor whose element type, rank or a static dimension differs
    /// from the model input's declaration. A float64 array for a float32 input
    /// (numpy's default type) is refused too rather than silently narrowed.
    public static func check(_ tensor: Tensor, against info: ValueInfo) throws(ModelError) {
        guard case .tensor(let dtype, let shape)? = info.type else { return }
        if tensor.dtype != dtype {
            let hint = tensor.dtype == .double && dtype == .float ? " (numpy's default; save it with .astype(numpy.float32))" : ""
            throw ModelError(.invalidInput, "input '\(info.name)' is \(dtype) in the model, but the given tensor is \(tensor.dtype)\(hint)")
        }
        guard let shape else { return }
        let declared = shape.dims.map { $0.value.map(String.init) ?? "\($0)" }.joined(separator: "×")
        let actual = tensor.dims.map(String.init).joined(separator: "×")
        guard tensor.dims.count == shape.rank else {
            throw ModelError(.invalidInput, "input '\(info.name)' has rank \(shape.rank) (\(declared)) in the model, "
                             + "but the given tensor has rank \(tensor.dims.count) (\(actual))")
        }
        for (i, (dim, size)) in zip(shape.dims, tensor.dims).enumerated() {
            if let value = dim.value, value != size {
                throw ModelError(.invalidInput, "input '\(info.name)' is \(declared) in the model, but the given tensor is \(actual) "
                                 + "(dimension \(i) is \(size), not \(value))")
            }
        }
    }

    /// What was fed to each input, in the model's order: type, shape, and
    /// the file it came from (`files`) or the seed of its random values.
    public static func describe(_ feeds: [String: EngineValue], of model: Model, seed: UInt64,
                                files: [String: String] = [:]) -> [InputUse] {
        model.graph.runtimeInputs.compactMap { info in
            guard let value = feeds[info.name] else { return nil }
            let source = files[info.name] ?? "random, seed \(seed)"
            switch value {
            case .tensor(let tensor):
                return InputUse(name: info.name, dtype: tensor.dtype.description, shape: tensor.shape, source: source)
            case .sequence(let sequence):
                return InputUse(name: info.name, dtype: "sequence of \(sequence.elementType)", shape: [sequence.elements.count], source: source)
            case .optional(let content):
                return InputUse(name: info.name, dtype: content == nil ? "empty optional" : "optional", shape: [], source: source)
            }
        }
    }

    /// The declared shape with the batch value, and each other open dimension
    /// as its symbol (or `d` and its index) in angle brackets: `1x3x<height>x<d3>`.
    /// `1x3x<height>x<width>`: an `--input-shape` value with the open dimensions left to fill in.
    public static func example(_ shape: Shape, batch: Int) -> String {
        shape.dims.enumerated().map { i, dim in
            switch dim {
            case .known(let value): return String(value)
            case _ where i == 0: return String(batch)
            case .symbol(let name): return "<\(name)>"
            case .unknown: return "<d\(i)>"
            }
        }.joined(separator: "x")
    }
}

/// What a run fed one model input.
public struct InputUse: Sendable, Encodable, Equatable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    /// `random, seed S` or the file the values came from.
    public var source: String

    public init(name: String, dtype: String, shape: [Int], source: String) {
        (self.name, self.dtype, self.shape, self.source) = (name, dtype, shape, source)
    }

    /// `input float32[1×3×224×224] (random, seed 0)`.
    public var text: String { "\(name) \(dtype)[\(shape.map(String.init).joined(separator: "×"))] (\(source))" }
}
