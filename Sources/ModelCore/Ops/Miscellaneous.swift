/// The long tail of operators: quantisation, quantised and deformable
/// convolution, detection, sampling grids, signal processing, random
/// generators, strings, training optimisers and the `ai.onnx.ml` operators
/// that the node suite exercises.
///
/// Counting rule (docs/COUNTING.md), as for the other families: products
/// count as MACs (integer products too, two FLOPs per MAC like floating
/// ones, so that quantised and float models compare), other arithmetic one
/// FLOP per operation or transcendental function, data movement and string
/// work zero, and `nil` (uncounted) where the work depends on the data.
public enum Miscellaneous {
    static let registrations: [String: any OpSchema.Type] = [
        "QuantizeLinear": Quantize.self, "DequantizeLinear": Quantize.self,
        "DynamicQuantizeLinear": DynamicQuantize.self,
        "MatMulInteger": QuantizedMatMul.self, "QLinearMatMul": QuantizedMatMul.self,
        "ConvInteger": QuantizedConv.self, "QLinearConv": QuantizedConv.self,
        "DeformConv": DeformConv.self,
        "NonMaxSuppression": NonMaxSuppression.self,
        "RoiAlign": RegionPooling.self, "MaxRoiPool": RegionPooling.self,
        "GridSample": GridSample.self, "AffineGrid": AffineGrid.self,
        "DFT": FourierTransform.self, "STFT": ShortTimeFourierTransform.self,
        "HannWindow": WindowFunction.self, "HammingWindow": WindowFunction.self,
        "BlackmanWindow": WindowFunction.self, "MelWeightMatrix": MelWeightMatrix.self,
        "RandomNormal": RandomGenerator.self, "RandomUniform": RandomGenerator.self,
        "RandomNormalLike": RandomGenerator.self, "RandomUniformLike": RandomGenerator.self,
        "Bernoulli": RandomGenerator.self, "Multinomial": RandomGenerator.self,
        "Det": Determinant.self,
        "TfIdfVectorizer": TfIdfVectorizer.self,
        "StringNormalizer": StringOperator.self, "RegexFullMatch": StringOperator.self,
        "StringConcat": StringOperator.self, "StringSplit": StringOperator.self,
        "ImageDecoder": ImageDecoder.self,
        "MaxUnpool": MaxUnpool.self,
        "BitCast": BitCast.self,
        "ai.onnx.preview.training.Momentum": Optimizer.self, "ai.onnx.preview.training.Adam": Optimizer.self,
        "ai.onnx.preview.training.Adagrad": Optimizer.self,
        "ai.onnx.ml.ArrayFeatureExtractor": ArrayFeatureExtractor.self, "ai.onnx.ml.Binarizer": Binarizer.self,
        "ai.onnx.ml.LabelEncoder": LabelEncoder.self, "ai.onnx.ml.TreeEnsemble": TreeEnsemble.self,
    ]

    /// The element type an attribute names by its `TensorProto.DataType` code.
    static func dtype(_ name: String, default fallback: DType?, _ reader: AttributeReader) throws(ModelError) -> DType? {
        guard let code = try reader.int(name) else { return fallback }
        guard let raw = Int32(exactly: code), raw != 0, DType(rawValue: raw).isKnown else {
            throw reader.error("attribute '\(name)' names unknown element type \(code)")
        }
        return DType(rawValue: raw)
    }

    /// The single integer a scalar (or one-element) input holds, when known.
    static func scalar(_ fact: ValueFact?) -> Dim? {
        guard let value = fact?.value, value.count == 1 else { return nil }
        return value.integers[0]
    }

    /// The size a scalar input gives; throws when it is a negative number.
    static func size(_ fact: ValueFact?, _ what: String, _ reader: AttributeReader) throws(ModelError) -> Dim {
        let dim = scalar(fact) ?? .unknown
        if let v = dim.value, v < 0 { throw reader.error("\(what) is \(v)") }
        return dim
    }

    /// A copy of `node` as `opType` with only the inputs at `indices` (omitted ones stay empty), for delegating to another schema.
    static func delegate(_ node: Node, as opType: String, inputs indices: [Int]) -> Node {
        var copy = node
        copy.opType = opType
        copy.domain = ""
        copy.inputs = indices.map { $0 < node.inputs.count ? node.inputs[$0] : "" }
        while copy.inputs.last?.isEmpty == true { copy.inputs.removeLast() }
        return copy
    }

    /// `base` with `extra` FLOPs added, or `nil` on overflow.
    static func adding(_ extra: Int?, to base: OpCost?) -> OpCost? {
        guard let base, let extra, extra >= 0 else { return nil }
        let (flops, overflow) = base.flops.addingReportingOverflow(extra)
        return overflow ? nil : OpCost(macs: base.macs, flops: flops)
    }

