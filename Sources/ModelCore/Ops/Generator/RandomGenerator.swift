/// Random generators: `RandomNormal`, `RandomUniform` (shape attribute),
/// their `…Like` forms and `Bernoulli` (the input's shape), and `Multinomial`.
///
/// Drawing a number is not counted; scaling it to the distribution is 2
/// FLOPs per element, Bernoulli's comparison 1. Multinomial counts 2 per
/// input element (exponential and running sum) plus one comparison per class
/// and sample.
public struct RandomGenerator: OpSchema {
    /// The operator this node is.
    public let op: String
    /// The output type the attribute names; `nil` takes the input's (the `…Like` forms and Bernoulli).
    public let dtype: DType?
    /// `RandomNormal` and `RandomUniform`'s `shape`.
    let fixedShape: [Int]?
    let sampleSize: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        sampleSize = try reader.int("sample_size", default: 1)
        guard sampleSize > 0 else { throw reader.error("sample_size must be positive, got \(sampleSize)") }
        switch op {
        case "RandomNormal", "RandomUniform":
            guard let shape = try reader.ints("shape"), shape.allSatisfy({ $0 >= 0 }) else {
                throw reader.error("\(op) needs a non-negative shape")
            }
            fixedShape = shape
            dtype = try Miscellaneous.dtype("dtype", default: .float, reader)
            try reader.expectInputs(0...0)
        case "Multinomial":
            fixedShape = nil
            dtype = try Miscellaneous.dtype("dtype", default: .int32, reader)
            try reader.expectInputs(1...1)
        default:
            fixedShape = nil
            dtype = try Miscellaneous.dtype("dtype", default: nil, reader)
            try reader.expectInputs(1...1)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let fixedShape { return [ValueFact(dtype: dtype, shape: Shape(fixedShape))] }
        guard op == "Multinomial" else { return [ValueFact(dtype: dtype ?? x?.dtype, shape: x?.shape)] }
        guard let s = x?.shape else { return [ValueFact(dtype: dtype, shape: nil)] }
        guard s.rank == 2 else { throw reader.error("Multinomial's input must have rank 2, got \(s.rank)") }
        return [ValueFact(dtype: dtype, shape: Shape([s.dims[0], .known(sampleSize)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        switch op {
        case "Multinomial":
            guard let count = inputs[input: 0]?.elementCount else { return nil }
            return .elementwise(count, perElement: 2 + sampleSize)
        default:
            guard let count = outputs.first?.elementCount else { return nil }
            return .elementwise(count, perElement: op == "Bernoulli" ? 1 : 2)
        }
    }

    /// The input gives a shape or probabilities, not learned weights.
    public func holdsParameters(input index: Int) -> Bool { false }
}
