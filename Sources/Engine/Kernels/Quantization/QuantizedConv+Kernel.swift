import ModelCore

/// ConvInteger (int32 output) and QLinearConv (requantised to the output zero
/// point's type): the operands less their zero points go through the float32
/// Conv kernel (see `QuantizedOperands` for when its sums are exact); the
/// weight's scale and zero point are per tensor or per output channel.
struct QuantizedConvKernel: Kernel {
    let requantized: Bool
    let convolution: ConvKernel

    init(_ schema: QuantizedConv, _ setup: KernelSetup) throws(ModelError) {
        requantized = schema.requantized
        convolution = try ConvKernel(schema.convolution, setup)
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let (wIndex, xZeroIndex, wZeroIndex) = requantized ? (3, 2, 5) : (1, 2, 3)
        let x = try requiredInput(inputs, 0, "input x"), w = try requiredInput(inputs, wIndex, "weight w")
        guard let channels = w.shape.first, channels > 0 else { throw ModelError(.invalidGraph, "the weight has no output channels") }
        let xZero = optionalInput(inputs, xZeroIndex), wZero = optionalInput(inputs, wZeroIndex)
        try QuantizedOperands.checkGroups(xZero, [], "x")
        try QuantizedOperands.checkGroups(wZero, [channels], "w")
        let centredX = try QuantizedOperands.centred(x, zeroPoint: xZero, inner: 1, "x")
        let centredW = try QuantizedOperands.centred(w, zeroPoint: wZero, inner: w.count / channels, "w")
        var bias: EngineTensor?
        if requantized, let b = optionalInput(inputs, 8) {
            guard b.dtype == .int32, b.count == channels else { throw ModelError(.invalidGraph, "the bias must be \(channels) int32 values, got \(b.dtype) \(b.shape)") }
            bias = try EngineTensor(floats: b.elements(Int32.self).map { Float($0) }, shape: [channels])
        }
        guard let sums = try convolution.run([centredX, centredW, bias], context).first ?? nil else {
            throw ModelError(.internal, "internal: Conv gave no output")
        }
        guard requantized else { return [try QuantizedOperands.int32(sums)] }
        let xScale = try QuantizedOperands.scales(try requiredInput(inputs, 1, "x_scale"), groups: 1, "x_scale")[0]
        let wScale = try QuantizedOperands.scales(try requiredInput(inputs, 4, "w_scale"), groups: channels, "w_scale")
        let yScale = try QuantizedOperands.scales(try requiredInput(inputs, 6, "y_scale"), groups: 1, "y_scale")[0]
        let yZero = try requiredInput(inputs, 7, "y_zero_point")
        let plane = max(sums.shape.dropFirst(2).reduce(1, *), 1)
        return [try QuantizedOperands.requantize(sums, multiplier: { i in
            xScale * wScale[wScale.count == 1 ? 0 : (i / plane) % channels] / yScale
        }, zeroPoint: yZero)]
    }
}

extension QuantizedConv: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try QuantizedConvKernel(self, setup) }
}
