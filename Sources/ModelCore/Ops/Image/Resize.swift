/// How `Resize` and `Upsample` compute an output element from its neighbours.
public enum Interpolation: String, Sendable {
    case nearest, linear, cubic

    init(_ reader: AttributeReader) throws(ModelError) {
        let text = try reader.string("mode", default: "nearest")
        // Upsample of opset 1 spells linear "bilinear".
        guard let value = text == "bilinear" ? .linear : Interpolation(rawValue: text) else {
            throw reader.error("unknown mode '\(text)'")
        }
        self = value
    }

    /// FLOPs per output element: nearest copies (0); linear weighs the 2^k
    /// corners around the sample point and cubic the 4^k taps, 3 FLOPs each
    /// (weight, multiply, add), k being the number of axes whose size changes.
    /// Antialiasing's wider filters are not counted.
    func cost(input: Shape?, output: ValueFact?) -> OpCost? {
        if self == .nearest { return .zero }
        guard let count = output?.elementCount, let inDims = input?.values, let outDims = output?.shape?.values,
              inDims.count == outDims.count else { return nil }
        let resized = zip(inDims, outDims).filter { $0 != $1 }.count
        let tapsPerAxis = self == .linear ? 2 : 4
        guard let taps = Count.product(Array(repeating: tapsPerAxis, count: resized)), let perElement = Count.product(taps, 3) else { return nil }
        return .elementwise(count, perElement: perElement)
    }

    /// `size · factor` rounded down; a symbolic size survives whole factors only.
    static func scaled(_ size: Dim, by factor: Double) -> Dim {
        guard factor.isFinite, factor > 0 else { return .unknown }
        if let v = size.value { return ShapeMath.dim((Double(v) * factor).rounded(.down)) }
        guard factor == factor.rounded(), factor < 1e9 else { return .unknown }
        return size * .known(Int(factor))
    }
}

/// `Resize`: resamples the input to sizes given directly (`sizes`, input 3,
/// read through `keep_aspect_ratio_policy`) or as `scales` (input 1 in
/// opset 10, input 2 from 11): `floor(size · scale)`, times the region of
/// interest's extent for `tf_crop_and_resize`. Opset 18 adds `axes`.
///
/// Cost: see `Interpolation.cost` (nearest 0; linear 3·2^k and cubic 3·4^k
/// FLOPs per output element for k resized axes).
public struct Resize: OpSchema {
    /// How output elements are computed.
    public let mode: Interpolation
    /// The axes scales and sizes refer to, as written (opset 18).
    public let axes: [Int]?
    /// `stretch`, `not_larger` or `not_smaller` (opset 18).
    public let keepAspectRatioPolicy: String
    /// How output coordinates map to input ones (`coordinate_transformation_mode`);
    /// Resize-10 samples as Upsample did, `asymmetric`.
    public let coordinateMode: String
    /// How nearest mode rounds (`nearest_mode`); `floor` before opset 11.
    public let nearestMode: String
    /// The cubic kernel's coefficient (`cubic_coeff_a`).
    public let cubicA: Float
    /// Whether cubic weights outside the input are dropped and the rest renormalised (`exclude_outside`).
    public let excludeOutside: Bool
    /// The value outside the region of interest for `tf_crop_and_resize` (`extrapolation_value`).
    public let extrapolation: Float
    /// Whether downscaling widens the filter (`antialias`, opset 18).
    public let antialias: Bool
    /// Whether the region of interest scales the output (`tf_crop_and_resize`).
    let cropsToRegion: Bool
    let scalesIndex: Int
    let sizesIndex: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        mode = try Interpolation(reader)
        axes = try reader.ints("axes")
        keepAspectRatioPolicy = try reader.string("keep_aspect_ratio_policy", default: "stretch")
        guard ["stretch", "not_larger", "not_smaller"].contains(keepAspectRatioPolicy) else {
            throw reader.error("unknown keep_aspect_ratio_policy '\(keepAspectRatioPolicy)'")
        }
        coordinateMode = opset < 11 ? "asymmetric" : try reader.string("coordinate_transformation_mode", default: "half_pixel")
        nearestMode = opset < 11 ? "floor" : try reader.string("nearest_mode", default: "round_prefer_floor")
        cubicA = try reader.float("cubic_coeff_a", default: -0.75)
        excludeOutside = try reader.int("exclude_outside", default: 0) != 0
        extrapolation = try reader.float("extrapolation_value", default: 0)
        antialias = try reader.int("antialias", default: 0) != 0
        cropsToRegion = coordinateMode == "tf_crop_and_resize"
        if opset < 11 {
            (scalesIndex, sizesIndex) = (1, nil)
            try reader.expectInputs(2...2)
        } else {
            (scalesIndex, sizesIndex) = (2, 3)
            try reader.expectInputs(1...4)
        }
    }

    /// The fact of an input that is present and not an empty placeholder
    /// (opset 11 needed an empty `scales` to reach `sizes`).
    private static func given(_ fact: ValueFact?) -> ValueFact? {
        ShapeMath.length(fact) == 0 ? nil : fact
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        let resized = try axes.map { a throws(ModelError) in try ShapeMath.axes(a, rank: shape.rank, reader: reader) } ?? Array(0..<shape.rank)
        var dims = shape.dims
        if let sizesFact = Self.given(sizesIndex.flatMap { inputs[input: $0] }) {
            guard let sizes = sizesFact.value?.integers else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))] }
            guard sizes.count == resized.count else { throw reader.error("sizes has \(sizes.count) elements for \(resized.count) axes") }
            if sizes.contains(where: { ($0.value ?? 0) < 0 }) { throw reader.error("sizes must not be negative") }
            if keepAspectRatioPolicy == "stretch" {
                for (axis, size) in zip(resized, sizes) { dims[axis] = size }
            } else {
                // One scale for every axis keeps the aspect ratio: the smallest (not_larger) or largest ratio.
                var ratios: [Double] = []
                for (axis, size) in zip(resized, sizes) {
                    guard let target = size.value, let current = shape.dims[axis].value, current > 0 else { ratios = []; break }
                    ratios.append(Double(target) / Double(current))
                }
                let scale = keepAspectRatioPolicy == "not_larger" ? ratios.min() : ratios.max()
                for axis in resized {
                    guard let scale, let current = shape.dims[axis].value else { dims[axis] = .unknown; continue }
                    dims[axis] = ShapeMath.dim((scale * Double(current) + 0.5).rounded(.down))
                }
            }
        } else if let scalesFact = Self.given(inputs[input: scalesIndex]) {
            guard var factors = scalesFact.value?.reals else { return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))] }
            guard factors.count == resized.count else { throw reader.error("scales has \(factors.count) elements for \(resized.count) axes") }
            if factors.contains(where: { $0.isFinite && $0 <= 0 }) { throw reader.error("scales must be positive") }
            if cropsToRegion {
                guard let roi = inputs[input: 1]?.value?.reals, roi.count == 2 * resized.count else {
                    return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownAt(resized, of: shape))]
                }
                for i in factors.indices { factors[i] *= roi[i + resized.count] - roi[i] }
            }
            for (axis, factor) in zip(resized, factors) { dims[axis] = Interpolation.scaled(shape.dims[axis], by: factor) }
        } else {
            throw reader.error("Resize needs scales or sizes")
        }
        return [ValueFact(dtype: x?.dtype, shape: Shape(dims))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        mode.cost(input: inputs[input: 0]?.shape, output: outputs.first)
    }

    /// Only the data can be a weight; the region of interest and scales are constants, not learned.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `Upsample` (deprecated for Resize): `floor(size · scale)` per axis, with