    /// FLOPs of one FFT of length n: the usual 5 · n · ⌈log₂ n⌉ for complex data.
    static func fftFLOPs(_ n: Int) -> Int? {
        guard n > 1 else { return 0 }
        let log2 = Int.bitWidth - (n - 1).leadingZeroBitCount
        return Count.product(5, n, log2)
    }
}

/// `QuantizeLinear` and `DequantizeLinear`: y = saturate(x / scale + zero point) and y = (x − zero point) · scale.
///
/// 2 FLOPs per element. The quantised type is `output_dtype`, else the zero
/// point's type, else uint8; the dequantised type is `output_dtype`, else the scale's.
public struct Quantize: OpSchema {
    /// `DequantizeLinear` rather than `QuantizeLinear`.
    public let dequantize: Bool
    /// The per-axis or blocked quantisation axis (default 1).
    public let axis: Int
    /// `output_dtype`, when set.
    public let outputType: DType?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        dequantize = node.opType == "DequantizeLinear"
        axis = try reader.int("axis", default: 1)
        let blockSize = try reader.int("block_size", default: 0)
        guard blockSize >= 0 else { throw reader.error("block_size must not be negative, got \(blockSize)") }
        outputType = try Miscellaneous.dtype("output_dtype", default: nil, reader)
        try reader.expectInputs(2...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0], scale = inputs[input: 1]
        // The axis matters only for per-axis and blocked scales.
        if let rank = x?.shape?.rank, let scaleRank = scale?.shape?.rank, scaleRank > 0, rank > 0 {
            _ = try reader.axis(axis, rank: rank)
        }
        let zeroPoint = inputs[input: 2]
        let dtype = outputType ?? (dequantize ? scale?.dtype : zeroPoint == nil ? .uint8 : zeroPoint?.dtype)
        return [ValueFact(dtype: dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: 2)
    }

    /// Scales and zero points are quantisation constants, not learned weights.
    public func holdsParameters(input index: Int) -> Bool { index == 0 }
}

/// `DynamicQuantizeLinear`: uint8 quantisation with a scale and zero point computed from the data's range.
///
/// 4 FLOPs per element: the minimum and maximum, then the division and the
/// zero-point addition.
public struct DynamicQuantize: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let scalar = Shape([Dim]())
        return [ValueFact(dtype: .uint8, shape: inputs[input: 0]?.shape),
                ValueFact(dtype: .float, shape: scalar), ValueFact(dtype: .uint8, shape: scalar)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = inputs[input: 0]?.elementCount else { return nil }
        return .elementwise(count, perElement: 4)
    }
}

/// `MatMulInteger` and `QLinearMatMul`: MatMul on quantised operands.
///
/// MACs as for MatMul (integer MACs, two FLOPs each); QLinearMatMul adds 2
/// FLOPs per output element to requantise. Zero-point offsets are not counted.
public struct QuantizedMatMul: OpSchema {
    let product: MatMul
    /// Input positions of A and B.
    let operands: [Int]
    /// QLinearMatMul: output zero point at input 7, requantisation counted.
    let requantized: Bool

    public init(node: Node, opset: Int) throws(ModelError) {
        requantized = node.opType == "QLinearMatMul"
        operands = requantized ? [0, 3] : [0, 1]
        try AttributeReader(node).expectInputs(requantized ? 8...8 : 2...4)
        product = try MatMul(node: Miscellaneous.delegate(node, as: "MatMul", inputs: operands), opset: opset)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = try product.infer(operands.map { inputs[input: $0] })[0]
        fact.dtype = requantized ? inputs[input: 7]?.dtype : .int32
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        let base = product.cost(operands.map { inputs[input: $0] }, outputs)
        guard requantized else { return base }
        return Miscellaneous.adding(outputs.first?.elementCount.flatMap { Count.product($0, 2) }, to: base)
    }
}

/// `ConvInteger` and `QLinearConv`: Conv on quantised operands.
///
/// MACs as for Conv (integer MACs, two FLOPs each, the bias one per output);
/// QLinearConv adds 2 FLOPs per output element to requantise. Zero-point
/// offsets are not counted.
public struct QuantizedConv: OpSchema {
    let convolution: Conv
    /// Input positions of x, w and the bias.
    let operands: [Int]
    let requantized: Bool

