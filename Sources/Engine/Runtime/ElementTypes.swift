import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// The element types the engine computes on, and the visitors that
// dispatch a kernel to the Swift type of a tensor's element type.

/// A floating-point type with the libm functions the kernels need: Float and Double.
protocol Real: BinaryFloatingPoint, Sendable {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func tan(_ x: Self) -> Self
    static func asin(_ x: Self) -> Self
    static func acos(_ x: Self) -> Self
    static func atan(_ x: Self) -> Self
    static func sinh(_ x: Self) -> Self
    static func cosh(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func asinh(_ x: Self) -> Self
    static func acosh(_ x: Self) -> Self
    static func atanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    /// The remainder with the sign of `x` (C's fmod).
    static func fmod(_ x: Self, _ y: Self) -> Self
}

extension Float: Real {
    static func exp(_ x: Float) -> Float { Glibc.expf(x) }
    static func log(_ x: Float) -> Float { Glibc.logf(x) }
    static func sin(_ x: Float) -> Float { Glibc.sinf(x) }
    static func cos(_ x: Float) -> Float { Glibc.cosf(x) }
    static func tan(_ x: Float) -> Float { Glibc.tanf(x) }
    static func asin(_ x: Float) -> Float { Glibc.asinf(x) }
    static func acos(_ x: Float) -> Float { Glibc.acosf(x) }
    static func atan(_ x: Float) -> Float { Glibc.atanf(x) }
    static func sinh(_ x: Float) -> Float { Glibc.sinhf(x) }
    static func cosh(_ x: Float) -> Float { Glibc.coshf(x) }
    static func tanh(_ x: Float) -> Float { Glibc.tanhf(x) }
    static func asinh(_ x: Float) -> Float { Glibc.asinhf(x) }
    static func acosh(_ x: Float) -> Float { Glibc.acoshf(x) }
    static func atanh(_ x: Float) -> Float { Glibc.atanhf(x) }
    static func erf(_ x: Float) -> Float { Glibc.erff(x) }
    static func pow(_ x: Float, _ y: Float) -> Float { Glibc.powf(x, y) }
    static func fmod(_ x: Float, _ y: Float) -> Float { Glibc.fmodf(x, y) }
}

extension Double: Real {
    static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    static func log(_ x: Double) -> Double { Glibc.log(x) }
    static func sin(_ x: Double) -> Double { Glibc.sin(x) }
    static func cos(_ x: Double) -> Double { Glibc.cos(x) }
    static func tan(_ x: Double) -> Double { Glibc.tan(x) }
    static func asin(_ x: Double) -> Double { Glibc.asin(x) }
    static func acos(_ x: Double) -> Double { Glibc.acos(x) }
    static func atan(_ x: Double) -> Double { Glibc.atan(x) }
    static func sinh(_ x: Double) -> Double { Glibc.sinh(x) }
    static func cosh(_ x: Double) -> Double { Glibc.cosh(x) }
    static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    static func asinh(_ x: Double) -> Double { Glibc.asinh(x) }
    static func acosh(_ x: Double) -> Double { Glibc.acosh(x) }
    static func atanh(_ x: Double) -> Double { Glibc.atanh(x) }
    static func erf(_ x: Double) -> Double { Glibc.erf(x) }
    static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    static func fmod(_ x: Double, _ y: Double) -> Double { Glibc.fmod(x, y) }
}

/// One element on its way through Cast: integers keep their exact value.
enum CastValue {
    case signed(Int64)
    case unsigned(UInt64)
    case real(Double)
}

/// A numeric element type that kernels compute on directly: the real types
/// (float32, float64, float16, bfloat16) and the integers of 8 to 64 bits.
///
/// The arithmetic is what ONNX asks of the type: integers wrap around, and
/// integer division or remainder by zero is defined as 0 (ONNX leaves it
/// undefined; file data must not be able to trap the process).
protocol Number: Comparable, Sendable {
    static var zero: Self { get }
    static var one: Self { get }
    /// The identity of Max: −∞ for reals, the minimum for integers.
    static var lowest: Self { get }
    /// The identity of Min: +∞ for reals, the maximum for integers.
    static var highest: Self { get }
    /// The value as a Double (exact except for integers beyond 2^53).
    var doubleValue: Double { get }
    /// The value as a Cast source.
    var castValue: CastValue { get }
    /// `value` converted as Cast defines it: reals round to nearest even;
    /// integers truncate toward zero and keep the low bits.
    init(cast value: CastValue)
    static func sum(_ a: Self, _ b: Self) -> Self
    static func difference(_ a: Self, _ b: Self) -> Self
    static func product(_ a: Self, _ b: Self) -> Self
    /// Division; integers truncate toward zero.
    static func quotient(_ a: Self, _ b: Self) -> Self
    /// The remainder with the sign of `a` when `truncated` (C's fmod), else with the sign of `b` (Python's %).
    static func modulo(_ a: Self, _ b: Self, truncated: Bool) -> Self
    static func power(_ a: Self, _ b: Self) -> Self
    /// The larger value; NaN when either is NaN (NumPy's maximum).
    static func larger(_ a: Self, _ b: Self) -> Self
    /// The smaller value; NaN when either is NaN (NumPy's minimum).
    static func smaller(_ a: Self, _ b: Self) -> Self
    static func absolute(_ x: Self) -> Self
    static func negation(_ x: Self) -> Self
    /// −1, 0 or 1 (NaN stays NaN).
    static func signum(_ x: Self) -> Self
}

extension Number {
    /// `value` converted as Cast converts a float64.
    init(double value: Double) { self.init(cast: .real(value)) }
}

/// A stored floating-point element type and the type its arithmetic is done
/// in: float16 and bfloat16 compute in Float and round once when stored, so
/// a whole activation costs one rounding, not one per step.
protocol RealElement: Number {
    associatedtype Compute: Real
    init(computed value: Compute)
    var computed: Compute { get }
    /// `value` rounded once to this type.
    init(nearest value: Double)
}

extension RealElement {
    static var one: Self { Self(computed: 1) }
    static var lowest: Self { Self(computed: -.infinity) }
    static var highest: Self { Self(computed: .infinity) }
    var doubleValue: Double { Double(computed) }
    var castValue: CastValue { .real(doubleValue) }
    init(nearest value: Double) { self.init(computed: Compute(value)) }

