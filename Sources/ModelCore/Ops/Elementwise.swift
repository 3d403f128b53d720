/// Elementwise operators: unary math and activations, broadcasting binary
/// arithmetic and comparisons, variadic reductions over inputs, `Where`,
/// `Cast`, softmax-like row operators and the inference no-ops.
///
/// Counting rule (docs/COUNTING.md): one FLOP per arithmetic operation and
/// one per transcendental function (exp, log, tanh, erf, …) on each output
/// element; comparisons count one, logical and bitwise operations and pure
/// copies count zero.
public enum Elementwise {
    /// FLOPs per element of each unary operator.
    static let unaryFLOPs: [String: Int] = [
        "Abs": 1, "Neg": 1, "Exp": 1, "Log": 1, "Sqrt": 1, "Reciprocal": 1, "Floor": 1, "Ceil": 1, "Round": 1,
        "Sign": 1, "Sin": 1, "Cos": 1, "Tan": 1, "Asin": 1, "Acos": 1, "Atan": 1, "Sinh": 1, "Cosh": 1,
        "Asinh": 1, "Acosh": 1, "Atanh": 1, "Erf": 1, "IsNaN": 1, "IsInf": 1,
        "Relu": 1,                // max(x, 0)
        "LeakyRelu": 2,           // compare, multiply
        "ThresholdedRelu": 1,     // compare
        "Sigmoid": 4,             // negate, exp, add, divide
        "HardSigmoid": 4,         // multiply, add, clamp (2)
        "HardSwish": 5,           // hard sigmoid (4), multiply
        "Tanh": 1,
        "Softplus": 3,            // exp, add, log
        "Softsign": 3,            // abs, add, divide
        "Elu": 4,                 // compare, exp, subtract, multiply
        "Selu": 5,                // Elu (4), scale
        "Celu": 5,                // max/min, divide, exp, subtract, multiply
        "Gelu": 5,                // divide by √2, erf, add, multiply, multiply (tanh form: same count)
        "Mish": 5,                // exp, add, log, tanh, multiply
        "Swish": 5,               // sigmoid (4), multiply
        "Shrink": 2,              // compare, add/subtract
        "Clip": 2,                // max, min
        "Not": 0, "BitwiseNot": 0,
        "Identity": 0, "Dropout": 0,
    ]

    static let binaryFLOPs: [String: Int] = [
        "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Mod": 1, "PRelu": 2,
        "Equal": 1, "Less": 1, "Greater": 1, "LessOrEqual": 1, "GreaterOrEqual": 1,
        "And": 0, "Or": 0, "Xor": 0, "BitShift": 0, "BitwiseAnd": 0, "BitwiseOr": 0, "BitwiseXor": 0,
        "SwiGLU": 7,              // swish of the gate (scale, sigmoid 4, multiply), times the value
    ]

    static let registrations: [String: any OpSchema.Type] = {
        var table: [String: any OpSchema.Type] = [:]
        for op in unaryFLOPs.keys { table[op] = Unary.self }
        for op in binaryFLOPs.keys { table[op] = Binary.self }
        for op in ["Sum", "Mean", "Max", "Min"] { table[op] = Variadic.self }
        for op in ["Softmax", "LogSoftmax", "Hardmax"] { table[op] = RowOperator.self }
        table["Where"] = Where.self
        table["Cast"] = Cast.self
        table["CastLike"] = Cast.self
        return table
    }()
}

/// One input, one same-shaped output (plus Dropout's optional mask).
public struct Unary: OpSchema {
    public let op: String
    let flopsPerElement: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        flopsPerElement = Elementwise.unaryFLOPs[op] ?? 1
        // Clip takes min and max as inputs from opset 11; Dropout its ratio and training mode from 12.
        try AttributeReader(node).expectInputs(op == "Clip" || op == "Dropout" ? 1...3 : 1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = inputs[input: 0] ?? .unknown
        switch op {
        case "Identity":
            return [fact]
        case "Dropout":
            // At inference the data passes through unchanged; the mask is all true.
            return [fact, ValueFact(dtype: .bool, shape: fact.shape)]
        case "IsNaN", "IsInf":
            return [ValueFact(dtype: .bool, shape: fact.shape)]
        case "Neg", "Abs":
            if let value = fact.value, case .integers(let v) = value.elements {
                fact.value = KnownValue(dims: value.dims, elements: .integers(v.map { d in
                    guard let x = d.value else { return op == "Neg" ? d * .known(-1) : .unknown }
                    return .known(op == "Neg" ? -x : abs(x))
                }))
                return [fact]
            }
        default:
            break
        }
        fact.value = nil
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: flopsPerElement)
    }

    /// Clip's bounds (ReLU6's 0 and 6) are settings, not learned parameters.
    public func holdsParameters(input index: Int) -> Bool { op != "Clip" }
}

