/// How a convolution or pooling window is padded (`auto_pad`).
public enum AutoPad: String, Sendable {
    case notSet = "NOTSET", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER", valid = "VALID"

    init(_ reader: AttributeReader) throws(ModelError) {
        let text = try reader.string("auto_pad", default: "NOTSET")
        guard let value = AutoPad(rawValue: text) else { throw reader.error("unknown auto_pad '\(text)'") }
        self = value
    }
}

/// The sliding-window geometry shared by Conv and the pooling operators.
public struct Window: Sendable, Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// Begin pads for every spatial axis, then end pads.
    public var pads: [Int]
    public var autoPad: AutoPad
    public var ceilMode: Bool

    /// Reads `strides`, `dilations`, `pads`, `auto_pad` for `kernel`.
    init(kernel: [Int], reader: AttributeReader, ceilMode: Bool = false) throws(ModelError) {
        let n = kernel.count
        self.kernel = kernel
        strides = try reader.ints("strides") ?? Array(repeating: 1, count: n)
        dilations = try reader.ints("dilations") ?? Array(repeating: 1, count: n)
        pads = try reader.ints("pads") ?? Array(repeating: 0, count: 2 * n)
        autoPad = try AutoPad(reader)
        self.ceilMode = ceilMode
        guard strides.count == n, dilations.count == n, pads.count == 2 * n else {
            throw reader.error("window attributes do not match the kernel's \(n) spatial axes")
        }
        // Bounded so that window arithmetic on them cannot overflow.
        let limit = 1 << 31
        guard kernel.allSatisfy({ $0 > 0 && $0 < limit }), strides.allSatisfy({ $0 > 0 && $0 < limit }),
              dilations.allSatisfy({ $0 > 0 && $0 < limit }), pads.allSatisfy({ $0 >= 0 && $0 < limit }) else {
            throw reader.error("kernel, strides and dilations must be positive and pads non-negative (all below 2^31)")
        }
    }

    /// Output size of each spatial axis for input sizes `spatial`.
    public func outputSpatial(_ spatial: [Dim]) -> [Dim] {
        spatial.enumerated().map { i, dim in
            guard let size = dim.value, size < 1 << 40 else {
                // A symbolic size survives only where the window keeps it: SAME padding with stride 1.
                return (autoPad == .sameUpper || autoPad == .sameLower) && strides[i] == 1 ? dim : .unknown
            }
            let extent = (kernel[i] - 1) * dilations[i] + 1
            let stride = strides[i]
            switch autoPad {
            case .sameUpper, .sameLower:
                return .known((size + stride - 1) / stride)
            case .valid:
                return .known(size < extent ? 0 : (size - extent) / stride + 1)
            case .notSet:
                let padded = size + pads[i] + pads[i + kernel.count]
                guard padded >= extent else { return .known(0) }
                if ceilMode {
                    var out = (padded - extent + stride - 1) / stride + 1
                    // The last window must start inside the input or its begin padding.
                    if (out - 1) * stride >= size + pads[i] { out -= 1 }
                    return .known(out)
                }
                return .known((padded - extent) / stride + 1)
            }
        }
    }
}

/// `Conv`: N-D convolution with groups, dilation, stride and padding.
public struct Conv: OpSchema {
    public let group: Int
    /// `nil` until the weight's shape is known, when `kernel_shape` is absent.
    let kernelShape: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        group = try reader.int("group", default: 1)
        kernelShape = try reader.ints("kernel_shape")
        guard group > 0 else { throw reader.error("group must be positive") }
        try reader.expectInputs(2...3)
    }

    /// The window for a weight of shape `weight` (its kernel size when `kernel_shape` is absent).
    public func window(weight: Shape?) throws(ModelError) -> Window? {
        let kernel = kernelShape ?? weight?.values.map { Array($0.dropFirst(2)) }
        guard let kernel else { return nil }
        return try Window(kernel: kernel, reader: reader)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0], w = inputs[input: 1]
        let dtype = x?.dtype ?? w?.dtype
        guard let xs = x?.shape, xs.rank >= 3 else { return [ValueFact(dtype: dtype, shape: nil)] }
        let outChannels: Dim = w?.shape?.dims.first ?? .unknown
        if let ws = w?.shape, ws.rank != xs.rank {
            throw reader.error("weight rank \(ws.rank) does not match input rank \(xs.rank)")
        }
        if let c = xs.dims[1].value, let perGroup = w?.shape?.dims[1].value, c != (Count.product(perGroup, group) ?? -1) {
            throw reader.error("input has \(c) channels but the weight expects \(perGroup) × \(group) groups")
        }
        guard let window = try window(weight: w?.shape) else {
            return [ValueFact(dtype: dtype, shape: Shape([xs.dims[0], outChannels] + Array(repeating: Dim.unknown, count: xs.rank - 2)))]
        }
        guard window.kernel.count == xs.rank - 2 else { throw reader.error("kernel has \(window.kernel.count) axes, input \(xs.rank - 2)") }
        return [ValueFact(dtype: dtype, shape: Shape([xs.dims[0], outChannels] + window.outputSpatial(Array(xs.dims.dropFirst(2)))))]
    }

    /// MACs = N · M · ∏ output spatial · (C / group) · ∏ kernel; each bias adds one FLOP per output.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let w = inputs[input: 1]?.shape?.values, let out = outputs.first?.elementCount else { return nil }
        guard let perOutput = Count.product(Array(w.dropFirst())) else { return nil }
        let hasBias = inputs[input: 2] != nil
        guard let macs = Count.product(out, perOutput) else { return nil }
        return .multiplyAccumulate(macs, plus: hasBias ? out : 0)
    }
}

