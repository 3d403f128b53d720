/// Which reduction a `Reduce*` node performs, with its cost rule.
public enum ReduceKind: String, Sendable, CaseIterable {
    case sum = "ReduceSum", mean = "ReduceMean", max = "ReduceMax", min = "ReduceMin", prod = "ReduceProd"
    case l1 = "ReduceL1", l2 = "ReduceL2", logSum = "ReduceLogSum", logSumExp = "ReduceLogSumExp", sumSquare = "ReduceSumSquare"

    /// FLOPs per input element: the combining add, multiply or comparison,
    /// plus the abs (L1), square (L2, SumSquare) or exp (LogSumExp) applied first.
    var perInput: Int {
        switch self {
        case .sum, .mean, .max, .min, .prod, .logSum: return 1
        case .l1, .l2, .logSumExp, .sumSquare: return 2
        }
    }

    /// FLOPs per output element: the division (Mean), square root (L2) or log (LogSum, LogSumExp) applied last.
    var perOutput: Int {
        switch self {
        case .mean, .l2, .logSum, .logSumExp: return 1
        default: return 0
        }
    }
}

/// `ReduceSum`, `ReduceMean`, `ReduceMax`, `ReduceMin`, `ReduceProd`,
/// `ReduceL1`, `ReduceL2`, `ReduceLogSum`, `ReduceLogSumExp`, `ReduceSumSquare`:
/// combine the elements along `axes` — an attribute, or input 1 from opset 13
/// (ReduceSum) or 18 (the others). No axes reduces every axis, unless
/// `noop_with_empty_axes` makes the node an identity. Reduced axes stay as
/// size 1 unless `keepdims` is 0. Known integer contents are followed through
/// Sum, Prod, Max and Min, as exported graphs compute element counts that way.
///
/// Cost: `perInput` FLOPs per input element (1 for Sum, Mean, Max, Min,
/// Prod, LogSum; 2 for L1, L2, SumSquare, LogSumExp) plus `perOutput` per
/// output element (1 for Mean, L2, LogSum, LogSumExp); zero when it is an identity.
public struct Reduce: OpSchema {
    /// Which reduction the node performs, from its op type.
    public let kind: ReduceKind
    /// Whether reduced axes stay as size 1.
    public let keepDims: Bool
    /// Whether an empty axis list means "reduce nothing" instead of "reduce everything".
    public let noopWithEmptyAxes: Bool
    /// Axes from the attribute, in opsets that take them that way.
    public let axesAttribute: [Int]?
    /// Whether the axes come from input 1 (opset 13 for ReduceSum, 18 for the others).
    public let axesFromInput: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let kind = ReduceKind(rawValue: node.opType) else { throw reader.error("\(node.opType) is not a reduction") }
        self.kind = kind
        keepDims = try reader.int("keepdims", default: 1) != 0
        noopWithEmptyAxes = try reader.int("noop_with_empty_axes", default: 0) != 0
        axesFromInput = opset >= (kind == .sum ? 13 : 18)
        axesAttribute = axesFromInput ? nil : try reader.ints("axes")
        try reader.expectInputs(axesFromInput ? 1...2 : 1...1)
    }

    /// What the axes say for an input of rank `rank`.
    enum Plan: Equatable {
        /// Reduce these (normalised, distinct) axes.
        case axes([Int])
        /// Nothing is reduced: the output is the input.
        case identity
        /// The axes come from an input whose contents are unknown; `count` of them, when known.
        case unknown(count: Int?)
    }

    func plan(_ inputs: [ValueFact?], rank: Int) throws(ModelError) -> Plan {
        var given = axesAttribute
        if axesFromInput, let axesInput = inputs[input: 1] {
            given = ShapeMath.value(of: axesInput)?.knownIntegers
            if given == nil {
                let count = ShapeMath.length(axesInput)
                if count != 0 { return .unknown(count: count) }
                given = []
            }
        }
        guard let given, !given.isEmpty else { return noopWithEmptyAxes ? .identity : .axes(Array(0..<rank)) }
        return .axes(try ShapeMath.axes(given, rank: rank, reader: reader))
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        switch try plan(inputs, rank: shape.rank) {
        case .identity:
            return [ValueFact(dtype: x?.dtype, shape: shape, value: ShapeMath.value(of: x))]
        case .unknown(let count):
            // Which axes go is unknown; with keepdims only dims of size 1 are certain to stay what they are.
            if keepDims { return [ValueFact(dtype: x?.dtype, shape: Shape(shape.dims.map { $0 == .known(1) ? $0 : .unknown }))] }
            return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: count.map { shape.rank - $0 }))]
        case .axes(let list):
            let axes = Set(list)
            let kept = Shape(shape.dims.enumerated().map { axes.contains($0.offset) ? .known(1) : $0.element })
            let out = keepDims ? kept : Shape(shape.dims.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
            let value = ShapeMath.value(of: x).flatMap { reduced($0, axes: axes, keptShape: kept) }
            return [ValueFact(dtype: x?.dtype, shape: out, value: value.flatMap { ShapeMath.reshaped($0, out) })]
        }
    }

    /// The contents reduced over `axes` (shaped with the axes kept as 1), for Sum, Prod, Max and Min.
    private func reduced(_ value: KnownValue, axes: Set<Int>, keptShape: Shape) -> KnownValue? {
        guard [.sum, .prod, .max, .min].contains(kind), let outDims = keptShape.values,
              let outCount = ShapeMath.smallCount(outDims), value.count > 0 else { return nil }
        let outStrides = Shape.strides(outDims)
        // The output position of every input element, walking the input in row-major order.
        var targets: [Int] = []
        targets.reserveCapacity(value.count)
        var index = Array(repeating: 0, count: value.dims.count)
        for _ in 0..<value.count {
            var flat = 0
            for (axis, i) in index.enumerated() where !axes.contains(axis) { flat += i * outStrides[axis] }
            targets.append(flat)
            var axis = index.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < value.dims[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        switch value.elements {
        case .integers(let elements):
            var results = Array(repeating: Dim?.none, count: outCount)
            for (element, target) in zip(elements, targets) {
                results[target] = results[target].map { combine($0, element) } ?? element
            }
            return KnownValue(dims: outDims, elements: .integers(results.map { $0 ?? .unknown }))
        case .reals(let elements):
            var results = Array(repeating: Double?.none, count: outCount)
            for (element, target) in zip(elements, targets) {
                results[target] = results[target].map { combine($0, element) } ?? element
            }
            return KnownValue(dims: outDims, elements: .reals(results.map { $0 ?? .nan }))
        }
    }

    private func combine(_ a: Dim, _ b: Dim) -> Dim {
        switch kind {
        case .sum: return a + b
        case .prod: return a * b
        default:
            guard let x = a.value, let y = b.value else { return a == b ? a : .unknown }
            return .known(kind == .max ? Swift.max(x, y) : Swift.min(x, y))
        }
    }

    private func combine(_ a: Double, _ b: Double) -> Double {
        switch kind {
        case .sum: return a + b
        case .prod: return a * b
        case .max: return Swift.max(a, b)
        default: return Swift.min(a, b)
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let rank = inputs[input: 0]?.shape?.rank, let plan = try? plan(inputs, rank: rank) else { return nil }
        if plan == .identity { return .zero }
        guard let inCount = inputs[input: 0]?.elementCount, let outCount = outputs.first?.elementCount,
              let perInput = Count.product(inCount, kind.perInput), let perOutput = Count.product(outCount, kind.perOutput) else { return nil }
        let (flops, overflow) = perInput.addingReportingOverflow(perOutput)
        return overflow ? nil : OpCost(macs: 0, flops: flops)
    }

    /// Only the data can be a weight; the axes are integers.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
