/// NumPy-style broadcasting of shapes, as ONNX's multidirectional broadcasting defines it.
public enum Broadcast {
    /// The broadcast shape, or `nil` when a rank is unknown; throws when two known dims conflict.
    static func shape(_ shapes: [Shape?], node: AttributeReader) throws(ModelError) -> Shape? {
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