/// `ConvTranspose`: the gradient of Conv, used for upsampling.
public struct ConvTranspose: OpSchema {
    public let group: Int
    let kernelShape: [Int]?
    let outputPadding: [Int]?
    let outputShape: [Int]?
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        group = try reader.int("group", default: 1)
        kernelShape = try reader.ints("kernel_shape")
        outputPadding = try reader.ints("output_padding")
        outputShape = try reader.ints("output_shape")
        guard group > 0 else { throw reader.error("group must be positive") }
        try reader.expectInputs(2...3)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0], w = inputs[input: 1]
        let dtype = x?.dtype ?? w?.dtype
        guard let xs = x?.shape, xs.rank >= 3 else { return [ValueFact(dtype: dtype, shape: nil)] }
        let spatialRank = xs.rank - 2
        if let ws = w?.shape, ws.rank != xs.rank {
            throw reader.error("weight rank \(ws.rank) does not match input rank \(xs.rank)")
        }
        let outChannels: Dim = w?.shape.map { $0.dims[1] * .known(group) } ?? .unknown
        let kernel = kernelShape ?? w?.shape?.values.map { Array($0.dropFirst(2)) }
        guard let kernel, kernel.count == spatialRank else {
            return [ValueFact(dtype: dtype, shape: Shape([xs.dims[0], outChannels] + Array(repeating: Dim.unknown, count: spatialRank)))]
        }
        let window = try Window(kernel: kernel, reader: reader)
        let padding = outputPadding ?? Array(repeating: 0, count: spatialRank)
        guard padding.count == spatialRank, padding.allSatisfy({ $0 >= 0 && $0 < 1 << 31 }) else {
            throw reader.error("output_padding must have one small non-negative value per spatial axis")
        }
        var spatial: [Dim] = []
        for i in 0..<spatialRank {
            if let outputShape, outputShape.count >= spatialRank {
                let size = outputShape[outputShape.count - spatialRank + i]
                spatial.append(size >= 0 ? .known(size) : .unknown)
                continue
            }
            guard let size = xs.dims[2 + i].value, size >= 1, size < 1 << 40 else { spatial.append(.unknown); continue }
            switch window.autoPad {
            case .sameUpper, .sameLower:
                spatial.append(Count.product(size, window.strides[i]).map(Dim.known) ?? .unknown)
            default:
                let extent = (kernel[i] - 1) * window.dilations[i] + 1
                let pads = window.autoPad == .valid ? 0 : window.pads[i] + window.pads[i + spatialRank]
                // Bounded operands: stride < 2^31 and size < 2^40 would overflow only in the product.
                guard let grown = Count.product(window.strides[i], size - 1) else { spatial.append(.unknown); continue }
                let out = grown + padding[i] + extent - pads
                spatial.append(out >= 0 ? .known(out) : .unknown)
            }
        }
        return [ValueFact(dtype: dtype, shape: Shape([xs.dims[0], outChannels] + spatial))]
    }

    /// Every input element is multiplied into a kernel-sized patch of each
    /// output channel of its group: MACs = N · C · ∏ input spatial · (M / group) · ∏ kernel.
    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let inputCount = inputs[input: 0]?.elementCount, let w = inputs[input: 1]?.shape?.values,
              let out = outputs.first?.elementCount,
              let perInput = Count.product(Array(w.dropFirst())),
              let macs = Count.product(inputCount, perInput) else { return nil }
        let hasBias = inputs[input: 2] != nil
        return .multiplyAccumulate(macs, plus: hasBias ? out : 0)
    }
}