    public init(node: Node, opset: Int) throws(ModelError) {
        requantized = node.opType == "QLinearConv"
        operands = requantized ? [0, 3, 8] : [0, 1]
        try AttributeReader(node).expectInputs(requantized ? 8...9 : 2...4)
        convolution = try Conv(node: Miscellaneous.delegate(node, as: "Conv", inputs: operands), opset: opset)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        var fact = try convolution.infer(operands.map { inputs[input: $0] })[0]
        fact.dtype = requantized ? inputs[input: 7]?.dtype : .int32
        return [fact]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        let base = convolution.cost(operands.map { inputs[input: $0] }, outputs)
        guard requantized else { return base }
        return Miscellaneous.adding(outputs.first?.elementCount.flatMap { Count.product($0, 2) }, to: base)
    }
}

/// `DeformConv`: convolution whose kernel taps sample the input at learned offsets.
///
/// MACs as for Conv; every sampled input value (N · C · ∏ output spatial ·
/// ∏ kernel) adds 7 FLOPs of bilinear interpolation, and 1 more when a mask scales it.
public struct DeformConv: OpSchema {
    let convolution: Conv
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let offsetGroup = try reader.int("offset_group", default: 1)
        guard offsetGroup > 0 else { throw reader.error("offset_group must be positive, got \(offsetGroup)") }
        try reader.expectInputs(3...5)
        convolution = try Conv(node: Miscellaneous.delegate(node, as: "Conv", inputs: [0, 1, 3]), opset: opset)
    }

    func operands(_ inputs: [ValueFact?]) -> [ValueFact?] {
        [inputs[input: 0], inputs[input: 1], inputs[input: 3]]
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        try convolution.infer(operands(inputs))
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let x = inputs[input: 0]?.shape?.values, x.count >= 2,
              let w = inputs[input: 1]?.shape?.values, w.count >= 2,
              let out = outputs.first?.shape?.values, out.count >= 2,
              let samples = Count.product([x[0], x[1]] + Array(out.dropFirst(2)) + Array(w.dropFirst(2))),
              let interpolation = Count.product(samples, inputs[input: 4] != nil ? 8 : 7) else { return nil }
        return Miscellaneous.adding(interpolation, to: convolution.cost(operands(inputs), outputs))
    }

    /// The weight and bias are learned; offsets and masks are computed.
    public func holdsParameters(input index: Int) -> Bool { index == 1 || index == 3 }
}

