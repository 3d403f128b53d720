import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
internal import CKernels
import ModelCore

// MARK: - Unary real functions

/// The unary operators defined on real numbers, with their attributes.
enum RealFunction: Sendable {
    case exp, log, sqrt, reciprocal, floor, ceil, round
    case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, asinh, acosh, atanh, erf
    case sigmoid, softplus, softsign, mish, hardSwish
    case gelu(tanhApproximation: Bool)
    case leakyRelu(alpha: Float)
    case hardSigmoid(alpha: Float, beta: Float)
    case elu(alpha: Float)
    case selu(alpha: Float, gamma: Float)
    case celu(alpha: Float)
    case thresholdedRelu(alpha: Float)
    case swish(alpha: Float)

    static let operators = [
        "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
        "Sinh", "Cosh", "Tanh", "Asinh", "Acosh", "Atanh", "Erf", "Sigmoid", "Softplus", "Softsign", "Mish",
        "HardSwish", "Gelu", "LeakyRelu", "HardSigmoid", "Elu", "Selu", "Celu", "ThresholdedRelu", "Swish",
    ]

    init(_ schema: Unary) throws(ModelError) {
        switch schema.op {
        case "Exp": self = .exp
        case "Log": self = .log
        case "Sqrt": self = .sqrt
        case "Reciprocal": self = .reciprocal
        case "Floor": self = .floor
        case "Ceil": self = .ceil
        case "Round": self = .round
        case "Sin": self = .sin
        case "Cos": self = .cos
        case "Tan": self = .tan
        case "Asin": self = .asin
        case "Acos": self = .acos
        case "Atan": self = .atan
        case "Sinh": self = .sinh
        case "Cosh": self = .cosh
        case "Tanh": self = .tanh
        case "Asinh": self = .asinh
        case "Acosh": self = .acosh
        case "Atanh": self = .atanh
        case "Erf": self = .erf
        case "Sigmoid": self = .sigmoid
        case "Softplus": self = .softplus
        case "Softsign": self = .softsign
        case "Mish": self = .mish
        case "HardSwish": self = .hardSwish
        case "Gelu": self = .gelu(tanhApproximation: schema.tanhApproximation)
        case "LeakyRelu": self = .leakyRelu(alpha: schema.alpha)
        case "HardSigmoid": self = .hardSigmoid(alpha: schema.alpha, beta: schema.beta)
        case "Elu": self = .elu(alpha: schema.alpha)
        case "Selu": self = .selu(alpha: schema.alpha, gamma: schema.gamma)
        case "Celu": self = .celu(alpha: schema.alpha)
        case "ThresholdedRelu": self = .thresholdedRelu(alpha: schema.alpha)
        case "Swish": self = .swish(alpha: schema.alpha)
        default: throw ModelError(.internal, "internal: \(schema.op) is not a real function")
        }
    }

