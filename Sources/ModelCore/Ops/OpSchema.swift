/// One ONNX operator as analysis and the engine see it.
///
/// A schema reads and checks its node's attributes once, into typed fields,
/// and owns the operator's shape rule and cost rule, so that nothing else
/// re-parses attributes. Families of similar operators share one type
/// (`Unary` serves Relu, Exp, Sqrt, …) and are registered under each name in
/// `OpRegistry`.
public protocol OpSchema: Sendable {
    /// Reads and checks `node`'s attributes for `opset`, the version of the
    /// node's domain that the model imports.
    init(node: Node, opset: Int) throws(ModelError)

    /// Facts about the outputs, given facts about the inputs (`nil` for an
    /// omitted optional input). Unknown parts of the result stay unknown;
    /// throws only when the inputs contradict the operator's rules.
    func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact]

    /// The work one execution does, given the facts `infer` settled on; `nil`
    /// when the shapes are not known well enough to count. The rules are
    /// listed in docs/COUNTING.md.
    func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost?

    /// Whether input `index` holds learned parameters when it is a stored
    /// tensor. BatchNormalization's running statistics are stored but not
    /// learned, and integer inputs (shapes, indices) never count.
    func holdsParameters(input index: Int) -> Bool
}

extension OpSchema {
    public func holdsParameters(input index: Int) -> Bool { true }
}

/// The arithmetic one node performs.
public struct OpCost: Sendable, Equatable {
    /// Multiply-accumulate operations (what torchvision and the ResNet paper call FLOPs / multiply-adds).
    public var macs: Int
    /// Floating-point operations: two per MAC plus the elementwise work (docs/COUNTING.md).
    public var flops: Int

    public init(macs: Int = 0, flops: Int) {
        self.macs = macs
        self.flops = flops
    }

    public static let zero = OpCost(macs: 0, flops: 0)

    /// `macs` multiply-accumulates and `extra` further operations, or `nil` on overflow.
    public static func multiplyAccumulate(_ macs: Int, plus extra: Int = 0) -> OpCost? {
        let (twice, o1) = macs.multipliedReportingOverflow(by: 2)
        let (flops, o2) = twice.addingReportingOverflow(extra)
        return o1 || o2 ? nil : OpCost(macs: macs, flops: flops)
    }

    /// `perElement` operations on each of `count` elements, or `nil` on overflow.
    public static func elementwise(_ count: Int, perElement: Int) -> OpCost? {
        let (flops, overflow) = count.multipliedReportingOverflow(by: perElement)
        return overflow ? nil : OpCost(macs: 0, flops: flops)
    }
}

/// Overflow-checked arithmetic for counts computed from file-declared shapes.
public enum Count {
    /// The product, or `nil` on overflow or a negative factor.
    public static func product(_ values: Int...) -> Int? { Shape.product(values) }

    /// The product of an array, or `nil` on overflow or a negative factor.
    public static func product(_ values: [Int]) -> Int? { Shape.product(values) }
}

/// Typed access to a node's attributes; every error names the node and the attribute.
public struct AttributeReader: Sendable {
    public let node: Node

    public init(_ node: Node) { self.node = node }

    /// An error about this node; analysis adds which node it is.
    public func error(_ message: String) -> ModelError {
        ModelError(.invalidGraph, message)
    }

    private func value(_ name: String) -> AttributeValue? { node.attribute(name)?.value }

    /// Checks how many inputs the node has (trailing omitted optional inputs count as absent).
    public func expectInputs(_ range: ClosedRange<Int>) throws(ModelError) {
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

    public func int(_ name: String) throws(ModelError) -> Int? {
        guard let v = value(name) else { return nil }
        guard case .int(let i) = v, let result = Int(exactly: i) else { throw mismatch(name, "an integer") }
        return result
    }

    public func int(_ name: String, default fallback: Int) throws(ModelError) -> Int {
        try int(name) ?? fallback
    }

    public func float(_ name: String, default fallback: Float) throws(ModelError) -> Float {
        guard let v = value(name) else { return fallback }
        guard case .float(let f) = v else { throw mismatch(name, "a float") }
        return f
    }

    public func ints(_ name: String) throws(ModelError) -> [Int]? {
        guard let v = value(name) else { return nil }
        guard case .ints(let values) = v else { throw mismatch(name, "a list of integers") }
        var result: [Int] = []
        for i in values {
            guard let value = Int(exactly: i) else { throw mismatch(name, "a list of integers") }
            result.append(value)
        }
        return result
    }

    public func floats(_ name: String) throws(ModelError) -> [Float]? {
        guard let v = value(name) else { return nil }
        guard case .floats(let values) = v else { throw mismatch(name, "a list of floats") }
        return values
    }

    public func string(_ name: String, default fallback: String) throws(ModelError) -> String {
        guard let v = value(name) else { return fallback }
        guard case .string(let bytes) = v else { throw mismatch(name, "a string") }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func strings(_ name: String) throws(ModelError) -> [String]? {
        guard let v = value(name) else { return nil }
        guard case .strings(let values) = v else { throw mismatch(name, "a list of strings") }
        return values.map { String(decoding: $0, as: UTF8.self) }
    }

    public func tensor(_ name: String) throws(ModelError) -> Tensor? {
        guard let v = value(name) else { return nil }
        guard case .tensor(let t) = v else { throw mismatch(name, "a tensor") }
        return t
    }

    public func graph(_ name: String) throws(ModelError) -> Graph? {
        guard let v = value(name) else { return nil }
        guard case .graph(let g) = v else { throw mismatch(name, "a graph") }
        return g
    }

    /// A normalised axis in `0..<rank` (negative axes count from the end).
    public func axis(_ axis: Int, rank: Int) throws(ModelError) -> Int {
        let normalised = axis < 0 ? axis + rank : axis
        guard normalised >= 0 && normalised < rank else {
            throw error("axis \(axis) is out of range for rank \(rank)")
        }
        return normalised
    }
}

/// NumPy-style broadcasting of shapes, as ONNX's multidirectional broadcasting defines it.
public enum Broadcast {
    /// The broadcast shape, or `nil` when a rank is unknown; throws when two known dims conflict.
    public static func shape(_ shapes: [Shape?], node: AttributeReader) throws(ModelError) -> Shape? {
        var result: [Dim] = []
        for case let shape? in shapes {
            let dims = shape.dims
            if dims.count > result.count {
                result = Array(repeating: .known(1), count: dims.count - result.count) + result
            }
            let offset = result.count - dims.count
            for (i, d) in dims.enumerated() {
                result[offset + i] = try merge(result[offset + i], d, node: node)
            }
        }
        return shapes.contains(where: { $0 == nil }) ? nil : Shape(result)
    }

    static func merge(_ a: Dim, _ b: Dim, node: AttributeReader) throws(ModelError) -> Dim {
        switch (a, b) {
        case (.known(1), _): return b
        case (_, .known(1)): return a
        case (.known(let x), .known(let y)):
            guard x == y else { throw node.error("cannot broadcast dimensions \(x) and \(y)") }
            return a
        case (.known, _): return a
        case (_, .known): return b
        case (.symbol(let x), .symbol(let y)) where x == y: return a
        default: return .unknown
        }
    }
}

extension Array where Element == ValueFact? {
    /// The fact for input `index`, or `nil` when the input is absent or omitted.
    public subscript(input index: Int) -> ValueFact? {
        index < count ? self[index] : nil
    }
}