    init(cast value: CastValue) {
        switch value {
        case .signed(let v): self.init(nearest: Double(v))
        case .unsigned(let v): self.init(nearest: Double(v))
        case .real(let v): self.init(nearest: v)
        }
    }

    static func sum(_ a: Self, _ b: Self) -> Self { Self(computed: a.computed + b.computed) }
    static func difference(_ a: Self, _ b: Self) -> Self { Self(computed: a.computed - b.computed) }
    static func product(_ a: Self, _ b: Self) -> Self { Self(computed: a.computed * b.computed) }
    static func quotient(_ a: Self, _ b: Self) -> Self { Self(computed: a.computed / b.computed) }

    static func modulo(_ a: Self, _ b: Self, truncated: Bool) -> Self {
        let (x, y) = (a.computed, b.computed)
        var r = Compute.fmod(x, y)
        if !truncated && r != 0 && (r < 0) != (y < 0) { r += y }
        return Self(computed: r)
    }

    static func power(_ a: Self, _ b: Self) -> Self { Self(computed: Compute.pow(a.computed, b.computed)) }

    static func larger(_ a: Self, _ b: Self) -> Self {
        let (x, y) = (a.computed, b.computed)
        if x.isNaN || y.isNaN { return Self(computed: .nan) }
        return x >= y ? a : b
    }

    static func smaller(_ a: Self, _ b: Self) -> Self {
        let (x, y) = (a.computed, b.computed)
        if x.isNaN || y.isNaN { return Self(computed: .nan) }
        return x <= y ? a : b
    }

    static func absolute(_ x: Self) -> Self { Self(computed: Swift.abs(x.computed)) }
    static func negation(_ x: Self) -> Self { Self(computed: -x.computed) }

