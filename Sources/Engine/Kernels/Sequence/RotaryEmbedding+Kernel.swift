import ModelCore

/// RotaryEmbedding (opset 23) in float32: each head's leading R features form
/// R/2 pairs, either the two halves (i, i + R/2) or adjacent features (2i,
/// 2i + 1) when interleaved, and pair i of position p turns by the angle
/// whose cosine and sine are the caches' entry (p, i). float16 and bfloat16
/// inputs are widened to float32 and the output narrowed back.
struct RotaryEmbeddingKernel: Kernel {
    let schema: RotaryEmbedding

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let input = try requiredInput(inputs, 0, "RotaryEmbedding input")
        let cosine = try requiredInput(inputs, 1, "RotaryEmbedding cos_cache"), sine = try requiredInput(inputs, 2, "RotaryEmbedding sin_cache")
        guard [.float, .float16, .bfloat16, .double].contains(input.dtype) else {
            throw ModelError(.unsupported(op: nil, dtype: input.dtype), "RotaryEmbedding runs float, float16, bfloat16 and double, not \(input.dtype)")
        }
        let dims = input.shape
        guard dims.count == 3 || dims.count == 4 else { throw ModelError(.invalidGraph, "RotaryEmbedding: input must have rank 3 or 4, got \(dims)") }
        let (batch, length) = (dims[0], dims.count == 4 ? dims[2] : dims[1])
        let heads: Int
        if dims.count == 4 {
            heads = dims[1]
        } else {
            guard let numHeads = schema.numHeads, dims[2] % numHeads == 0 else {
                throw ModelError(.invalidGraph, "RotaryEmbedding: a 3-D input \(dims) needs num_heads dividing its hidden size")
            }
            heads = numHeads
        }
        let size = dims.count == 4 ? dims[3] : (heads > 0 ? dims[2] / heads : 0)
        let rotated = schema.rotaryDim == 0 ? size : schema.rotaryDim, half = rotated / 2
        guard rotated <= size else { throw ModelError(.invalidGraph, "RotaryEmbedding: rotary_embedding_dim \(rotated) exceeds the head size \(size)") }
        guard cosine.shape == sine.shape, cosine.shape.last == half else {
            throw ModelError(.invalidGraph, "RotaryEmbedding: caches \(cosine.shape) and \(sine.shape) must end in \(half) angles")
        }
        // The cache row of each (batch item, position): a looked-up position id, or the item's own row.
        var cacheRow: [Int]
        if let positions = optionalInput(inputs, 3) {
            guard cosine.shape.count == 2 else { throw ModelError(.invalidGraph, "RotaryEmbedding: with position_ids the caches must be 2-D, got \(cosine.shape)") }
            cacheRow = try ShapeKernels.integers(positions, "RotaryEmbedding position_ids")
            guard positions.shape == [batch, length] else {
                throw ModelError(.invalidGraph, "RotaryEmbedding: position_ids \(positions.shape) must be [\(batch), \(length)]")
            }
            for p in cacheRow where p < 0 || p >= cosine.shape[0] {
                throw ModelError(.invalidGraph, "RotaryEmbedding: position \(p) is outside the caches' \(cosine.shape[0]) rows")
            }
        } else {
            guard cosine.shape == [batch, length, half] else {
                throw ModelError(.invalidGraph, "RotaryEmbedding: without position_ids the caches must be [\(batch), \(length), \(half)], got \(cosine.shape)")
            }
            cacheRow = Array(0..<(batch * length))
        }
        let x = try castTensor(input, to: .float, context: context)
        let (cos, sin) = (try castTensor(cosine, to: .float), try castTensor(sine, to: .float))
        let y = try EngineTensor(dtype: .float, shape: dims)
        let (from, to, c, s) = (x.floats.baseAddress!, y.floats.baseAddress!, cos.floats.baseAddress!, sin.floats.baseAddress!)
        to.update(from: from, count: x.count)
        let interleaved = schema.interleaved, fourD = dims.count == 4
        // Rows are heads at positions, in memory order: (b, h, p) in 4-D, (b, p, h) in 3-D.
        // The widened input and caches are not used after the loop: keep their memory alive through it.
        withExtendedLifetime((x, cos, sin)) {
            context.parallelRanges(batch * length * heads, grain: 64) { rows in
                for r in rows {
                    let (b, p) = fourD ? (r / (heads * length), r % length) : (r / (length * heads), r / heads % length)
                    let angles = cacheRow[b * length + p] * half
                    let (x, y) = (from + r * size, to + r * size)
                    for i in 0..<half {
                        let (first, second) = interleaved ? (2 * i, 2 * i + 1) : (i, i + half)
                        let (a, bb, co, si) = (x[first], x[second], c[angles + i], s[angles + i])
                        y[first] = co * a - si * bb
                        y[second] = si * a + co * bb
                    }
                }
            }
        }
        return [try castTensor(y, to: input.dtype, context: context)]
    }
}

extension RotaryEmbedding: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { RotaryEmbeddingKernel(schema: self) }
}
