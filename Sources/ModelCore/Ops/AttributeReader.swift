/// Typed access to a node's attributes; every error names the node and the attribute.
struct AttributeReader: Sendable {
    let node: Node

    init(_ node: Node) { self.node = node }

    /// An error about this node; analysis adds which node it is.
    func error(_ message: String) -> ModelError {
        ModelError(.invalidGraph, message)
    }

    private func value(_ name: String) -> AttributeValue? { node.attribute(name)?.value }

    /// Checks how many inputs the node has (trailing omitted optional inputs count as absent).
    func expectInputs(_ range: ClosedRange<Int>) throws(ModelError) {
        var count = node.inputs.count
        while count > 0 && node.inputs[count - 1].isEmpty { count -= 1 }
        guard range.contains(count) else {
            let expected = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)"
            throw error("\(node.opType) takes \(expected) inputs, this node has \(count)")
        }
    }

    private func mismatch(_ name: String, _ expected: String) -> ModelError {
        error("attribute '\(name)' should be \(expected)")
    }

    func int(_ name: String) throws(ModelError) -> Int? {
        guard let v = value(name) else { return nil }
        guard case .int(let i) = v, let result = Int(exactly: i) else { throw mismatch(name, "an integer") }
        return result
    }

    func int(_ name: String, default fallback: Int) throws(ModelError) -> Int {
        try int(name) ?? fallback
    }

    func float(_ name: String, default fallback: Float) throws(ModelError) -> Float {
        guard let v = value(name) else { return fallback }
        guard case .float(let f) = v else { throw mismatch(name, "a float") }
        return f
    }

    func ints(_ name: String) throws(ModelError) -> [Int]? {
        guard let v = value(name) else { return nil }
        guard case .ints(let values) = v else { throw mismatch(name, "a list of integers") }
        var result: [Int] = []
        for i in values {
            guard let value = Int(exactly: i) else { throw mismatch(name, "a list of integers") }
            result.append(value)
        }
        return result
    }

    func floats(_ name: String) throws(ModelError) -> [Float]? {
        guard let v = value(name) else { return nil }
        guard case .floats(let values) = v else { throw mismatch(name, "a list of floats") }
        return values
    }

    func string(_ name: String, default fallback: String) throws(ModelError) -> String {
        guard let v = value(name) else { return fallback }
        guard case .string(let bytes) = v else { throw mismatch(name, "a string") }
        return String(decoding: bytes, as: UTF8.self)
    }

    func strings(_ name: String) throws(ModelError) -> [String]? {
        guard let v = value(name) else { return nil }
        guard case .strings(let values) = v else { throw mismatch(name, "a list of strings") }
        return values.map { String(decoding: $0, as: UTF8.self) }
    }

    func tensor(_ name: String) throws(ModelError) -> Tensor? {
        guard let v = value(name) else { return nil }
        guard case .tensor(let t) = v else { throw mismatch(name, "a tensor") }
        return t
    }

    func graph(_ name: String) throws(ModelError) -> Graph? {
        guard let v = value(name) else { return nil }
        guard case .graph(let g) = v else { throw mismatch(name, "a graph") }
        return g
    }

    /// A normalised axis in `0..<rank` (negative axes count from the end).
    func axis(_ axis: Int, rank: Int) throws(ModelError) -> Int {
        let normalised = axis < 0 ? axis + rank : axis
        guard normalised >= 0 && normalised < rank else {
            throw error("axis \(axis) is out of range for rank \(rank)")
        }
        return normalised
    }
}