/// Two inputs broadcast against each other.
public struct Binary: OpSchema {
    public let op: String
    let flopsPerElement: Int
    let reader: AttributeReader

    static let comparisons: Set<String> = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        flopsPerElement = Elementwise.binaryFLOPs[op] ?? 1
        reader = AttributeReader(node)
        try reader.expectInputs(2...2)
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

/// `Sum`, `Mean`, `Max`, `Min` over any number of broadcast inputs.
public struct Variadic: OpSchema {
    public let op: String
    let inputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        inputCount = node.inputs.count
        guard inputCount >= 1 else { throw reader.error("\(op) needs at least one input") }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let shape = try Broadcast.shape(inputs.map { $0?.shape }, node: reader)
        return [ValueFact(dtype: inputs.lazy.compactMap { $0?.dtype }.first, shape: shape)]
    }

    /// (inputs − 1) operations per element; Mean adds one division.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: inputCount - 1 + (op == "Mean" ? 1 : 0))
    }
}

/// `Where(condition, x, y)`: selection, no arithmetic.
public struct Where: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let shape = try Broadcast.shape([inputs[input: 0]?.shape, inputs[input: 1]?.shape, inputs[input: 2]?.shape], node: reader)
        var fact = ValueFact(dtype: inputs[input: 1]?.dtype ?? inputs[input: 2]?.dtype, shape: shape)
        if let c = inputs[input: 0]?.value?.knownIntegers, let x = inputs[input: 1]?.value, let y = inputs[input: 2]?.value,
           let dims = shape?.values, let count = Count.product(dims), count <= KnownValue.maxElements,
           dims.allSatisfy({ $0 <= KnownValue.maxElements }),
           case .integers(let u) = x.elements, case .integers(let v) = y.elements {
            let ci = BroadcastIndex(from: inputs[input: 0]?.value?.dims ?? [], to: dims)
            let xi = BroadcastIndex(from: x.dims, to: dims), yi = BroadcastIndex(from: y.dims, to: dims)
            fact.value = KnownValue(dims: dims, elements: .integers((0..<count).map { i in
                c[ci.source(of: i)] != 0 ? u[xi.source(of: i)] : v[yi.source(of: i)]
            }))
        }
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        outputs.first?.elementCount == nil ? nil : .zero
    }
}

/// `Cast` and `CastLike`: a type conversion; not counted as arithmetic.
public struct Cast: OpSchema {
    /// The target type; for CastLike it comes from the second input.
    public let target: DType?

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        if node.opType == "Cast" {
            try reader.expectInputs(1...1)
            guard let to = try reader.int("to"), let code = Int32(exactly: to) else { throw reader.error("Cast needs a 'to' type") }
            target = DType(rawValue: code)
        } else {
            try reader.expectInputs(2...2)
            target = nil
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        guard let dtype = target ?? inputs[input: 1]?.dtype else { return [ValueFact(dtype: nil, shape: x.shape)] }
        var fact = ValueFact(dtype: dtype, shape: x.shape)
        if let value = x.value {
            switch dtype.kind {
            case .signedInteger?, .unsignedInteger?:
                fact.value = KnownValue(dims: value.dims, elements: .integers(value.integers))
            case .bool?:
                fact.value = KnownValue(dims: value.dims, elements: .integers(value.reals.map { .known($0 != 0 ? 1 : 0) }))
            case .float?:
                fact.value = KnownValue(dims: value.dims, elements: .reals(value.reals))
            default:
                break
            }
        }
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        outputs.first?.elementCount == nil ? nil : .zero
    }
}

/// `Softmax`, `LogSoftmax`, `Hardmax` along one axis.
///
/// Softmax per element: max, subtract, exp, sum, divide = 5 FLOPs;
/// LogSoftmax: max, subtract, exp, sum, and subtract the log = 5;
/// Hardmax: one comparison.
public struct RowOperator: OpSchema {
    public let op: String
    public let axis: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        // The default axis moved from 1 to -1 in opset 13.
        axis = try reader.int("axis", default: opset >= 13 ? -1 : 1)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0] ?? .unknown
        if let rank = x.shape?.rank, rank > 0 { _ = try reader.axis(axis, rank: rank) }
        return [ValueFact(dtype: x.dtype, shape: x.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: op == "Hardmax" ? 1 : 5)
    }
}
