/// `Range`: `start, start + delta, …` up to `limit` (exclusive); there are
/// `max(ceil((limit − start) / delta), 0)` elements. A symbolic limit with
/// start 0 and a dividing delta keeps its symbol (`Range(0, seq, 1)` has `seq` elements).
///
/// Cost: zero — values are generated, counted like a fill.
public struct NumberRange: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(3...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs.lazy.compactMap { $0?.dtype }.first
        let operands = (0..<3).map { ShapeMath.value(of: inputs[input: $0]) }
        guard operands.allSatisfy({ $0?.count == 1 }) else { return [ValueFact(dtype: dtype, shape: Shape([Dim.unknown]))] }
        let known = operands.compactMap { $0 }
        if known.allSatisfy({ if case .integers = $0.elements { return true } else { return false } }) {
            return [try integerRange(known.map { $0.integers[0] }, dtype: dtype)]
        }
        let reals = known.map { $0.reals[0] }
        let (start, limit, delta) = (reals[0], reals[1], reals[2])
        guard delta != 0 else { throw reader.error("delta is zero") }
        let steps = ((limit - start) / delta).rounded(.up)
        // A limit behind the start (in the direction of delta) gives an empty range, however far behind.
        guard let count = steps <= 0 ? 0 : ShapeMath.dim(steps).value else { return [ValueFact(dtype: dtype, shape: Shape([Dim.unknown]))] }
        let value = count <= KnownValue.maxElements
            ? KnownValue(dims: [count], elements: .reals((0..<count).map { start + Double($0) * delta })) : nil
        return [ValueFact(dtype: dtype, shape: Shape([Dim.known(count)]), value: value)]
    }

    private func integerRange(_ operands: [Dim], dtype: DType?) throws(ModelError) -> ValueFact {
        let (start, limit, delta) = (operands[0], operands[1], operands[2])
        if delta == .known(0) { throw reader.error("delta is zero") }
        guard let a = start.value, let b = limit.value, let d = delta.value else {
            // Symbols stand for sizes, which are never negative: a positive multiple of them is a valid count.
            let count = (limit - start).dividedExactly(by: delta)
            guard case .symbol = count, let monomial = Monomial(count), monomial.coefficient > 0 else {
                return ValueFact(dtype: dtype, shape: Shape([Dim.unknown]))
            }
            return ValueFact(dtype: dtype, shape: Shape([count]))
        }
        let (span, overflow) = b.subtractingReportingOverflow(a)
        let (quotient, overflowDividing) = span.dividedReportingOverflow(by: d)
        guard !overflow, !overflowDividing else { return ValueFact(dtype: dtype, shape: Shape([Dim.unknown])) }
        var count = quotient
        if quotient * d != span && (span > 0) == (d > 0) { count += 1 }
        count = max(count, 0)
        let value = count <= KnownValue.maxElements ? KnownValue(integers: (0..<count).map { .known(a &+ $0 &* d) }) : nil
        return ValueFact(dtype: dtype, shape: Shape([Dim.known(count)]), value: value)
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// Start, limit and delta are constants, not learned.
    public func holdsParameters(input index: Int) -> Bool { false }
}
