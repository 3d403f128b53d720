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

    /// Whether a one-element stored input is a constant of the operator's
    /// formula rather than a learned parameter: the 0.5, √2 and 1 of an
    /// exported GELU, an attention scale, a LayerNorm epsilon, which
    /// elementwise arithmetic takes as scalar inputs (docs/COUNTING.md).
    var oneElementInputsAreConstants: Bool { get }

    /// The learned values that the node's stored inputs hold: `stored[i]` is
    /// input `i`'s tensor when it is stored in the file (an initializer or a
    /// `Constant` output), else `nil`; the answer has one entry per input.
    ///
    /// The default is every element of a stored floating-point input that
    /// `holdsParameters(input:)` admits. Quantised operators override it:
    /// their int8 or packed 4-bit weights stand for as many learned values as
    /// the float weights they replace, so a quantised model counts the
    /// parameters of its float original, and the scales and zero points
    /// stored beside such a weight add bytes but no values.
    func learnedValues(stored: [Tensor?]) -> [LearnedValues?]
}

extension OpSchema {
    public func holdsParameters(input index: Int) -> Bool { true }
    public var oneElementInputsAreConstants: Bool { false }

    public func learnedValues(stored: [Tensor?]) -> [LearnedValues?] { LearnedValues.defaultValues(self, stored) }
}

/// How many learned values a stored input holds, and in how many bytes.
public struct LearnedValues: Sendable, Equatable {
    /// The parameters it counts for (`params`).
    public var elements: Int
    /// What the file spends on them (`weightBytes`).
    public var bytes: Int

    public init(elements: Int, bytes: Int) {
        self.elements = elements
        self.bytes = bytes
    }

    /// Every element of a floating-point tensor; `nil` for integer tensors, which hold shapes and indices.
    public init?(floatingPoint tensor: Tensor) {
        guard tensor.dtype.isFloatingPoint else { return nil }
        self.init(elements: tensor.elementCount, bytes: tensor.byteCount)
    }

    /// Every element of a quantised weight, whatever its element type.
    public init(quantized tensor: Tensor) {
        self.init(elements: tensor.elementCount, bytes: tensor.byteCount)
    }

    /// The bytes of a scale or zero point stored for a quantised weight: no learned values of its own.
    public init(quantizationConstant tensor: Tensor) {
        self.init(elements: 0, bytes: tensor.byteCount)
    }
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

extension Array where Element == ValueFact? {
    /// The fact for input `index`, or `nil` when the input is absent or omitted.
    public subscript(input index: Int) -> ValueFact? {
        index < count ? self[index] : nil
    }
}
