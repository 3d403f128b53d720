import ModelCore

/// MatMulNBits, float32: B's blocks dequantised into a float32 (N, K)
/// weight, (q − zero point) · scale, then A · Wᵀ through the engine's
/// batched product and the optional bias. Constant B, scales and zero points
/// (the usual case: they are initializers) are dequantised once, when the
/// plan is made. Bit widths that do not divide a byte and `g_idx` are refused.
struct MatMulNBitsKernel: Kernel {
    let schema: MatMulNBits
    /// The weight dequantised at plan time.
    let constantWeight: EngineTensor?

    init(_ schema: MatMulNBits, _ setup: KernelSetup) throws(ModelError) {
        self.schema = schema
        guard 8 % schema.bits == 0 else {
            throw ModelError(.unsupported(op: "com.microsoft.MatMulNBits", dtype: nil), "the engine runs MatMulNBits with 2, 4 or 8 bits, not \(schema.bits)")
        }
        guard setup.node.inputs.count <= 4 || setup.node.inputs[4].isEmpty else {
            throw ModelError(.unsupported(op: "com.microsoft.MatMulNBits", dtype: nil), "the engine runs MatMulNBits without g_idx")
        }
        let c = setup.constants
        let zeroPointsGiven = setup.node.inputs.count > 3 && !setup.node.inputs[3].isEmpty
        if let b = c[1], let scales = c[2], !zeroPointsGiven || c[3] != nil {
            constantWeight = try Self.dequantized(schema, b, scales, c[3])
        } else {
            constantWeight = nil
        }
    }

    /// The float32 weight (N, K) that B, its scales and zero points stand for.
    static func dequantized(_ schema: MatMulNBits, _ b: EngineTensor, _ scales: EngineTensor, _ zeroPoints: EngineTensor?) throws(ModelError) -> EngineTensor {
        let (k, n, bits, blockSize) = (schema.inputFeatures, schema.outputFeatures, schema.bits, schema.blockSize)
        let blocks = (k + blockSize - 1) / blockSize, blobBytes = blockSize * bits / 8
        guard b.dtype == .uint8, b.count == n * blocks * blobBytes else {
            throw ModelError(.invalidGraph, "MatMulNBits B must be uint8 (\(n), \(blocks), \(blobBytes)), got \(b.dtype) \(b.shape)")
        }
        guard scales.dtype == .float, scales.count == n * blocks else {
            throw ModelError(.invalidGraph, "MatMulNBits scales must be float32 with \(n * blocks) values, got \(scales.dtype) \(scales.shape)")
        }
        let zeroRowBytes = (blocks * bits + 7) / 8
        if let zeroPoints {
            let packed = zeroPoints.dtype == .uint8 && zeroPoints.count == n * zeroRowBytes
            guard packed || (zeroPoints.dtype == .float && zeroPoints.count == n * blocks) else {
                throw ModelError(.invalidGraph, "MatMulNBits zero_points must be uint8 (\(n), \(zeroRowBytes)) or float32 (\(n), \(blocks)), got \(zeroPoints.dtype) \(zeroPoints.shape)")
            }
        }
        let weight = try EngineTensor(dtype: .float, shape: [n, k])
        let (packed, scale, to) = (b.elements(UInt8.self), scales.floats, weight.floats)
        let mask = (1 << bits) - 1, middle = Float(1 << (bits - 1))
        /// The `index`-th `bits`-wide value of `bytes` from `start`, low bits first.
        func value(_ bytes: UnsafeMutableBufferPointer<UInt8>, _ start: Int, _ index: Int) -> Int {
            Int(bytes[start + index * bits / 8] >> UInt8(index * bits % 8)) & mask
        }
        for row in 0..<n {
            for block in 0..<blocks {
                let s = scale[row * blocks + block]
                var zero = middle
                if let zeroPoints {
                    zero = zeroPoints.dtype == .float ? zeroPoints.floats[row * blocks + block]
                        : Float(value(zeroPoints.elements(UInt8.self), row * zeroRowBytes, block))
                }
                let start = (row * blocks + block) * blobBytes
                for i in 0..<min(blockSize, k - block * blockSize) {
                    to[row * k + block * blockSize + i] = (Float(value(packed, start, i)) - zero) * s
                }
            }
        }
        return weight
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "MatMulNBits A")
        guard a.shape.last == schema.inputFeatures else {
            throw ModelError(.invalidGraph, "MatMulNBits A must end in K = \(schema.inputFeatures), got \(a.shape)")
        }
        let weight: EngineTensor
        if let constantWeight {
            weight = constantWeight
        } else {
            weight = try Self.dequantized(schema, try requiredInput(inputs, 1, "MatMulNBits B"), try requiredInput(inputs, 2, "MatMulNBits scales"),
                                          optionalInput(inputs, 3))
        }
        var y = try batchedProduct(a, weight, transB: true, context)
        if let bias = optionalInput(inputs, 5) {
            guard bias.dtype == .float, bias.shape == [schema.outputFeatures] else {
                throw ModelError(.invalidGraph, "MatMulNBits bias must be float32 (\(schema.outputFeatures)), got \(bias.dtype) \(bias.shape)")
            }
            y = try broadcastBinary(y, bias, .float, context) { (x: Float, b: Float) in x + b }
        }
        return [y]
    }
}

extension MatMulNBits: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try MatMulNBitsKernel(self, setup) }
}
