import ModelCore

/// com.microsoft DynamicQuantizeMatMul: A quantised as DynamicQuantizeLinear
/// does, the integer product with B less the zero points, then
/// `sum · a_scale · b_scale[column] + bias[column]` in float32.
struct DynamicQuantizeMatMulKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "DynamicQuantizeMatMul A"), b = try requiredInput(inputs, 1, "DynamicQuantizeMatMul B")
        let quantized = try DynamicQuantizeKernel().run([a], context)
        guard let aq = quantized[0], let aScale = quantized[1]?.floats.first, let aZero = quantized[2] else {
            throw ModelError(.internal, "internal: DynamicQuantizeLinear gave no output")
        }
        let sums = try QuantizedOperands.product(aq, zeroPoint: aZero, b, zeroPoint: optionalInput(inputs, 3), context)
        let columns = b.shape.count > 1 ? b.shape[b.shape.count - 1] : 1
        let bScale = try QuantizedOperands.scales(try requiredInput(inputs, 2, "b_scale"), groups: columns, "b_scale")
        let bias = try optionalInput(inputs, 4).map { t throws(ModelError) in try QuantizedOperands.scales(t, groups: columns, "bias") }
        if let bias, bias.count != columns { throw ModelError(.invalidGraph, "DynamicQuantizeMatMul bias must hold \(columns) values, got \(bias.count)") }
        let y = sums.floats
        for i in 0..<sums.count {
            let column = i % max(columns, 1)
            y[i] = y[i] * (aScale * bScale[bScale.count == 1 ? 0 : column]) + (bias?[column] ?? 0)
        }
        return [sums]
    }
}

extension DynamicQuantizeMatMul: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { DynamicQuantizeMatMulKernel() }
}
