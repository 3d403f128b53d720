import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Binary operators
//
// Integer arithmetic wraps around. Integer division and remainder by zero,
// which ONNX leaves undefined, give 0 instead of trapping.

/// Add, Sub, Mul, Div and Mod with NumPy broadcasting, on every numeric type.
struct ArithmeticKernel: Kernel {
    /// Which arithmetic operation.
    enum Operation: Sendable {
        case add, subtract, multiply, divide
        case modulo(truncated: Bool)

        static let operators = ["Add", "Sub", "Mul", "Div", "Mod"]
    }

    let operation: Operation
    let op: String

    init(_ schema: Binary) throws(ModelError) {
        op = schema.op
        switch op {
        case "Add": operation = .add
        case "Sub": operation = .subtract
        case "Mul": operation = .multiply
        case "Div": operation = .divide
        default: operation = .modulo(truncated: schema.truncatedModulo)
        }
    }

    /// The operation over one element type.
    struct Apply: NumberVisitor {
        let operation: Operation
        let a: EngineTensor, b: EngineTensor
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            switch operation {
            case .add: return try broadcastBinary(a, b, a.dtype, context) { T.sum($0, $1) as T }
            case .subtract: return try broadcastBinary(a, b, a.dtype, context) { T.difference($0, $1) as T }
            case .multiply: return try broadcastBinary(a, b, a.dtype, context) { T.product($0, $1) as T }
            case .divide: return try broadcastBinary(a, b, a.dtype, context) { T.quotient($0, $1) as T }
            case .modulo(let truncated):
                return try broadcastBinary(a, b, a.dtype, context) { T.modulo($0, $1, truncated: truncated) as T }
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try requiredInput(inputs, 0, "input A"), b = try requiredInput(inputs, 1, "input B")
        try requireSameType([a, b], op)
        if a.dtype == .float, let operation = FloatLoops.Operation(operation) {
            return [try FloatLoops.arithmetic(operation, a, b, context)]
        }
        return [try ElementTypes.visit(a.dtype, Apply(operation: operation, a: a, b: b, context: context), op)]
    }
}

/// Float32 Relu (and a fused Conv's Clip) and arithmetic as loops whose operation is written out in
/// the parallel body, so that the compiler inlines and vectorises it. The
/// generic kernels call their element function through a closure for every
/// element (ResNet-50's ReLUs after the residual Adds cost 5 ns an element so).
enum FloatLoops {
    /// The arithmetic operations with a float32 loop (Mod stays generic).
    enum Operation {
        case add, subtract, multiply, divide

        init?(_ operation: ArithmeticKernel.Operation) {
            switch operation {
            case .add: self = .add
            case .subtract: self = .subtract
            case .multiply: self = .multiply
            case .divide: self = .divide
            case .modulo: return nil
            }
        }
    }

    /// min(max(x, low), high), as Clip; Relu is clamp(x, 0, ∞). NaN and −0
    /// pass unchanged, as in the generic kernels, and when low > high every
    /// element becomes high.
    static func clamp(_ x: EngineTensor, low: Float, high: Float, _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let (from, to) = (x.floats.baseAddress!, output.floats.baseAddress!)
        context.parallelRanges(x.count, grain: elementwiseGrain) { range in
            for i in range {
                let v = from[i] < low ? low : from[i]
                to[i] = v > high ? high : v
            }
        }
        return output
    }

    /// `operation` with broadcasting.
    static func arithmetic(_ operation: Operation, _ a: EngineTensor, _ b: EngineTensor,
                           _ context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: .float, shape: try broadcastShape(a.shape, b.shape))
        let (x, y, z) = (a.floats.baseAddress!, b.floats.baseAddress!, output.floats.baseAddress!)
        let walk = BroadcastWalk(shape: output.shape, operands: [a.shape, b.shape])
        let step = walk.innerStrides
        context.parallelRanges(output.count, grain: elementwiseGrain) { range in
            var cursor = BroadcastWalk.Cursor(walk, range)
            while let run = cursor.next() {
                let (xs, ys, zs, length) = (x + run.offsets[0], y + run.offsets[1], z + run.start, run.length)
                // Same shapes, a scalar or per-channel operand (a run of one value), or strided.
                @inline(__always) func loop(_ f: (Float, Float) -> Float) {
                    switch (step[0], step[1]) {
                    case (1, 1): for j in 0..<length { zs[j] = f(xs[j], ys[j]) }
                    case (1, 0): let v = ys[0]; for j in 0..<length { zs[j] = f(xs[j], v) }
                    case (0, 1): let u = xs[0]; for j in 0..<length { zs[j] = f(u, ys[j]) }
                    default: for j in 0..<length { zs[j] = f(xs[j &* step[0]], ys[j &* step[1]]) }
                    }
                }
                switch operation {
                case .add: loop(+)
                case .subtract: loop(-)
                case .multiply: loop(*)
                case .divide: loop(/)
                }
            }
        }
        return output
    }
}

