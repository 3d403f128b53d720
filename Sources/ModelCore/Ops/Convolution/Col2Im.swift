/// `Col2Im`: sums column blocks `[N, C·∏block, L]` back into an image `[N, C, image_shape…]`.
///
/// Cost: one FLOP (an add into the image) per input element.
public struct Col2Im: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(3...3)
    }

    /// The sliding window of blocks of size `block` with the node's
    /// `strides`, `pads` and `dilations`, checked against the block's axes.
    public func window(block: [Int]) throws(ModelError) -> Window {
        try Window(kernel: block, reader: reader)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        let image = inputs[input: 1]?.value?.integers, block = inputs[input: 2]?.value?.knownIntegers
        guard let shape = x?.shape else {
            return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 1]).map { $0 + 2 }))]
        }
        guard shape.rank == 3 else { throw reader.error("Col2Im needs a 3-D input, got rank \(shape.rank)") }
        guard let image else {
            return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: ShapeMath.length(inputs[input: 1]).map { $0 + 2 }))]
        }
        var channels = Dim.unknown
        if let block {
            guard block.count == image.count, block.allSatisfy({ $0 > 0 }), let area = Count.product(block) else {
                throw reader.error("block_shape must give a positive size for each of the \(image.count) image axes")
            }
            if let c = shape.dims[1].value, c % area != 0 { throw reader.error("\(c) rows do not divide into blocks of \(area)") }
            channels = shape.dims[1].dividedExactly(by: .known(area))
        }
        return [ValueFact(dtype: x?.dtype, shape: Shape([shape.dims[0], channels] + image))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }
}