/// scales from `height_scale`/`width_scale` (opset 1), the `scales`
/// attribute (opsets 7–8) or input 1 (opset 9).
///
/// Cost: as Resize (see `Interpolation.cost`).
public struct Upsample: OpSchema {
    /// How output elements are computed.
    public let mode: Interpolation
    /// Scales from the attributes (before opset 9).
    public let scalesAttribute: [Double]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        mode = try Interpolation(reader)
        if opset < 7 {
            let height = try reader.float("height_scale", default: 0), width = try reader.float("width_scale", default: 0)
            guard height > 0, width > 0 else { throw reader.error("Upsample needs positive 'height_scale' and 'width_scale'") }
            scalesAttribute = [1, 1, Double(height), Double(width)]
            try reader.expectInputs(1...1)
        } else if opset < 9 {
            guard let scales = try reader.floats("scales") else { throw reader.error("Upsample needs a 'scales' attribute before opset 9") }
            scalesAttribute = scales.map(Double.init)
            try reader.expectInputs(1...1)
        } else {
            scalesAttribute = nil
            try reader.expectInputs(2...2)
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let shape = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard let scales = scalesAttribute ?? inputs[input: 1]?.value?.reals else {
            return [ValueFact(dtype: x?.dtype, shape: ShapeMath.unknownShape(rank: shape.rank))]
        }
        guard scales.count == shape.rank else { throw reader.error("scales has \(scales.count) elements for rank \(shape.rank)") }
        if scales.contains(where: { $0.isFinite && $0 <= 0 }) { throw reader.error("scales must be positive") }
        return [ValueFact(dtype: x?.dtype, shape: Shape(zip(shape.dims, scales).map { Interpolation.scaled($0, by: $1) }))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        mode.cost(input: inputs[input: 0]?.shape, output: outputs.first)
    }

    /// Only the data can be a weight; the scales are constants, not learned.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}
