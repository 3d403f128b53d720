/// Inputs for running a model: from tensor files, or seeded random data for the declared shapes.
public enum ModelInputs {
    /// Concrete shapes for the model's runtime inputs: declared dims, with
    /// `options` applied and any remaining symbolic or unknown dim set to 1.
    public static func shapes(of model: Model, options: AnalysisOptions) throws(ModelError) -> [String: [Int]] {
        var result: [String: [Int]] = [:]
        for info in model.graph.runtimeInputs {
            if let dims = options.inputShapes[info.name] {
                result[info.name] = dims
                continue
            }
            guard case .tensor(_, let shape?)? = info.type else {
                throw ModelError(.usage, "input '\(info.name)' has no declared tensor shape; give one with --input-shape")
            }
            result[info.name] = shape.dims.enumerated().map { i, dim in
                if let v = dim.value { return v }
                return i == 0 ? (options.batch ?? 1) : 1
            }
        }
        return result
    }

    /// Seeded random values for every runtime input: floats uniform in [-1, 1),
    /// integers in [0, 10), booleans half true. The same seed gives the same values everywhere.
    public static func random(for model: Model, options: AnalysisOptions, seed: UInt64) throws(ModelError) -> [String: EngineTensor] {
        let shapes = try shapes(of: model, options: options)
        var feeds: [String: EngineTensor] = [:]
        for (index, info) in model.graph.runtimeInputs.enumerated() {
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
}
