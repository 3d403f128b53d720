import ModelCore

/// com.microsoft RotaryEmbedding, float32: each head's leading R features
/// rotated in pairs by the angles of the token's position, the rest copied.
/// Positions are `position_ids` (B, S), or one offset (1) that the sequence
/// counts up from. Packed batching is refused.
struct ContribRotaryEmbeddingKernel: Kernel {
    let schema: ContribRotaryEmbedding

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "RotaryEmbedding input")
        let cos = try floatInput(inputs, 2, "RotaryEmbedding cos_cache"), sin = try floatInput(inputs, 3, "RotaryEmbedding sin_cache")
        guard cos.shape.count == 2, cos.shape == sin.shape, cos.shape[1] > 0 else {
            throw ModelError(.invalidGraph, "RotaryEmbedding caches must be (M, R/2) alike, got \(cos.shape) and \(sin.shape)")
        }
        let (maxPosition, half) = (cos.shape[0], cos.shape[1])
        let rotated = schema.rotaryDim > 0 ? schema.rotaryDim : 2 * half
        guard rotated / 2 <= half else { throw ModelError(.invalidGraph, "RotaryEmbedding rotary_embedding_dim \(rotated) exceeds the caches' \(2 * half)") }
        // (batch, heads, length, head size) and the strides of a head and a token in the input.
        let batch: Int, heads: Int, length: Int, headSize: Int, headStride: Int, tokenStride: Int
        switch x.shape.count {
        case 3:
            (batch, length) = (x.shape[0], x.shape[1])
            headSize = schema.numHeads > 0 ? x.shape[2] / max(schema.numHeads, 1) : rotated
            guard headSize > 0, x.shape[2] % headSize == 0 else {
                throw ModelError(.invalidGraph, "RotaryEmbedding hidden size \(x.shape[2]) does not split into heads of \(headSize)")
            }
            (heads, headStride, tokenStride) = (x.shape[2] / headSize, headSize, x.shape[2])
        case 4:
            (batch, heads, length, headSize) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            (headStride, tokenStride) = (length * headSize, headSize)
        default:
            throw ModelError(.invalidGraph, "RotaryEmbedding input must have rank 3 or 4, got \(x.shape)")
        }
        guard rotated <= headSize else { throw ModelError(.invalidGraph, "RotaryEmbedding rotates \(rotated) features of heads of \(headSize)") }
        let ids = try ShapeKernels.integers(try requiredInput(inputs, 1, "RotaryEmbedding position_ids"), "RotaryEmbedding position_ids")
        guard ids.count == batch * length || ids.count == 1 else {
            throw ModelError(.invalidGraph, "RotaryEmbedding position_ids must hold \(batch * length) positions or one offset, got \(ids.count)")
        }
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let (from, to, c, s) = (x.floats, output.floats, cos.floats, sin.floats)
        let pairs = rotated / 2, interleaved = schema.interleaved
        for b in 0..<batch {
            for t in 0..<length {
                let position = ids.count == 1 ? ids[0] + t : ids[b * length + t]
                guard position >= 0 && position < maxPosition else {
                    throw ModelError(.invalidGraph, "RotaryEmbedding position \(position) is outside the caches' \(maxPosition) positions")
                }
                for h in 0..<heads {
                    let start = b * heads * length * headSize + h * headStride + t * tokenStride
                    for i in 0..<pairs {
                        let (first, second) = interleaved ? (start + 2 * i, start + 2 * i + 1) : (start + i, start + i + pairs)
                        let (cosine, sine) = (c[position * half + i], s[position * half + i])
                        to[first] = from[first] * cosine - from[second] * sine
                        to[second] = from[second] * cosine + from[first] * sine
                    }
                    for d in rotated..<headSize { to[start + d] = from[start + d] }
                }
            }
        }
        return [output]
    }
}

extension ContribRotaryEmbedding: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ContribRotaryEmbeddingKernel(schema: self) }
}
