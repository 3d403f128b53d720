/// `Constant`: a tensor given by exactly one of the attributes `value`,
/// `sparse_value`, `value_float(s)`, `value_int(s)` or `value_string(s)`.
///
/// Cost: zero — no arithmetic.
public struct Constant: OpSchema {
    /// The one value attribute the node has.
    public enum Value: Sendable {
        case tensor(Tensor)
        case sparse(SparseTensor)
        /// `value_float` (a scalar) or `value_floats` (a vector).
        case floats([Float], scalar: Bool)
        /// `value_int` or `value_ints`.
        case ints([Int], scalar: Bool)
        /// `value_string` or `value_strings`.
        case strings([[UInt8]], scalar: Bool)
    }

    public let value: Value
    /// What the node produces.
    public let fact: ValueFact

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        try reader.expectInputs(0...0)
        var found: [(Value, ValueFact)] = []
        if let tensor = try reader.tensor("value") { found.append((.tensor(tensor), ValueFact(tensor: tensor))) }
        if case .sparseTensor(let sparse)? = node.attribute("sparse_value")?.value {
            var dims: [Int] = []
            for d in sparse.dims {
                guard let v = Int(exactly: d), v >= 0 else { throw reader.error("sparse_value has the invalid dimension \(d)") }
                dims.append(v)
            }
            found.append((.sparse(sparse), ValueFact(dtype: sparse.values.dtype, shape: Shape(dims))))
        }
        if node.attribute("value_float") != nil {
            let value = try reader.float("value_float", default: 0)
            found.append((.floats([value], scalar: true),
                          ValueFact(dtype: .float, value: KnownValue(dims: [], elements: .reals([Double(value)])))))
        }
        if let floats = try reader.floats("value_floats") {
            found.append((.floats(floats, scalar: false), Self.vector(.float, count: floats.count, elements: .reals(floats.map(Double.init)))))
        }
        if let int = try reader.int("value_int") {
            found.append((.ints([int], scalar: true), ValueFact(dtype: .int64, value: KnownValue(scalar: .known(int)))))
        }
        if let ints = try reader.ints("value_ints") {
            found.append((.ints(ints, scalar: false), Self.vector(.int64, count: ints.count, elements: .integers(ints.map(Dim.known)))))
        }
        if case .string(let bytes)? = node.attribute("value_string")?.value {
            found.append((.strings([bytes], scalar: true), ValueFact(dtype: .string, shape: Shape([Dim]()))))
        } else if node.attribute("value_string") != nil {
            _ = try reader.string("value_string", default: "")   // the wrong type: its error names the attribute
        }
        if case .strings(let strings)? = node.attribute("value_strings")?.value {
            found.append((.strings(strings, scalar: false), ValueFact(dtype: .string, shape: Shape([strings.count]))))
        } else if node.attribute("value_strings") != nil {
            _ = try reader.strings("value_strings")   // the wrong type: its error names the attribute
        }
        guard found.count == 1, let (value, fact) = found.first else {
            throw reader.error("Constant needs exactly one value attribute, this node has \(found.count)")
        }
        self.value = value
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