/// Pow: the base's type decides the result; the exponent may be of any numeric type.
struct PowKernel: Kernel {
    /// The power over one base type.
    struct Apply: NumberVisitor {
        let base: EngineTensor, exponent: EngineTensor
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            // Same types, or integers of two widths: an exact power in the base's type.
            let integers = base.dtype.kind != .float && exponent.dtype.kind != .float
            if base.dtype == exponent.dtype || integers {
                let e = base.dtype == exponent.dtype ? exponent : try castTensor(exponent, to: base.dtype)
                return try broadcastBinary(base, e, base.dtype, context) { T.power($0, $1) as T }
            }
            // Mixed real and integer: computed in float64 and converted as Cast does (int32 2^2.5 is 5).
            let e = try castTensor(exponent, to: .double)
            return try broadcastBinary(base, e, base.dtype, context) { (x: T, y: Double) -> T in
                T(double: Glibc.pow(x.doubleValue, y))
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let base = try requiredInput(inputs, 0, "input X"), exponent = try requiredInput(inputs, 1, "input Y")
        // A float32 square or cube by one exponent (GELU's tanh form cubes its
        // input): products rather than powf calls, within an ulp of them.
        if base.dtype == .float, exponent.count == 1, exponent.shape.count <= base.shape.count,
           let e = try realValues(exponent).first, e == 2 || e == 3 {
            let output = try EngineTensor(dtype: .float, shape: base.shape)
            if e == 2 {
                mapUnary(base, output, context) { (x: Float) -> Float in x * x }
            } else {
                mapUnary(base, output, context) { (x: Float) -> Float in x * x * x }
            }
            return [output]
        }
        return [try ElementTypes.visit(base.dtype, Apply(base: base, exponent: exponent, context: context), "Pow")]
    }
}

/// PRelu: x where x ≥ 0, slope · x elsewhere; the slope broadcasts to x.
struct PReluKernel: Kernel {
    /// PRelu over one element type.
    struct Apply: NumberVisitor {
        let x: EngineTensor, slope: EngineTensor
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            guard try broadcastShape(x.shape, slope.shape) == x.shape else {
                throw ModelError(.invalidGraph, "PRelu slope of shape \(slope.shape) does not broadcast to the input shape \(x.shape)")
            }
            return try broadcastBinary(x, slope, x.dtype, context) { (v: T, s: T) -> T in v < T.zero ? T.product(s, v) : v }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X"), slope = try requiredInput(inputs, 1, "slope")
        try requireSameType([x, slope], "PRelu")
        return [try ElementTypes.visit(x.dtype, Apply(x: x, slope: slope, context: context), "PRelu")]
    }
}

/// SwiGLU: Swish_alpha(A) · B.
struct SwiGLUKernel: Kernel {
    let alpha: Float

    init(_ schema: Binary) throws(ModelError) {
        alpha = schema.alpha
    }

    /// SwiGLU over one element type.
    struct Apply: RealVisitor {
        let gate: EngineTensor, value: EngineTensor
        let alpha: Float
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let a = T.Compute(alpha)
            return try broadcastBinary(gate, value, gate.dtype, context) { (g: T, v: T) -> T in
                let x = g.computed
                return T(computed: x * RealFunction.sigmoid(a * x) * v.computed)
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let gate = try requiredInput(inputs, 0, "gate A"), value = try requiredInput(inputs, 1, "value B")
        try requireSameType([gate, value], "SwiGLU")
        return [try ElementTypes.visit(gate.dtype, Apply(gate: gate, value: value, alpha: alpha, context: context), "SwiGLU")]
    }
}

/// Equal, Less, Greater, LessOrEqual, GreaterOrEqual: bool results, with broadcasting.
struct ComparisonKernel: Kernel {
    /// Which comparison.
    enum Operation: Sendable {
        case equal, less, greater, lessOrEqual, greaterOrEqual

        static let operators = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"]
    }

    let operation: Operation
    let op: String

    init(_ schema: Binary) throws(ModelError) {
        op = schema.op
        switch op {
        case "Equal": operation = .equal
        case "Less": operation = .less
        case "Greater": operation = .greater
        case "LessOrEqual": operation = .lessOrEqual
        default: operation = .greaterOrEqual
        }
    }