    /// Applies the function to `range` of `x`, writing `y`; the switch sits
    /// outside the loops so each loop inlines its function.
    func apply<S: RealElement>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ range: Range<Int>) {
        if S.self == Float.self, let vectorised {
            vectorised(UnsafeRawPointer(x + range.lowerBound).assumingMemoryBound(to: Float.self),
                       UnsafeMutableRawPointer(y + range.lowerBound).assumingMemoryBound(to: Float.self), range.count)
            return
        }
        typealias C = S.Compute
        @inline(__always) func each(_ f: (C) -> C) {
            for i in range { y[i] = S(computed: f(x[i].computed)) }
        }
        switch self {
        case .exp: each { C.exp($0) }
        case .log: each { C.log($0) }
        case .sqrt: each { $0.squareRoot() }
        case .reciprocal: each { 1 / $0 }
        case .floor: each { $0.rounded(.down) }
        case .ceil: each { $0.rounded(.up) }
        case .round: each { $0.rounded(.toNearestOrEven) }
        case .sin: each { C.sin($0) }
        case .cos: each { C.cos($0) }
        case .tan: each { C.tan($0) }
        case .asin: each { C.asin($0) }
        case .acos: each { C.acos($0) }
        case .atan: each { C.atan($0) }
        case .sinh: each { C.sinh($0) }
        case .cosh: each { C.cosh($0) }
        case .tanh: each { C.tanh($0) }
        case .asinh: each { C.asinh($0) }
        case .acosh: each { C.acosh($0) }
        case .atanh: each { C.atanh($0) }
        case .erf: each { C.erf($0) }
        case .sigmoid: each { Self.sigmoid($0) }
        case .softplus: each { C.log(C.exp($0) + 1) }
        case .softsign: each { $0 / (1 + Swift.abs($0)) }
        case .mish: each { $0 * C.tanh(C.log(C.exp($0) + 1)) }
        case .hardSwish: each { $0 * Swift.max(0, Swift.min(1, $0 / 6 + 0.5)) }
        case .gelu(let tanhApproximation):
            if tanhApproximation {
                let k = C(0.7978845608028654)   // √(2/π)
                each { 0.5 * $0 * (1 + C.tanh(k * ($0 + 0.044715 * $0 * $0 * $0))) }
            } else {
                let k = C(0.7071067811865476)   // 1/√2
                each { 0.5 * $0 * (1 + C.erf($0 * k)) }
            }
        case .leakyRelu(let alpha):
            let a = C(alpha)
            each { $0 < 0 ? a * $0 : $0 }
        case .hardSigmoid(let alpha, let beta):
            let (a, b) = (C(alpha), C(beta))
            each { Swift.max(0, Swift.min(1, a * $0 + b)) }
        case .elu(let alpha):
            let a = C(alpha)
            each { $0 < 0 ? a * (C.exp($0) - 1) : $0 }
        case .selu(let alpha, let gamma):
            let (a, g) = (C(alpha), C(gamma))
            each { $0 > 0 ? g * $0 : g * (a * C.exp($0) - a) }
        case .celu(let alpha):
            let a = C(alpha)
            each { Swift.max(0, $0) + Swift.min(0, a * (C.exp($0 / a) - 1)) }
        case .thresholdedRelu(let alpha):
            let a = C(alpha)
            each { $0 > a ? $0 : 0 }
        case .swish(let alpha):
            let a = C(alpha)
            each { $0 * Self.sigmoid(a * $0) }
        }
    }

    /// The vectorised float32 form of the function, where CKernels has one
    /// (EfficientNet's SiLU, and GPT-2's and ConvNeXt's GELU, spent their time in libm's scalar calls).
    var vectorised: ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
        switch self {
        case .exp: { ck_exp_f32($0, $1, $2) }
        case .sigmoid: { ck_sigmoid_f32($0, $1, $2) }
        case .tanh: { ck_tanh_f32($0, $1, $2) }
        case .erf: { ck_erf_f32($0, $1, $2) }
        default: nil
        }
    }

    /// 1 / (1 + e^−x), written so that neither branch overflows.
    @inline(__always)
    static func sigmoid<C: Real>(_ x: C) -> C {
        if x >= 0 { return 1 / (1 + C.exp(-x)) }
        let e = C.exp(x)
        return e / (1 + e)
    }
}

/// Exp, Log, the trigonometric functions, Erf and the real activations.
struct RealUnaryKernel: Kernel {
    let function: RealFunction
    let op: String

    init(_ schema: Unary) throws(ModelError) {
        function = try RealFunction(schema)
        op = schema.op
    }

    /// The function over one element type.
    struct Apply: RealVisitor {
        let function: RealFunction
        let x: EngineTensor
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            let from = UnsafePointer(x.buffer.base.assumingMemoryBound(to: T.self))
            let to = output.buffer.base.assumingMemoryBound(to: T.self)
            let function = self.function
            context.parallelRanges(x.count, grain: elementwiseGrain / 8) { range in function.apply(from, to, range) }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        return [try ElementTypes.visit(x.dtype, Apply(function: function, x: x, context: context), op)]
    }
}

