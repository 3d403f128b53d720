/// Two inputs broadcast against each other.
public struct Binary: OpSchema {
    public let op: String
    /// Mod: C's truncated remainder (`fmod = 1`) rather than the divisor's sign.
    public let truncatedModulo: Bool
    /// SwiGLU: the gate's sigmoid scale (`alpha`, default 1).
    public let alpha: Float
    /// BitShift: whether bits move left (`direction = LEFT`).
    public let shiftsLeft: Bool
    let flopsPerElement: Int
    let reader: AttributeReader

    static let comparisons: Set<String> = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        flopsPerElement = Elementwise.binaryFLOPs[op] ?? 1
        reader = AttributeReader(node)
        try reader.expectInputs(2...2)
        truncatedModulo = try reader.int("fmod", default: 0) != 0
        alpha = try reader.float("alpha", default: 1)
        let direction = op == "BitShift" ? try reader.string("direction", default: "") : "LEFT"
        guard direction == "LEFT" || direction == "RIGHT" else {
            throw reader.error("BitShift direction must be LEFT or RIGHT, not '\(direction)'")
        }
        shiftsLeft = direction == "LEFT"
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let a = inputs[input: 0], b = inputs[input: 1]
        let shape = try Broadcast.shape([a?.shape, b?.shape], node: reader)
        let dtype = Self.comparisons.contains(op) ? .bool : (a?.dtype ?? b?.dtype)
        var fact = ValueFact(dtype: dtype, shape: shape)
        if let x = a?.value, let y = b?.value, let shape = shape?.values {
            fact.value = fold(x, y, shape: shape)
        }
        return [fact]
    }

    /// Computes the result of small constant inputs, keeping symbolic integers.
    func fold(_ x: KnownValue, _ y: KnownValue, shape: [Int]) -> KnownValue? {
        guard let count = Count.product(shape), count <= KnownValue.maxElements,
              shape.allSatisfy({ $0 <= KnownValue.maxElements }) else { return nil }
        let xi = BroadcastIndex(from: x.dims, to: shape), yi = BroadcastIndex(from: y.dims, to: shape)
        switch (x.elements, y.elements) {
        case (.integers(let u), .integers(let v)):
            var out: [Dim] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                guard let r = integer(u[xi.source(of: i)], v[yi.source(of: i)]) else { return nil }
                out.append(r)
            }
            return KnownValue(dims: shape, elements: .integers(out))
        default:
            let u = x.reals, v = y.reals
            var out: [Double] = []
            out.reserveCapacity(count)
            for i in 0..<count {
                guard let r = real(u[xi.source(of: i)], v[yi.source(of: i)]) else { return nil }
                out.append(r)
            }
            if Self.comparisons.contains(op) { return KnownValue(dims: shape, elements: .integers(out.map { .known(Int($0)) })) }
            return KnownValue(dims: shape, elements: .reals(out))
        }
    }

    private func integer(_ a: Dim, _ b: Dim) -> Dim? {
        switch op {
        case "Add": return a + b
        case "Sub": return a - b
        case "Mul": return a * b
        case "Div": return a.flooredDivision(by: b)
        case "Mod":
            guard let x = a.value, let y = b.value, y != 0 else { return .unknown }
            let r = x % y
            return .known(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case "Equal":
            if a == b, a != .unknown { return .known(1) }
            guard let x = a.value, let y = b.value else { return .unknown }
            return .known(x == y ? 1 : 0)
        case "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Pow":
            guard let x = a.value, let y = b.value, let r = real(Double(x), Double(y)),
                  r.isFinite, abs(r) < 9e15 else { return .unknown }
            return .known(Int(r))
        default:
            return nil
        }
    }

    private func real(_ a: Double, _ b: Double) -> Double? {
        switch op {
        case "Add": return a + b
        case "Sub": return a - b
        case "Mul": return a * b
        case "Div": return a / b
        case "Pow": return pow(a, b)
        case "Equal": return a == b ? 1 : 0
        case "Less": return a < b ? 1 : 0
        case "Greater": return a > b ? 1 : 0
        case "LessOrEqual": return a <= b ? 1 : 0
        case "GreaterOrEqual": return a >= b ? 1 : 0
        case "And": return a != 0 && b != 0 ? 1 : 0
        case "Or": return a != 0 || b != 0 ? 1 : 0
        case "Xor": return (a != 0) != (b != 0) ? 1 : 0
        default: return nil
        }
    }

    private func pow(_ a: Double, _ b: Double) -> Double {
        // Integer powers only: enough for shape arithmetic, no libm needed.
        guard b == b.rounded(), b >= 0, b < 64 else { return .nan }
        var result = 1.0
        for _ in 0..<Int(b) { result *= a }
        return result
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: flopsPerElement)
    }

    /// PRelu's slope is learned even when one slope serves every channel.
    public var oneElementInputsAreConstants: Bool { op != "PRelu" }
}

/// Maps a flat index of a broadcast result to the flat index of one operand
/// (NumPy broadcasting); shared by constant folding and the engine's kernels.
public struct BroadcastIndex: Sendable {
    let outputStrides: [Int]
    let sourceStrides: [Int]

    /// The mapping from `shape` back to an operand of shape `source` that broadcasts to it.
    public init(from source: [Int], to shape: [Int]) {
        let padded = Array(repeating: 1, count: max(0, shape.count - source.count)) + source
        var outputStrides = [Int](repeating: 1, count: shape.count)
        var sourceStrides = [Int](repeating: 0, count: shape.count)
        var o = 1, s = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            outputStrides[axis] = o
            sourceStrides[axis] = padded[axis] == 1 ? 0 : s
            o *= max(shape[axis], 1)
            s *= max(padded[axis], 1)
        }
        self.outputStrides = outputStrides
        self.sourceStrides = sourceStrides
    }

    /// The operand's flat index for the result's flat index `index`.
    public func source(of index: Int) -> Int {
        var remaining = index, result = 0
        for axis in outputStrides.indices {
            let coordinate = remaining / outputStrides[axis]
            remaining -= coordinate * outputStrides[axis]
            result += coordinate * sourceStrides[axis]
        }
        return result
    }
}
