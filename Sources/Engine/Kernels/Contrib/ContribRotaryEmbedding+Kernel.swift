import ModelCore

/// com.microsoft RotaryEmbedding, float32: each head's leading R features
/// rotated in pairs by the angles of the token's position, the rest copied.
/// Positions are `position_ids` (B, S), or one offset (1) that the sequence
/// counts up from. Packed batching is refused.
struct ContribRotaryEmbeddingKernel: Kernel {
    let schema: ContribRotaryEmbedding

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try floatInput(inputs, 0, "RotaryEmbedding input")
        let rotation = try RotaryRotation(cos: try floatInput(inputs, 2, "RotaryEmbedding cos_cache"),
                                          sin: try floatInput(inputs, 3, "RotaryEmbedding sin_cache"),
                                          features: schema.rotaryDim, interleaved: schema.interleaved, "RotaryEmbedding")
        let layout: HeadLayout
        switch x.shape.count {
        case 3:
            let headSize = schema.numHeads > 0 ? x.shape[2] / max(schema.numHeads, 1) : rotation.features
            guard headSize > 0, x.shape[2] % headSize == 0 else {
                throw ModelError(.invalidGraph, "RotaryEmbedding hidden size \(x.shape[2]) does not split into heads of \(headSize)")
            }
            layout = .packed(batch: x.shape[0], length: x.shape[1], heads: x.shape[2] / headSize, headSize: headSize)
        case 4:
            let (batch, heads, length, headSize) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            layout = HeadLayout(batch: batch, heads: heads, length: length, headSize: headSize,
                                batchStride: heads * length * headSize, headStride: length * headSize, tokenStride: headSize)
        default:
            throw ModelError(.invalidGraph, "RotaryEmbedding input must have rank 3 or 4, got \(x.shape)")
        }
        let ids = try ShapeKernels.integers(try requiredInput(inputs, 1, "RotaryEmbedding position_ids"), "RotaryEmbedding position_ids")
        guard ids.count == layout.batch * layout.length || ids.count == 1 else {
            throw ModelError(.invalidGraph, "RotaryEmbedding position_ids must hold \(layout.batch * layout.length) positions or one offset, got \(ids.count)")
        }
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        output.floats.baseAddress!.update(from: x.floats.baseAddress!, count: x.count)
        try rotation.apply(output.floats.baseAddress!, layout) { b, t in ids.count == 1 ? ids[0] + t : ids[b * layout.length + t] }
        return [output]
    }
}

/// Where the heads of (batch, length) tokens lie in a float32 buffer: feature
/// `d` of head `h` of token `t` in batch `b` is at
/// `b · batchStride + h · headStride + t · tokenStride + d`.
struct HeadLayout {
    let batch: Int, heads: Int, length: Int, headSize: Int
    let batchStride: Int, headStride: Int, tokenStride: Int

    /// Tokens as rows of `heads · headSize` features side by side, `rowWidth` apart (the heads' own width by default).
    static func packed(batch: Int, length: Int, heads: Int, headSize: Int, rowWidth: Int? = nil) -> HeadLayout {
        let row = rowWidth ?? heads * headSize
        return HeadLayout(batch: batch, heads: heads, length: length, headSize: headSize,
                          batchStride: length * row, headStride: headSize, tokenStride: row)
    }
}

/// Rotary position embedding as onnxruntime's contrib operators apply it:
/// the caches hold cos and sin of M positions by R/2 angles; the leading R
/// features of each head rotate in pairs (i, i + R/2), or (2i, 2i + 1)
/// when interleaved, and the rest stay as they are.
struct RotaryRotation {
    let cos: EngineTensor, sin: EngineTensor
    /// R: the features rotated in each head.
    let features: Int
    let interleaved: Bool

    /// `features` 0 means all the caches cover (2 · R/2).
    init(cos: EngineTensor, sin: EngineTensor, features: Int, interleaved: Bool, _ op: String) throws(ModelError) {
        guard cos.shape.count == 2, cos.shape == sin.shape, cos.shape[1] > 0 else {
            throw ModelError(.invalidGraph, "\(op) caches must be (M, R/2) alike, got \(cos.shape) and \(sin.shape)")
        }
        let half = cos.shape[1]
        self.features = features > 0 ? features : 2 * half
        guard self.features / 2 <= half else { throw ModelError(.invalidGraph, "\(op) rotates \(self.features) features, beyond the caches' \(2 * half)") }
        (self.cos, self.sin, self.interleaved) = (cos, sin, interleaved)
    }

    /// Rotates, in place, every head of every token in `x`, the token at
    /// (batch b, step t) by the angles of position `position(b, t)`.
    func apply(_ x: UnsafeMutablePointer<Float>, _ layout: HeadLayout, position: (Int, Int) -> Int) throws(ModelError) {
        guard features <= layout.headSize else {
            throw ModelError(.invalidGraph, "rotary embedding of \(features) features in heads of \(layout.headSize)")
        }
        let (positions, half) = (cos.shape[0], cos.shape[1])
        let (c, s) = (cos.floats, sin.floats)
        let pairs = features / 2
        for b in 0..<layout.batch {
            for t in 0..<layout.length {
                let p = position(b, t)
                guard p >= 0 && p < positions else {
                    throw ModelError(.invalidGraph, "rotary position \(p) is outside the caches' \(positions) positions")
                }
                for h in 0..<layout.heads {
                    let head = x + b * layout.batchStride + h * layout.headStride + t * layout.tokenStride
                    for i in 0..<pairs {
                        let (first, second) = interleaved ? (2 * i, 2 * i + 1) : (i, i + pairs)
                        let (cosine, sine) = (c[p * half + i], s[p * half + i])
                        let (u, v) = (head[first], head[second])
                        head[first] = u * cosine - v * sine
                        head[second] = v * cosine + u * sine
                    }
                }
            }
        }
    }
}

extension ContribRotaryEmbedding: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { ContribRotaryEmbeddingKernel(schema: self) }
}
