/// `DepthToSpace`: moves channel blocks into `blocksize`² spatial positions, `[N, C/b², H·b, W·b]`.
///
/// Cost: zero — data movement.
public struct DepthToSpace: OpSchema {
    /// The spatial block edge `b`.
    public let blockSize: Int
    /// Whether the channels are laid out column-row-depth (`mode` CRD) rather than DCR.
    public let columnRowDepth: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        (blockSize, columnRowDepth) = try blockAttributes(reader)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: 4))] }
        guard shape.rank == 4 else { throw reader.error("DepthToSpace needs a 4-D input, got rank \(shape.rank)") }
        let area = blockSize * blockSize
        if let c = shape.dims[1].value, c % area != 0 { throw reader.error("\(c) channels do not divide into blocks of \(area)") }
        let b = Dim.known(blockSize), d = shape.dims
        return [ValueFact(dtype: x?.dtype, shape: Shape([d[0], d[1].dividedExactly(by: .known(area)), d[2] * b, d[3] * b]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `SpaceToDepth`: moves `blocksize`² spatial blocks into channels, `[N, C·b², H/b, W/b]`.
///
/// Cost: zero — data movement.
public struct SpaceToDepth: OpSchema {
    /// The spatial block edge `b`.
    public let blockSize: Int
    /// Whether the channels are laid out column-row-depth (`mode` CRD) rather than DCR.
    public let columnRowDepth: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        (blockSize, columnRowDepth) = try blockAttributes(reader)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: 4))] }
        guard shape.rank == 4 else { throw reader.error("SpaceToDepth needs a 4-D input, got rank \(shape.rank)") }
        for axis in 2...3 {
            if let size = shape.dims[axis].value, size % blockSize != 0 { throw reader.error("size \(size) does not divide into blocks of \(blockSize)") }
        }
        let b = Dim.known(blockSize), d = shape.dims
        return [ValueFact(dtype: x?.dtype, shape: Shape([d[0], d[1] * b * b, d[2].dividedExactly(by: b), d[3].dividedExactly(by: b)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// DepthToSpace's and SpaceToDepth's attributes: `blocksize` and whether
/// `mode` is CRD (else DCR); both take one input.
private func blockAttributes(_ reader: AttributeReader) throws(ModelError) -> (blockSize: Int, columnRowDepth: Bool) {
    guard let size = try reader.int("blocksize"), size > 0, size < 1 << 16 else { throw reader.error("blocksize must be a positive integer") }
    let mode = try reader.string("mode", default: "DCR")
    guard mode == "DCR" || mode == "CRD" else { throw reader.error("unknown mode '\(mode)'") }
    try reader.expectInputs(1...1)
    return (size, mode == "CRD")
}
