/// `ConvTranspose`: the gradient of Conv, used for upsampling.
public struct ConvTranspose: OpSchema {
    public let group: Int
    /// The attributes as written; each kernel checks them against the input's rank.
    public let kernelShape: [Int]?, strides: [Int]?, dilations: [Int]?, pads: [Int]?
    public let outputPadding: [Int]?
    public let outputShape: [Int]?
    /// `NOTSET`, `SAME_UPPER`, `SAME_LOWER` or `VALID`.
    public let autoPad: String
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        group = try reader.int("group", default: 1)
        kernelShape = try reader.ints("kernel_shape")
        strides = try reader.ints("strides")
        dilations = try reader.ints("dilations")
        pads = try reader.ints("pads")
        outputPadding = try reader.ints("output_padding")
        outputShape = try reader.ints("output_shape")
        autoPad = try reader.string("auto_pad", default: "NOTSET")
        guard group > 0 else { throw reader.error("group must be positive") }
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else { throw reader.error("unknown auto_pad '\(autoPad)'") }
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
