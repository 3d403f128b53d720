import ModelCore

/// The values of a graph known before it runs: its initializers and the
/// outputs of its Constant nodes, as the plan-time fusions read them.
struct GraphConstants {
    private let stored: [String: Tensor]
    private let constantOutputs: [String: Tensor]

    init(_ graph: Graph) {
        stored = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var outputs: [String: Tensor] = [:]
        for node in graph.nodes where node.opType == "Constant" && node.domain.isEmpty {
            if let output = node.outputs.first, case .tensor(let tensor)? = node.attribute("value")?.value { outputs[output] = tensor }
        }
        constantOutputs = outputs
    }

    /// A float32 initializer.
    func storedFloat(_ name: String?) -> Tensor? {
        guard let name, let tensor = stored[name], tensor.dtype == .float else { return nil }
        return tensor
    }

    /// The value of a one-element floating-point initializer or Constant.
    func scalar(_ name: String) -> Float? {
        guard let tensor = stored[name] ?? constantOutputs[name], tensor.dtype.kind == .float,
              let values = try? tensor.doubleValues(), values.count == 1 else { return nil }
        return Float(values[0])
    }

    /// Whether `name` is a one-element constant equal to `expected` as
    /// closely as its type can hold it: a few float32 ulps, or the step of
    /// a half type (a float16 model's √2 is 1.4140625).
    func scalar(_ name: String, approximates expected: Float) -> Bool {
        guard let value = scalar(name), let dtype = (stored[name] ?? constantOutputs[name])?.dtype else { return false }
        let step: Float = dtype == .float16 ? 1e-3 : dtype == .bfloat16 ? 8e-3 : 1e-6
        return abs(value - expected) <= step * abs(expected)
    }
}
