/// `GridSample`: samples X at the normalised positions a grid gives, one output element per grid point and channel.
///
/// Per output element with r spatial axes: linear mode 2 · 2ʳ − 1 FLOPs (a
/// weighted sum of 2ʳ neighbours), cubic 2 · 4ʳ − 1, nearest 0.
public struct GridSample: OpSchema {
    /// Neighbours weighted per spatial axis: 2 linear, 4 cubic, 0 for nearest (a copy).
    public let taps: Int
    /// `padding_mode`: "zeros", "border" or "reflection", for positions outside X.
    public let padding: String
    /// `align_corners`: −1 and 1 are the centres of the corner elements, not their outer edges.
    public let alignCorners: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        // Opset 20 renamed bilinear and bicubic to linear and cubic.
        let (linear, cubic) = opset >= 20 ? ("linear", "cubic") : ("bilinear", "bicubic")
        let mode = try reader.string("mode", default: linear)
        switch mode {
        case linear: taps = 2
        case cubic: taps = 4
        case "nearest": taps = 0
        default: throw reader.error("unknown mode '\(mode)' for opset \(opset)")
        }
        let padding = try reader.string("padding_mode", default: "zeros")
        guard ["zeros", "border", "reflection"].contains(padding) else { throw reader.error("unknown padding_mode '\(padding)'") }
        self.padding = padding
        alignCorners = try reader.int("align_corners", default: 0) != 0
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let xs = x?.shape, let grid = inputs[input: 1]?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard xs.rank >= 3, grid.rank == xs.rank else {
            throw reader.error("X (rank \(xs.rank)) and grid (rank \(grid.rank)) must have the same rank, 3 or more")
        }
        _ = try SequenceModels.same(grid.dims[grid.rank - 1], .known(xs.rank - 2), "grid's coordinate count", reader)
        let batch = try SequenceModels.same(xs.dims[0], grid.dims[0], "batch size", reader)
        return [ValueFact(dtype: x?.dtype, shape: Shape([batch, xs.dims[1]] + grid.dims[1..<(grid.rank - 1)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let out = outputs.first?.shape, out.rank >= 2, let count = out.elementCount else { return nil }
        guard taps > 0 else { return .zero }
        guard let neighbours = Count.product(Array(repeating: taps, count: out.rank - 2)),
              let weighted = Count.product(2, neighbours) else { return nil }
        return .elementwise(count, perElement: weighted - 1)
    }

    /// The grid is data.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `AffineGrid`: the sampling grid of a batch of 2-D or 3-D affine transforms.
///
/// Each of the r coordinates of each grid point is a row of θ times the
/// homogeneous position: r · r MACs and r FLOPs for the translation per point.
public struct AffineGrid: OpSchema {
    /// `align_corners`: −1 and 1 are the centres of the corner elements, not their outer edges.
    public let alignCorners: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let align = try reader.int("align_corners", default: 0)
        guard align == 0 || align == 1 else { throw reader.error("align_corners must be 0 or 1") }
        alignCorners = align == 1
        try reader.expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let theta = inputs[input: 0], size = inputs[input: 1]
        var spatial: Int?, batch = Dim.unknown
        if let t = theta?.shape {
            guard t.rank == 3 else { throw reader.error("theta must have rank 3, got \(t.rank)") }
            batch = t.dims[0]
            if let rows = t.dims[1].value {
                guard rows == 2 || rows == 3 else { throw reader.error("theta must be N×2×3 or N×3×4") }
                spatial = rows
            }
        }
        if let count = size?.shape?.dims.first?.value {
            guard count == 4 || count == 5 else { throw reader.error("size must give 4 or 5 dimensions, got \(count)") }
            spatial = try SequenceModels.same(spatial.map(Dim.known) ?? .unknown, .known(count - 2), "spatial rank", reader).value
        }
        guard let spatial else { return [ValueFact(dtype: theta?.dtype, shape: nil)] }
        var dims = Array(repeating: Dim.unknown, count: spatial)
        if let values = size?.value?.integers, values.count == spatial + 2 {
            guard values.allSatisfy({ ($0.value ?? 0) >= 0 }) else { throw reader.error("size has a negative dimension") }
            batch = try SequenceModels.same(batch, values[0], "batch size", reader)
            dims = Array(values.dropFirst(2))
        }
        return [ValueFact(dtype: theta?.dtype, shape: Shape([batch] + dims + [.known(spatial)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let out = outputs.first?.shape?.values, let r = out.last,
              let points = Count.product(Array(out.dropLast())),
              let macs = Count.product(points, r, r), let translation = Count.product(points, r) else { return nil }
        return .multiplyAccumulate(macs, plus: translation)
    }
}
