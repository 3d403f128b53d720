/// onnxruntime's `MatMulNBits` (`com.microsoft`): A (…, K) times a K×N
/// weight stored quantised to `bits` bits in blocks of `block_size` along K,
/// as B (N, ⌈K / block_size⌉, block_size · bits / 8) bytes with per-block
/// scales (N, blocks) and optional zero points; then an optional bias (N).
///
/// Cost: MACs as MatMul, rows · K · N; 2 FLOPs per weight element to
/// dequantise it (as DequantizeLinear counts) and 1 per output for a bias.
/// Parameters: B stands for the K · N learned values of the float weight it
/// replaces, stored in B's bytes plus those of the scales and zero points.
public struct MatMulNBits: OpSchema {
    /// The weight's input features (`K`) and output features (`N`).
    public let inputFeatures: Int, outputFeatures: Int
    public let bits: Int
    public let blockSize: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let k = try reader.int("K"), k > 0, let n = try reader.int("N"), n > 0 else {
            throw reader.error("K and N must be given and positive")
        }
        (inputFeatures, outputFeatures) = (k, n)
        bits = try reader.int("bits", default: 4)
        guard (2...8).contains(bits) else { throw reader.error("bits must be 2 to 8, got \(bits)") }
        guard let block = try reader.int("block_size"), block >= 16, block & (block - 1) == 0 else {
            throw reader.error("block_size must be a power of two of at least 16")
        }
        blockSize = block
        try reader.expectInputs(3...6)
    }

    /// The packed shape of B; a 0 in it marks an omitted projection, which the operator allows.
    func checkPacked(_ b: Shape) throws(ModelError) {
        let expected = [outputFeatures, (inputFeatures + blockSize - 1) / blockSize, blockSize * bits / 8]
        guard b.rank == 3 else { throw reader.error("B must have rank 3, got \(b.rank)") }
        for (dim, size) in zip(b.dims, expected) {
            if let value = dim.value, value != 0, value != size {
                throw reader.error("B is \(b), K \(inputFeatures), N \(outputFeatures), block_size \(blockSize) and \(bits) bits need \(expected.map(String.init).joined(separator: "×"))")
            }
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        if let b = inputs[input: 1]?.shape { try checkPacked(b) }
        let a = inputs[input: 0]
        guard let shape = a?.shape else { return [ValueFact(dtype: a?.dtype, shape: nil)] }
        guard let last = shape.dims.last else { throw reader.error("A must have rank 1 or more") }
        _ = try SequenceModels.same(last, .known(inputFeatures), "K", reader)
        return [ValueFact(dtype: a?.dtype, shape: Shape(shape.dims.dropLast() + [.known(outputFeatures)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount, let macs = Count.product(count, inputFeatures),
              let weights = Count.product(inputFeatures, outputFeatures, 2) else { return nil }
        let bias = inputs[input: 5] != nil ? count : 0
        return SequenceModels.total([weights, bias]).flatMap { OpCost.multiplyAccumulate(macs, plus: $0) }
    }

    /// B holds the K · N learned values; its scales and zero points add their bytes; the bias counts as usual.
    public func learnedValues(stored: [Tensor?]) -> [LearnedValues?] {
        var values = LearnedValues.quantizedOperands(stored, [1: [2, 3]])
        if 1 < stored.count, let b = stored[1], let elements = Count.product(inputFeatures, outputFeatures) {
            values[1] = LearnedValues(elements: elements, bytes: b.byteCount)
        }
        if 5 < stored.count { values[5] = stored[5].flatMap(LearnedValues.init(floatingPoint:)) }
        return values
    }
}