    static func signum(_ x: Self) -> Self {
        let v = x.computed
        return v > 0 ? Self(computed: 1) : v < 0 ? Self(computed: -1) : x
    }
}

extension Float: RealElement {
    init(computed value: Float) { self = value }
    var computed: Float { self }
}

extension Double: RealElement {
    init(computed value: Double) { self = value }
    var computed: Double { self }
}

extension Float16: RealElement {
    init(computed value: Float) { self.init(value) }
    var computed: Float { Float(self) }
    init(nearest value: Double) { self.init(value) }
}

/// bfloat16: the upper half of a float32, rounded to nearest even when stored.
struct BFloat16: RealElement {
    var bits: UInt16

    init(bits: UInt16) { self.bits = bits }

    init(computed value: Float) { bits = ElementCodec.bfloat16Bits(value) }

    var computed: Float { ElementCodec.float(bfloat16Bits: bits) }
    static var zero: BFloat16 { BFloat16(bits: 0) }
    static func < (a: BFloat16, b: BFloat16) -> Bool { a.computed < b.computed }
    static func == (a: BFloat16, b: BFloat16) -> Bool { a.computed == b.computed }
}

/// An integer element type of 8 to 64 bits.
protocol IntegerElement: Number, FixedWidthInteger {}

extension IntegerElement {
    static var one: Self { 1 }
    static var lowest: Self { min }
    static var highest: Self { max }
    var doubleValue: Double { Double(self) }
    var castValue: CastValue {
        Self.isSigned ? .signed(Int64(truncatingIfNeeded: self)) : .unsigned(UInt64(truncatingIfNeeded: self))
    }

    init(cast value: CastValue) {
        switch value {
        case .signed(let v): self.init(truncatingIfNeeded: v)
        case .unsigned(let v): self.init(truncatingIfNeeded: v)
        case .real(let v): self.init(truncatingIfNeeded: wholeBits(v))
        }
    }

    static func sum(_ a: Self, _ b: Self) -> Self { a &+ b }
    static func difference(_ a: Self, _ b: Self) -> Self { a &- b }
    static func product(_ a: Self, _ b: Self) -> Self { a &* b }

    static func quotient(_ a: Self, _ b: Self) -> Self {
        b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue
    }

    static func modulo(_ a: Self, _ b: Self, truncated: Bool) -> Self {
        if b == 0 { return 0 }
        var r = a.remainderReportingOverflow(dividingBy: b).partialValue
        if !truncated && r != 0 && (r < 0) != (b < 0) { r &+= b }
        return r
    }

    /// Exact integer power, wrapping; a negative exponent gives the truncated result (0 unless |a| = 1).
    static func power(_ a: Self, _ b: Self) -> Self {
        if b < 0 {
            if a == 1 { return 1 }
            if a == 0 &- 1 { return b & 1 == 0 ? 1 : a }
            return 0
        }
        var (result, base, exponent): (Self, Self, Self) = (1, a, b)
        while exponent > 0 {
            if exponent & 1 == 1 { result = result &* base }
            base = base &* base
            exponent >>= 1
        }
        return result
    }