/// `NonMaxSuppression`: the boxes kept per batch and class, as [selected, 3] indices.
///
/// How many boxes survive, and how many overlaps are computed, depends on
/// the scores: the count of selected boxes is unknown and the node uncounted.
public struct NonMaxSuppression: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let format = try reader.int("center_point_box", default: 0)
        guard format == 0 || format == 1 else { throw reader.error("center_point_box must be 0 or 1, got \(format)") }
        try reader.expectInputs(2...5)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        if let boxes = inputs[input: 0]?.shape {
            guard boxes.rank == 3 else { throw reader.error("boxes must have rank 3, got \(boxes.rank)") }
            _ = try SequenceModels.same(boxes.dims[2], .known(4), "box size", reader)
        }
        if let scores = inputs[input: 1]?.shape, scores.rank != 3 {
            throw reader.error("scores must have rank 3, got \(scores.rank)")
        }
        return [ValueFact(dtype: .int64, shape: Shape([.unknown, .known(3)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}

/// `RoiAlign` and `MaxRoiPool`: a fixed-size feature map per region of interest.
///
/// RoiAlign with a positive `sampling_ratio` s averages (or takes the maximum
/// of) s² bilinear samples per output element: 8 FLOPs each (7 to
/// interpolate, 1 to accumulate). With an adaptive ratio, and for
/// MaxRoiPool, the work depends on the regions' sizes: uncounted.
public struct RegionPooling: OpSchema {
    /// Height and width of each region's output map.
    public let outputSize: [Int]
    /// RoiAlign's samples per bin side; 0 (adaptive) and MaxRoiPool leave the count to the data.
    let samplingRatio: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if node.opType == "MaxRoiPool" {
            guard let pooled = try reader.ints("pooled_shape"), pooled.count == 2 else {
                throw reader.error("pooled_shape must give a height and a width")
            }
            outputSize = pooled
            samplingRatio = 0
            try reader.expectInputs(2...2)
        } else {
            outputSize = [try reader.int("output_height", default: 1), try reader.int("output_width", default: 1)]
            samplingRatio = try reader.int("sampling_ratio", default: 0)
            let mode = try reader.string("mode", default: "avg")
            guard mode == "avg" || mode == "max" else { throw reader.error("unknown mode '\(mode)'") }
            guard samplingRatio >= 0 else { throw reader.error("sampling_ratio must not be negative") }
            try reader.expectInputs(3...3)
        }
        guard outputSize.allSatisfy({ $0 > 0 }) else { throw reader.error("the output size must be positive, got \(outputSize)") }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        var channels = Dim.unknown, regions = Dim.unknown
        if let xs = x?.shape {
            guard xs.rank == 4 else { throw reader.error("X must have rank 4, got \(xs.rank)") }
            channels = xs.dims[1]
        }
        if let rois = inputs[input: 1]?.shape {
            guard rois.rank == 2 else { throw reader.error("rois must have rank 2, got \(rois.rank)") }
            regions = rois.dims[0]
        }
        if let indices = inputs[input: 2]?.shape, indices.rank == 1 {
            regions = try SequenceModels.same(regions, indices.dims[0], "region count", reader)
        }
        return [ValueFact(dtype: x?.dtype, shape: Shape([regions, channels] + outputSize.map(Dim.known)))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard samplingRatio > 0, let count = outputs.first?.elementCount,
              let perOutput = Count.product(samplingRatio, samplingRatio, 8) else { return nil }
        return .elementwise(count, perElement: perOutput)
    }

    /// Regions and their batch indices are data.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `GridSample`: samples X at the normalised positions a grid gives, one output element per grid point and channel.
///
/// Per output element with r spatial axes: linear mode 2 · 2ʳ − 1 FLOPs (a
/// weighted sum of 2ʳ neighbours), cubic 2 · 4ʳ − 1, nearest 0.
public struct GridSample: OpSchema {
    /// Neighbours weighted per spatial axis: 2 linear, 4 cubic, 0 for nearest (a copy).
    let taps: Int
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
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let align = try reader.int("align_corners", default: 0)
        guard align == 0 || align == 1 else { throw reader.error("align_corners must be 0 or 1") }
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

/// `DFT`: the discrete Fourier transform along one axis of a real ([..., 1]) or complex ([..., 2]) signal.
///
/// Counted as FFTs: 5 · n · ⌈log₂ n⌉ FLOPs per transform of length n (half
/// for the real-input and real-output one-sided forms), one transform per
/// position of the other axes.
public struct FourierTransform: OpSchema {
    /// `inverse`: the inverse transform.
    public let inverse: Bool
    /// `onesided`: real input to half spectrum, or half spectrum to real output when inverse.
    public let onesided: Bool
    /// Opset 17–19 give the axis as an attribute; from opset 20 it is input 2.
    let axisAttribute: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        inverse = try reader.int("inverse", default: 0) != 0
        onesided = try reader.int("onesided", default: 0) != 0
        axisAttribute = opset < 20 ? try reader.int("axis", default: 1) : nil
        try reader.expectInputs(opset < 20 ? 1...2 : 1...3)
    }

    /// The transform's axis, its length n and the output's shape.
    func transform(_ inputs: [ValueFact?]) throws(ModelError) -> (axis: Int?, length: Dim, shape: Shape?) {
        guard let x = inputs[input: 0]?.shape else { return (nil, .unknown, nil) }
        guard x.rank >= 2 else { throw reader.error("the signal must have rank 2 or more, got \(x.rank)") }
        // A one-sided inverse transform takes complex input; the others take real or complex.
        if let parts = x.dims[x.rank - 1].value, !(onesided && inverse ? [2] : [1, 2]).contains(parts) {
            throw reader.error("the last dimension must hold \(onesided && inverse ? "2" : "1 or 2") parts, it has \(parts)")
        }
        var axis: Int?
        if let attribute = axisAttribute {
            axis = attribute
        } else if inputs[input: 2] != nil {
            axis = Miscellaneous.scalar(inputs[input: 2])?.value
        } else {
            axis = -2
        }
        // The last axis holds the real and imaginary parts and cannot be transformed.
        if let a = axis {
            let normalised = try reader.axis(a, rank: x.rank)
            guard normalised < x.rank - 1 else { throw reader.error("axis \(a) is the complex axis") }
            axis = normalised
        }
        let lengthGiven = inputs[input: 1] != nil
        let last = Dim.known(onesided && inverse ? 1 : 2)
        guard let axis else {
            // Only a full transform of the default length keeps every axis, wherever it runs.
            let keeps = !onesided && !lengthGiven
            return (nil, .unknown, Shape(x.dims.dropLast().map { keeps ? $0 : .unknown } + [last]))
        }
        let signal = x.dims[axis]
        let length: Dim
        if lengthGiven {
            length = try Miscellaneous.size(inputs[input: 1], "dft_length", reader)
        } else {
            // A one-sided inverse input holds n/2 + 1 bins.
            length = onesided && inverse ? (signal - .known(1)) * .known(2) : signal
        }
        var dims = x.dims
        dims[axis] = onesided && !inverse ? length.flooredDivision(by: .known(2)) + .known(1) : length
        dims[x.rank - 1] = last
        return (axis, length, Shape(dims))
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: inputs[input: 0]?.dtype, shape: try transform(inputs).shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (axis, length, shape) = try? transform(inputs), let axis, let n = length.value, n >= 0,
              let dims = shape?.values else { return nil }
        var others = dims
        others.remove(at: axis)
        guard let transforms = Count.product(Array(others.dropLast())), let perTransform = Miscellaneous.fftFLOPs(n),
              let flops = Count.product(transforms, onesided ? perTransform / 2 : perTransform) else { return nil }
        return OpCost(macs: 0, flops: flops)
    }

    /// The signal is data.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `STFT`: DFTs of windowed frames sliding over a signal, giving [batch, frames, bins, 2].
///
/// Per frame: one FFT of the frame length (5 · n · ⌈log₂ n⌉ FLOPs, half for
/// one-sided output) and one multiplication per sample when a window is given.
public struct ShortTimeFourierTransform: OpSchema {
    /// `onesided` (default 1): only the non-redundant half of each spectrum.
    public let onesided: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        onesided = try reader.int("onesided", default: 1) != 0
        try reader.expectInputs(2...4)
    }

    /// Batch, frames and frame length.
    func frames(_ inputs: [ValueFact?]) throws(ModelError) -> (batch: Dim, frames: Dim, length: Dim) {
        var batch = Dim.unknown, signal = Dim.unknown
        if let s = inputs[input: 0]?.shape {
            guard s.rank == 3 else { throw reader.error("the signal must have rank 3, got \(s.rank)") }
            (batch, signal) = (s.dims[0], s.dims[1])
        }
        var length = Dim.unknown
        if let window = inputs[input: 2]?.shape {
            guard window.rank == 1 else { throw reader.error("the window must have rank 1, got \(window.rank)") }
            length = window.dims[0]
        }
        if inputs[input: 3] != nil {
            length = try SequenceModels.same(length, Miscellaneous.size(inputs[input: 3], "frame_length", reader), "frame length", reader)
        } else if inputs[input: 2] == nil {
            length = signal
        }
        var frames = Dim.unknown
        if let n = signal.value, let l = length.value, let step = Miscellaneous.scalar(inputs[input: 1])?.value {
            guard step > 0, l > 0, l <= n else { throw reader.error("frame length \(l) and step \(step) do not fit a signal of \(n)") }
            frames = .known((n - l) / step + 1)
        }
        return (batch, frames, length)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let (batch, frames, length) = try frames(inputs)
        let bins = onesided ? length.flooredDivision(by: .known(2)) + .known(1) : length
        return [ValueFact(dtype: inputs[input: 0]?.dtype, shape: Shape([batch, frames, bins, .known(2)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (batch, frames, length) = try? frames(inputs), let b = batch.value, let f = frames.value,
              let n = length.value, let fft = Miscellaneous.fftFLOPs(n) else { return nil }
        let perFrame = (onesided ? fft / 2 : fft) + (inputs[input: 2] != nil ? n : 0)
        guard let flops = Count.product(b, f, perFrame) else { return nil }
        return OpCost(macs: 0, flops: flops)
    }

    /// The window is a computed table.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `HannWindow`, `HammingWindow` and `BlackmanWindow`: a window of the length input 0 holds.
///
/// Per element: 4 FLOPs for Hann and Hamming (a − b · cos(2πn/N)), 8 for
/// Blackman (two cosine terms).
public struct WindowFunction: OpSchema {
    /// `output_datatype` (default float).
    public let dtype: DType
    let flopsPerElement: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        dtype = try Miscellaneous.dtype("output_datatype", default: .float, reader) ?? .float
        let periodic = try reader.int("periodic", default: 1)
        guard periodic == 0 || periodic == 1 else { throw reader.error("periodic must be 0 or 1") }
        flopsPerElement = node.opType == "BlackmanWindow" ? 8 : 4
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: dtype, shape: Shape([try Miscellaneous.size(inputs[input: 0], "the window size", reader)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: flopsPerElement)
    }
}

/// `MelWeightMatrix`: the [dft_length / 2 + 1, num_mel_bins] matrix of triangular mel filters.
///
/// 3 FLOPs per element (a linear ramp: subtract, divide, clamp).
public struct MelWeightMatrix: OpSchema {
    /// `output_datatype` (default float).
    public let dtype: DType
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        dtype = try Miscellaneous.dtype("output_datatype", default: .float, reader) ?? .float
        try reader.expectInputs(5...5)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let bins = try Miscellaneous.size(inputs[input: 1], "dft_length", reader).flooredDivision(by: .known(2)) + .known(1)
        return [ValueFact(dtype: dtype, shape: Shape([bins, try Miscellaneous.size(inputs[input: 0], "num_mel_bins", reader)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: 3)
    }
}

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

/// `Det`: the determinants of a batch of square matrices, [*, M, M] → [*].
///
/// By LU decomposition: ⌊M³ / 3⌋ MACs per matrix.
public struct Determinant: OpSchema {
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let s = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard s.rank >= 2 else { throw reader.error("Det needs rank 2 or more, got \(s.rank)") }
        _ = try SequenceModels.same(s.dims[s.rank - 2], s.dims[s.rank - 1], "matrix side", reader)
        return [ValueFact(dtype: x?.dtype, shape: Shape(Array(s.dims.dropLast(2))))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let dims = inputs[input: 0]?.shape?.values, let m = dims.last, let batch = outputs.first?.elementCount,
              let cube = Count.product(m, m, m), let macs = Count.product(batch, cube / 3) else { return nil }
        return .multiplyAccumulate(macs)
    }
}

/// `TfIdfVectorizer`: n-gram counts of each row of a 1-D or 2-D input, [C] → [K] or [N, C] → [N, K].
///
/// Matching n-grams is not arithmetic; IDF and TFIDF weighting costs 1 FLOP per output element.
public struct TfIdfVectorizer: OpSchema {
    /// K: one more than the largest n-gram index.
    public let width: Int
    let weighted: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let mode = try reader.string("mode", default: "")
        guard ["TF", "IDF", "TFIDF"].contains(mode) else { throw reader.error("mode must be TF, IDF or TFIDF, got '\(mode)'") }
        weighted = mode != "TF"
        guard let indexes = try reader.ints("ngram_indexes"), indexes.allSatisfy({ $0 >= 0 && $0 < Int.max }) else {
            throw reader.error("ngram_indexes must list non-negative indexes")
        }
        width = (indexes.max() ?? -1) + 1
        let minimum = try reader.int("min_gram_length", default: 1), maximum = try reader.int("max_gram_length", default: 1)
        guard minimum > 0, minimum <= maximum else { throw reader.error("gram lengths \(minimum)…\(maximum) are invalid") }
        let integers = try reader.ints("pool_int64s"), strings = try reader.strings("pool_strings")
        guard (integers == nil) != (strings == nil) else { throw reader.error("exactly one of pool_int64s and pool_strings must be set") }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        guard let s = inputs[input: 0]?.shape else { return [ValueFact(dtype: .float, shape: nil)] }
        switch s.rank {
        case 1: return [ValueFact(dtype: .float, shape: Shape([width]))]
        case 2: return [ValueFact(dtype: .float, shape: Shape([s.dims[0], .known(width)]))]
        default: throw reader.error("the input must have rank 1 or 2, got \(s.rank)")
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: weighted ? 1 : 0)
    }
}

/// String operators: `StringNormalizer`, `RegexFullMatch`, `StringConcat` and `StringSplit`.
///
/// String work is not arithmetic: zero FLOPs. How many strings survive stop
/// words, and how many pieces a split gives, depends on the data: unknown dims.
public struct StringOperator: OpSchema {
    /// The operator this node is.
    public let op: String
    let removesStopwords: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        reader = AttributeReader(node)
        removesStopwords = try !(reader.strings("stopwords") ?? []).isEmpty
        switch op {
        case "StringNormalizer":
            let action = try reader.string("case_change_action", default: "NONE")
            guard ["LOWER", "UPPER", "NONE"].contains(action) else { throw reader.error("unknown case_change_action '\(action)'") }
        case "StringSplit":
            if let maxsplit = try reader.int("maxsplit"), maxsplit < 0 { throw reader.error("maxsplit must not be negative") }
        default:
            break
        }
        try reader.expectInputs(op == "StringConcat" ? 2...2 : 1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]?.shape
        switch op {
        case "StringConcat":
            return [ValueFact(dtype: .string, shape: try Broadcast.shape([x, inputs[input: 1]?.shape], node: reader))]
        case "RegexFullMatch":
            return [ValueFact(dtype: .bool, shape: x)]
        case "StringSplit":
            // An empty input has no pieces, so the padded last axis is empty too.
            let pieces: Dim = x?.elementCount == 0 ? .known(0) : .unknown
            return [ValueFact(dtype: .string, shape: x.map { Shape($0.dims + [pieces]) }),
                    ValueFact(dtype: .int64, shape: x)]
        default:
            guard let x, removesStopwords else { return [ValueFact(dtype: .string, shape: x)] }
            switch x.rank {
            case 1: return [ValueFact(dtype: .string, shape: Shape([Dim.unknown]))]
            case 2: return [ValueFact(dtype: .string, shape: Shape([x.dims[0], .unknown]))]
            default: throw reader.error("StringNormalizer takes [C] or [1, C], got rank \(x.rank)")
            }
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `ImageDecoder`: decodes an encoded image into [height, width, channels] uint8.
///
/// The size is in the data; decoding is not counted (uncounted).
public struct ImageDecoder: OpSchema {
    /// 3 for RGB and BGR, 1 for Grayscale.
    public let channels: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        let format = try reader.string("pixel_format", default: "RGB")
        switch format {
        case "RGB", "BGR": channels = 3
        case "Grayscale": channels = 1
        default: throw reader.error("unknown pixel_format '\(format)'")
        }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: .uint8, shape: Shape([.unknown, .unknown, .known(channels)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}

/// `MaxUnpool`: scatters pooled values back to their positions in a zero tensor.
///
/// The output is `output_shape` when given, else (in − 1) · stride + kernel −
/// pads per spatial axis. A copy: zero FLOPs.
public struct MaxUnpool: OpSchema {
    /// `kernel_shape`.
    public let kernel: [Int]
    /// `strides` (default 1).
    public let strides: [Int]
    /// `pads`: begin pads for every spatial axis, then end pads.
    public let pads: [Int]
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let kernel = try reader.ints("kernel_shape"), !kernel.isEmpty, kernel.allSatisfy({ $0 > 0 }) else {
            throw reader.error("kernel_shape must list positive sizes")
        }
        self.kernel = kernel
        strides = try reader.ints("strides") ?? Array(repeating: 1, count: kernel.count)
        pads = try reader.ints("pads") ?? Array(repeating: 0, count: 2 * kernel.count)
        guard strides.count == kernel.count, pads.count == 2 * kernel.count,
              strides.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }) else {
            throw reader.error("strides and pads do not match the kernel's \(kernel.count) axes")
        }
        try reader.expectInputs(2...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let given = inputs[input: 2]?.value?.integers {
            if let rank = x?.shape?.rank, rank != given.count {
                throw reader.error("output_shape has \(given.count) dimensions, X \(rank)")
            }
            guard given.allSatisfy({ ($0.value ?? 0) >= 0 }) else { throw reader.error("output_shape has a negative dimension") }
            return [ValueFact(dtype: x?.dtype, shape: Shape(given))]
        }
        guard let s = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard s.rank == kernel.count + 2 else { throw reader.error("X has rank \(s.rank), the kernel \(kernel.count) axes") }
        let n = kernel.count
        let spatial = (0..<n).map { i -> Dim in
            guard let size = s.dims[2 + i].value else { return .unknown }
            let (scaled, o1) = (size - 1).multipliedReportingOverflow(by: strides[i])
            let (extended, o2) = scaled.addingReportingOverflow(kernel[i])
            let (trimmed, o3) = extended.subtractingReportingOverflow(pads[i])
            let (out, o4) = trimmed.subtractingReportingOverflow(pads[i + n])
            return o1 || o2 || o3 || o4 || out < 0 ? .unknown : .known(out)
        }
        // An explicit output_shape that is not yet known leaves the spatial sizes open.
        let open = inputs[input: 2] != nil
        return [ValueFact(dtype: x?.dtype, shape: Shape(Array(s.dims.prefix(2)) + (open ? spatial.map { _ in .unknown } : spatial)))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }

    /// The values and indices are data.
    public func holdsParameters(input index: Int) -> Bool { false }
}

/// `BitCast` (opset 26): reinterprets each element's bits as another type of the same width.
///
/// Zero FLOPs.
public struct BitCast: OpSchema {
    /// The `to` type.
    public let dtype: DType
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        guard let to = try Miscellaneous.dtype("to", default: nil, reader), to != .string else {
            throw reader.error("BitCast needs a non-string 'to' type")
        }
        dtype = to
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        if let from = x?.dtype, from.bitsPerElement != dtype.bitsPerElement {
            throw reader.error("cannot reinterpret \(from) as \(dtype): the widths differ")
        }
        return [ValueFact(dtype: dtype, shape: x?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// The training optimisers of `ai.onnx.preview.training`: `Momentum`, `Adam`
/// and `Adagrad`, updating n tensors at once.
///
/// Inputs are R, T, then n tensors X, their gradients and their state;
/// outputs are the new X and new states, shaped like them. Per element of X:
/// Momentum 7 FLOPs (Nesterov 9), Adam 15, Adagrad 9.
public struct Optimizer: OpSchema {
    /// The optimiser this node runs.
    public let op: String
    /// Tensors optimised (n).
    public let count: Int
    /// For each group of n outputs, the group of n inputs (after R and T) it is shaped like.
    let outputGroups: [Int]
    let flopsPerElement: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        op = node.opType
        let reader = AttributeReader(node)
        let inputGroups: Int
        switch op {
        case "Momentum":
            let mode = try reader.string("mode", default: "")
            guard mode == "standard" || mode == "nesterov" else { throw reader.error("mode must be standard or nesterov, got '\(mode)'") }
            inputGroups = 3
            outputGroups = [0, 2]
            flopsPerElement = mode == "nesterov" ? 9 : 7
        case "Adam":
            inputGroups = 4
            outputGroups = [0, 2, 3]
            flopsPerElement = 15
        default:
            inputGroups = 3
            outputGroups = [0, 2]
            flopsPerElement = 9
        }
        let tensors = node.inputs.count - 2
        guard tensors > 0, tensors % inputGroups == 0 else {
            throw reader.error("\(op) takes R, T and \(inputGroups) tensors per optimised tensor, this node has \(node.inputs.count) inputs")
        }
        count = tensors / inputGroups
        guard node.outputs.count <= outputGroups.count * count else {
            throw reader.error("\(op) of \(count) tensors has at most \(outputGroups.count * count) outputs")
        }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        outputGroups.flatMap { group in
            (0..<count).map { j -> ValueFact in
                var fact = inputs[input: 2 + group * count + j] ?? .unknown
                fact.value = nil
                return fact
            }
        }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        let sizes = (0..<count).map { inputs[input: 2 + $0]?.elementCount }
        guard let elements = SequenceModels.total(sizes) else { return nil }
        return .elementwise(elements, perElement: flopsPerElement)
    }

    /// The optimised tensors are the parameters; rates, counts, gradients and states are not.
    public func holdsParameters(input index: Int) -> Bool { index >= 2 && index < 2 + count }
}

/// `ai.onnx.ml.ArrayFeatureExtractor`: selects entries of the last axis, [..., F] → [..., k] for k indices.
///
/// A gather: zero FLOPs.
public struct ArrayFeatureExtractor: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        try AttributeReader(node).expectInputs(2...2)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let s = x?.shape, s.rank >= 1 else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        let selected: Dim = inputs[input: 1]?.elementCount.map(Dim.known) ?? .unknown
        return [ValueFact(dtype: x?.dtype, shape: Shape(Array(s.dims.dropLast()) + [selected]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `ai.onnx.ml.Binarizer`: 1 where an element exceeds the threshold, else 0.
///
/// 1 FLOP (a comparison) per element.
public struct Binarizer: OpSchema {
    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        _ = try reader.float("threshold", default: 0)
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: inputs[input: 0]?.dtype, shape: inputs[input: 0]?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let count = outputs.first?.elementCount else { return nil }
        return .elementwise(count, perElement: 1)
    }
}

/// `ai.onnx.ml.LabelEncoder`: maps each element through a key → value table; the output type is the values'.
///
/// A lookup: zero FLOPs.
public struct LabelEncoder: OpSchema {
    /// The type of the values the table maps to.
    public let dtype: DType

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        var types: [DType] = []
        if try reader.ints("values_int64s") != nil { types.append(.int64) }
        if try reader.floats("values_floats") != nil { types.append(.float) }
        if try reader.strings("values_strings") != nil { types.append(.string) }
        if let tensor = try reader.tensor("values_tensor") { types.append(tensor.dtype) }
        guard types.count == 1 else { throw reader.error("exactly one values_* attribute must be set, found \(types.count)") }
        dtype = types[0]
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: dtype, shape: inputs[input: 0]?.shape)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { .zero }
}

/// `ai.onnx.ml.TreeEnsemble`: sums of leaf weights from decision trees, [N, F] → [N, n_targets].
///
/// The path through each tree depends on the data: uncounted.
public struct TreeEnsemble: OpSchema {
    /// `n_targets`; `nil` leaves the output width unknown.
    public let targets: Int?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        targets = try reader.int("n_targets")
        if let targets, targets <= 0 { throw reader.error("n_targets must be positive, got \(targets)") }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        guard let s = x?.shape else { return [ValueFact(dtype: x?.dtype, shape: nil)] }
        guard s.rank == 2 else { throw reader.error("the input must have rank 2, got \(s.rank)") }
        return [ValueFact(dtype: x?.dtype, shape: Shape([s.dims[0], targets.map(Dim.known) ?? .unknown]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}