// MARK: - Unary functions on every numeric type

/// The unary operators defined on integers as well as reals.
enum NumberFunction: Sendable {
    case abs, neg, sign, relu
    case shrink(bias: Double, lambda: Double)

    static let operators = ["Abs", "Neg", "Sign", "Relu", "Shrink"]

    init(_ schema: Unary) throws(ModelError) {
        switch schema.op {
        case "Abs": self = .abs
        case "Neg": self = .neg
        case "Sign": self = .sign
        case "Relu": self = .relu
        case "Shrink":
            self = .shrink(bias: Double(schema.shrinkBias), lambda: Double(schema.shrinkLambda))
        default: throw ModelError(.internal, "internal: \(schema.op) is not a numeric function")
        }
    }
}

/// Abs, Neg, Sign, Relu and Shrink on any numeric type.
struct NumberUnaryKernel: Kernel {
    let function: NumberFunction
    let op: String

    init(_ schema: Unary) throws(ModelError) {
        function = try NumberFunction(schema)
        op = schema.op
    }

    /// The function over one element type.
    struct Apply: NumberVisitor {
        let function: NumberFunction
        let x: EngineTensor
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            switch function {
            case .abs: mapUnary(x, output, context) { T.absolute($0) as T }
            case .neg: mapUnary(x, output, context) { T.negation($0) as T }
            case .sign: mapUnary(x, output, context) { T.signum($0) as T }
            case .relu: mapUnary(x, output, context) { T.larger($0, T.zero) as T }
            case .shrink(let bias, let lambda):
                mapUnary(x, output, context) { (v: T) -> T in
                    let d = v.doubleValue
                    return d < -lambda ? T(double: d + bias) : d > lambda ? T(double: d - bias) : T.zero
                }
            }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        if case .relu = function, x.dtype == .float { return [try FloatLoops.clamp(x, low: 0, high: .infinity, context)] }
        return [try ElementTypes.visit(x.dtype, Apply(function: function, x: x, context: context), op)]
    }
}

/// Clip: bounds from attributes before opset 11, from optional inputs 1 and 2 after.
struct ClipKernel: Kernel {
    /// Attribute bounds (opset < 11).
    let attributeBounds: (low: Float, high: Float)?

    init(_ schema: Unary) {
        attributeBounds = schema.clipBounds.map { (low: $0.min, high: $0.max) }
    }

    /// Clipping over one element type.
    struct Apply: NumberVisitor {
        let x: EngineTensor
        let low: EngineTensor?, high: EngineTensor?
        let attributeBounds: (low: Float, high: Float)?
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            var lower: T?, upper: T?
            if let attributeBounds {
                (lower, upper) = (T(double: Double(attributeBounds.low)), T(double: Double(attributeBounds.high)))
            }
            for (bound, name) in [(low, "min"), (high, "max")] {
                guard let bound else { continue }
                guard bound.dtype == x.dtype, bound.count == 1 else {
                    throw ModelError(.invalidGraph, "Clip \(name) must be one \(x.dtype) value, got \(bound.dtype) of shape \(bound.shape)")
                }
                let value = bound.elements(T.self)[0]
                if name == "min" { lower = value } else { upper = value }
            }
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            // min(max(x, low), high): when low > high every element becomes high, as ONNX specifies.
            switch (lower, upper) {
            case let (l?, u?): mapUnary(x, output, context) { T.smaller(T.larger($0, l), u) as T }
            case let (l?, nil): mapUnary(x, output, context) { T.larger($0, l) as T }
            case let (nil, u?): mapUnary(x, output, context) { T.smaller($0, u) as T }
            case (nil, nil): mapUnary(x, output, context) { $0 as T }
            }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        let apply = Apply(x: x, low: optionalInput(inputs, 1), high: optionalInput(inputs, 2),
                          attributeBounds: attributeBounds, context: context)
        return [try ElementTypes.visit(x.dtype, apply, "Clip")]
    }
}