    static func larger(_ a: Self, _ b: Self) -> Self { Swift.max(a, b) }
    static func smaller(_ a: Self, _ b: Self) -> Self { Swift.min(a, b) }
    static func absolute(_ x: Self) -> Self { x < 0 ? 0 &- x : x }
    static func negation(_ x: Self) -> Self { 0 &- x }
    static func signum(_ x: Self) -> Self { x > 0 ? 1 : x < 0 ? 0 &- 1 : 0 }
}

/// `value` truncated toward zero as a 64-bit pattern. NaN and values beyond
/// 64 bits (undefined in ONNX) give 0x8000_0000_0000_0000, as x86 does.
func wholeBits(_ value: Double) -> UInt64 {
    let undefined = UInt64(1) << 63
    if value.isNaN { return undefined }
    if value >= 0 { return value < 18446744073709551616.0 ? UInt64(value) : undefined }
    return value >= -9223372036854775808.0 ? UInt64(bitPattern: Int64(value)) : undefined
}

extension Int8: IntegerElement {}

extension Int16: IntegerElement {}

extension Int32: IntegerElement {}

extension Int64: IntegerElement {}

extension UInt8: IntegerElement {}

extension UInt16: IntegerElement {}

extension UInt32: IntegerElement {}

extension UInt64: IntegerElement {}

// MARK: - Choosing the element type at run time

/// Generic code for one numeric element type, chosen at run time by `ElementTypes.visit`.
protocol NumberVisitor {
    associatedtype Output
    func visit<T: Number>(_ type: T.Type) throws(ModelError) -> Output
}

/// Generic code for one real element type.
protocol RealVisitor {
    associatedtype Output
    func visit<T: RealElement>(_ type: T.Type) throws(ModelError) -> Output
}

/// Generic code for one integer element type.
protocol IntegerVisitor {
    associatedtype Output
    func visit<T: IntegerElement>(_ type: T.Type) throws(ModelError) -> Output
}

/// Dispatch from a tensor's `DType` to generic code over its element type.
enum ElementTypes {
    /// Runs `visitor` for a numeric `dtype`; with `bool`, a bool tensor is
    /// visited as UInt8 (its storage), for operators defined on bool too.
    static func visit<V: NumberVisitor>(_ dtype: DType, _ visitor: V, bool: Bool = false,
                                        _ op: String) throws(ModelError) -> V.Output {
        switch dtype {
        case .float: return try visitor.visit(Float.self)
        case .double: return try visitor.visit(Double.self)
        case .float16: return try visitor.visit(Float16.self)
        case .bfloat16: return try visitor.visit(BFloat16.self)
        case .int8: return try visitor.visit(Int8.self)
        case .int16: return try visitor.visit(Int16.self)
        case .int32: return try visitor.visit(Int32.self)
        case .int64: return try visitor.visit(Int64.self)
        case .uint8: return try visitor.visit(UInt8.self)
        case .uint16: return try visitor.visit(UInt16.self)
        case .uint32: return try visitor.visit(UInt32.self)
        case .uint64: return try visitor.visit(UInt64.self)
        case .bool where bool: return try visitor.visit(UInt8.self)
        default: throw unsupported(op, dtype, "numeric")
        }
    }

    static func visit<V: RealVisitor>(_ dtype: DType, _ visitor: V, _ op: String) throws(ModelError) -> V.Output {
        switch dtype {
        case .float: return try visitor.visit(Float.self)
        case .double: return try visitor.visit(Double.self)
        case .float16: return try visitor.visit(Float16.self)
        case .bfloat16: return try visitor.visit(BFloat16.self)
        default: throw unsupported(op, dtype, "floating-point")
        }
    }

    static func visit<V: IntegerVisitor>(_ dtype: DType, _ visitor: V, _ op: String) throws(ModelError) -> V.Output {
        switch dtype {
        case .int8: return try visitor.visit(Int8.self)
        case .int16: return try visitor.visit(Int16.self)
        case .int32: return try visitor.visit(Int32.self)
        case .int64: return try visitor.visit(Int64.self)
        case .uint8: return try visitor.visit(UInt8.self)
        case .uint16: return try visitor.visit(UInt16.self)
        case .uint32: return try visitor.visit(UInt32.self)
        case .uint64: return try visitor.visit(UInt64.self)
        default: throw unsupported(op, dtype, "integer")
        }
    }

    /// Whether `visit` accepts `dtype` as a number (bool aside).
    static func isNumber(_ dtype: DType) -> Bool {
        [.float, .double, .float16, .bfloat16, .int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64].contains(dtype)
    }

    /// The error for an element type an operator is not run on.
    static func unsupported(_ op: String, _ dtype: DType, _ kinds: String) -> ModelError {
        ModelError(.unsupported(op: nil, dtype: dtype), "the engine runs \(op) on \(kinds) tensors, not \(dtype)")
    }
}
