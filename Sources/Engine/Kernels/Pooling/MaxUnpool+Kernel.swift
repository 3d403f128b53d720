import ModelCore

/// MaxUnpool: a zero tensor with each value of X written at the flat
/// position its index names (as MaxPool's indices give them).
struct MaxUnpoolKernel: Kernel {
    let schema: MaxUnpool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X"), indices = try requiredInput(inputs, 1, "input I")
        guard indices.count == x.count else {
            throw ModelError(.invalidGraph, "MaxUnpool has \(indices.count) indices for \(x.count) values")
        }
        let rank = schema.kernel.count
        guard x.shape.count == rank + 2 else {
            throw ModelError(.invalidGraph, "MaxUnpool's \(rank)-D kernel needs a rank-\(rank + 2) input, got \(x.shape)")
        }
        // The indices are flat positions in the unpooled shape the window
        // gives; an output_shape only places that shape's positions in a larger tensor.
        var unpooled = Array(x.shape.prefix(2))
        for a in 0..<rank {
            let (grown, overflow) = (x.shape[2 + a] - 1).multipliedReportingOverflow(by: schema.strides[a])
            guard !overflow, grown < 1 << 40, schema.kernel[a] < 1 << 40 else {
                throw ModelError(.limit, "MaxUnpool output axis \(a) is too large")
            }
            // Pads are non-negative, so the subtraction cannot overflow.
            let size = grown + schema.kernel[a] - schema.pads[a] - schema.pads[a + rank]
            guard size >= 0 else { throw ModelError(.invalidGraph, "MaxUnpool output axis \(a) would be negative") }
            unpooled.append(size)
        }
        var shape = unpooled
        if let given = optionalInput(inputs, 2) {
            shape = try integerValues(given, "output_shape")
            guard shape.count == x.shape.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw ModelError(.invalidGraph, "output_shape \(shape) does not fit an input of rank \(x.shape.count)")
            }
        }
        var output = try ElementOutput(dtype: x.dtype, shape: shape)
        output.fill(try FillElement(zeroOf: x.dtype), at: 0, count: output.count)
        let positions = try integerValues(indices, "indices")
        let unpooledCount = try ShapeKernels.count(unpooled)
        for (i, position) in positions.enumerated() {
            guard position >= 0, position < unpooledCount else {
                throw ModelError(.invalidGraph, "MaxUnpool index \(position) lies outside the \(unpooled) unpooled tensor")
            }
            var rest = position, target = 0, scale = 1
            for a in stride(from: shape.count - 1, through: 0, by: -1) {
                let coordinate = rest % unpooled[a]
                rest /= unpooled[a]
                guard coordinate < shape[a] else {
                    throw ModelError(.invalidGraph, "MaxUnpool index \(position) lies outside output_shape \(shape)")
                }
                target += coordinate * scale
                scale *= shape[a]
            }
            output.copy(from: x, i, to: target, count: 1)
        }
        return [output.tensor]
    }
}

extension MaxUnpool: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { MaxUnpoolKernel(schema: self) }
}