/// IsNaN and IsInf (with detect_positive / detect_negative): bool results.
struct ClassifyKernel: Kernel {
    let op: String
    let positive: Bool, negative: Bool

    init(_ schema: Unary) {
        op = schema.op
        positive = schema.detectPositive
        negative = schema.detectNegative
    }

    /// The test over one element type.
    struct Apply: RealVisitor {
        let nan: Bool, positive: Bool, negative: Bool
        let x: EngineTensor
        let context: ExecutionContext

        func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: .bool, shape: x.shape)
            let (positive, negative) = (self.positive, self.negative)
            if nan {
                mapUnary(x, output, context) { (v: T) -> UInt8 in v.computed.isNaN ? 1 : 0 }
            } else {
                mapUnary(x, output, context) { (v: T) -> UInt8 in
                    let c = v.computed
                    return c.isInfinite && (c > 0 ? positive : negative) ? 1 : 0
                }
            }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        let apply = Apply(nan: op == "IsNaN", positive: positive, negative: negative, x: x, context: context)
        return [try ElementTypes.visit(x.dtype, apply, op)]
    }
}

/// Not: logical negation of a bool tensor.
struct NotKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        guard x.dtype == .bool else { throw ElementTypes.unsupported("Not", x.dtype, "bool") }
        let output = try EngineTensor(dtype: .bool, shape: x.shape)
        mapUnary(x, output, context) { (v: UInt8) -> UInt8 in v == 0 ? 1 : 0 }
        return [output]
    }
}

/// BitwiseNot on integer tensors.
struct BitwiseNotKernel: Kernel {
    /// Complement over one element type.
    struct Apply: IntegerVisitor {
        let x: EngineTensor
        let context: ExecutionContext

        func visit<T: IntegerElement>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            mapUnary(x, output, context) { (v: T) -> T in ~v }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        return [try ElementTypes.visit(x.dtype, Apply(x: x, context: context), "BitwiseNot")]
    }
}

/// Identity: the input passes through (tensors are never written in place,
/// so no copy); a sequence or an optional passes through as well.
struct IdentityKernel: ValueKernel {
    func run(values inputs: [EngineValue?], _ context: ExecutionContext) throws(ModelError) -> [EngineValue?] {
        [try requiredValue(inputs, 0, "input")]
    }
}

/// Dropout at inference: the data passes through and the optional mask is all true.
/// Training mode with a nonzero ratio draws random masks, which the engine does not do.
struct DropoutKernel: Kernel {
    let wantsMask: Bool

    init(_ setup: KernelSetup) {
        wantsMask = setup.node.outputs.count > 1 && !setup.node.outputs[1].isEmpty
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input data")
        if let training = optionalInput(inputs, 2), training.dtype == .bool, training.count == 1,
           training.elements(UInt8.self)[0] != 0 {
            var ratio = 0.5
            if let r = optionalInput(inputs, 1) { ratio = try scalarDouble(r, "Dropout ratio") }
            guard ratio == 0 else { throw ModelError(.unsupported(op: nil, dtype: nil), "the engine runs Dropout for inference only, not training mode with ratio \(ratio)") }
        }
        return wantsMask ? [x, try allTrue(shape: x.shape)] : [x]
    }
}

// MARK: - The schemas' kernels

extension Unary: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        switch op {
        case _ where RealFunction.operators.contains(op): return try RealUnaryKernel(self)
        case _ where NumberFunction.operators.contains(op): return try NumberUnaryKernel(self)
        case "IsNaN", "IsInf": return ClassifyKernel(self)
        case "Not": return NotKernel()
        case "BitwiseNot": return BitwiseNotKernel()
        case "Clip": return ClipKernel(self)
        case "Identity": return IdentityKernel()
        case "Dropout": return DropoutKernel(setup)
        default: throw setup.noKernel
        }
    }
}
