/// `Constant`: a tensor given by exactly one of the attributes `value`,
/// `sparse_value`, `value_float(s)`, `value_int(s)` or `value_string(s)`.
///
/// Cost: zero — no arithmetic.
public struct Constant: OpSchema {
    /// What the node produces.
    public let fact: ValueFact

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        try reader.expectInputs(0...0)
        var facts: [ValueFact] = []
        if let tensor = try reader.tensor("value") { facts.append(ValueFact(tensor: tensor)) }
        if case .sparseTensor(let sparse)? = node.attribute("sparse_value")?.value {
            var dims: [Int] = []
            for d in sparse.dims {
                guard let v = Int(exactly: d), v >= 0 else { throw reader.error("sparse_value has the invalid dimension \(d)") }
                dims.append(v)
            }
            facts.append(ValueFact(dtype: sparse.values.dtype, shape: Shape(dims)))
        }
        if node.attribute("value_float") != nil {
            facts.append(ValueFact(dtype: .float, value: KnownValue(dims: [], elements: .reals([Double(try reader.float("value_float", default: 0))]))))
        }
        if let floats = try reader.floats("value_floats") {
            facts.append(Self.vector(.float, count: floats.count, elements: .reals(floats.map(Double.init))))
        }
        if let int = try reader.int("value_int") {
            facts.append(ValueFact(dtype: .int64, value: KnownValue(scalar: .known(int))))
        }
        if let ints = try reader.ints("value_ints") {
            facts.append(Self.vector(.int64, count: ints.count, elements: .integers(ints.map(Dim.known))))
        }
        if node.attribute("value_string") != nil {
            _ = try reader.string("value_string", default: "")
            facts.append(ValueFact(dtype: .string, shape: Shape([Dim]())))
        }
        if let strings = try reader.strings("value_strings") {
            facts.append(ValueFact(dtype: .string, shape: Shape([strings.count])))
        }
        guard facts.count == 1, let fact = facts.first else {
            throw reader.error("Constant needs exactly one value attribute, this node has \(facts.count)")
        }
        self.fact = fact
    }

    /// A 1-D fact whose contents are kept when small enough.
    private static func vector(_ dtype: DType, count: Int, elements: KnownValue.Elements) -> ValueFact {
        let shape = Shape([count])
        return count <= KnownValue.maxElements
            ? ValueFact(dtype: dtype, shape: shape, value: KnownValue(dims: [count], elements: elements))
            : ValueFact(dtype: dtype, shape: shape)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] { [fact] }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}
