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