    /// The comparison over one element type (bool compares as its UInt8 storage).
    struct Apply: NumberVisitor {
        let operation: Operation
        let a: EngineTensor, b: EngineTensor
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            switch operation {
            case .equal: return try broadcastBinary(a, b, .bool, context) { (x: T, y: T) -> UInt8 in x == y ? 1 : 0 }
            case .less: return try broadcastBinary(a, b, .bool, context) { (x: T, y: T) -> UInt8 in x < y ? 1 : 0 }
            case .greater: return try broadcastBinary(a, b, .bool, context) { (x: T, y: T) -> UInt8 in x > y ? 1 : 0 }
            case .lessOrEqual: return try broadcastBinary(a, b, .bool, context) { (x: T, y: T) -> UInt8 in x <= y ? 1 : 0 }
            case .greaterOrEqual: return try broadcastBinary(a, b, .bool, context) { (x: T, y: T) -> UInt8 in x >= y ? 1 : 0 }
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try requiredInput(inputs, 0, "input A"), b = try requiredInput(inputs, 1, "input B")
        try requireSameType([a, b], op)
        if case .equal = operation, let x = a.strings, let y = b.strings {
            let shape = try broadcastShape(a.shape, b.shape)
            let output = try EngineTensor(dtype: .bool, shape: shape)
            let target = output.elements(UInt8.self)
            let walk = BroadcastWalk(shape: shape, operands: [a.shape, b.shape])
            let step = walk.innerStrides
            walk.forEachRun(0..<output.count) { start, offsets, length in
                for j in 0..<length { target[start + j] = x[offsets[0] + j * step[0]] == y[offsets[1] + j * step[1]] ? 1 : 0 }
            }
            return [output]
        }
        let apply = Apply(operation: operation, a: a, b: b, context: context)
        return [try ElementTypes.visit(a.dtype, apply, bool: operation == .equal, op)]
    }
}

/// And, Or, Xor on bool tensors, with broadcasting.
struct LogicalKernel: Kernel {
    /// Which logical operation.
    enum Operation: Sendable {
        case and, or, xor

        static let operators = ["And", "Or", "Xor"]
    }

    let operation: Operation
    let op: String

    init(_ schema: Binary) throws(ModelError) {
        op = schema.op
        operation = op == "And" ? .and : op == "Or" ? .or : .xor
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try requiredInput(inputs, 0, "input A"), b = try requiredInput(inputs, 1, "input B")
        for t in [a, b] where t.dtype != .bool { throw ElementTypes.unsupported(op, t.dtype, "bool") }
        // Any nonzero byte counts as true, in case a bool tensor from a file holds other values.
        switch operation {
        case .and: return [try broadcastBinary(a, b, .bool, context) { (x: UInt8, y: UInt8) -> UInt8 in x != 0 && y != 0 ? 1 : 0 }]
        case .or: return [try broadcastBinary(a, b, .bool, context) { (x: UInt8, y: UInt8) -> UInt8 in x != 0 || y != 0 ? 1 : 0 }]
        case .xor: return [try broadcastBinary(a, b, .bool, context) { (x: UInt8, y: UInt8) -> UInt8 in (x != 0) != (y != 0) ? 1 : 0 }]
        }
    }
}

/// BitwiseAnd, BitwiseOr, BitwiseXor and BitShift on integer tensors.
struct BitwiseKernel: Kernel {
    /// Which bitwise operation.
    enum Operation: Sendable {
        case and, or, xor
        case shift(left: Bool)

        static let operators = ["BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitShift"]
    }

    let operation: Operation
    let op: String

    init(_ schema: Binary) throws(ModelError) {
        op = schema.op
        switch op {
        case "BitwiseAnd": operation = .and
        case "BitwiseOr": operation = .or
        case "BitwiseXor": operation = .xor
        default: operation = .shift(left: schema.shiftsLeft)
        }
    }

    /// The operation over one element type.
    struct Apply: IntegerVisitor {
        let operation: Operation
        let a: EngineTensor, b: EngineTensor
        let context: ExecutionContext

        func visit<T: IntegerElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            switch operation {
            case .and: return try broadcastBinary(a, b, a.dtype, context) { (x: T, y: T) -> T in x & y }
            case .or: return try broadcastBinary(a, b, a.dtype, context) { (x: T, y: T) -> T in x | y }
            case .xor: return try broadcastBinary(a, b, a.dtype, context) { (x: T, y: T) -> T in x ^ y }
            case .shift(let left):
                // A negative shift or one of the full width or more leaves only the sign fill (ONNX BitShift).
                return try broadcastBinary(a, b, a.dtype, context) { (x: T, y: T) -> T in
                    guard y >= 0, y < T.bitWidth else { return !left && x < 0 ? 0 &- 1 : 0 }
                    return left ? x << y : x >> y
                }
            }
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try requiredInput(inputs, 0, "input A"), b = try requiredInput(inputs, 1, "input B")
        try requireSameType([a, b], op)
        return [try ElementTypes.visit(a.dtype, Apply(operation: operation, a: a, b: b, context: context), op)]
    }
}

extension Binary: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        switch op {
        case _ where ArithmeticKernel.Operation.operators.contains(op): return try ArithmeticKernel(self)
        case _ where ComparisonKernel.Operation.operators.contains(op): return try ComparisonKernel(self)
        case _ where LogicalKernel.Operation.operators.contains(op): return try LogicalKernel(self)
        case _ where BitwiseKernel.Operation.operators.contains(op): return try BitwiseKernel(self)
        case "Pow": return PowKernel()
        case "PRelu": return PReluKernel()
        case "SwiGLU": return try SwiGLUKernel(self)
        default: throw setup.noKernel
        }
    }
}
