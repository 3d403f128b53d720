/// onnxruntime's `Attention` (`com.microsoft`): multi-head attention with its
/// input projection, as the transformer optimizer fuses BERT and GPT-2 layers.
///
/// Inputs: input (B, S, E), the packed Q/K/V weight (E, q + k + v), its bias,
/// a mask, the cache `past` (2, B, H, P, D), an attention bias and, with
/// `past_present_share_buffer`, the past length as a scalar. Outputs: output
/// (B, S, v) and `present` (2, B, H, P + S, D), or the shape of `past` when
/// the buffer is shared. Q, K and V sizes come from `qkv_hidden_sizes`, else
/// the weight's width split in three.
///
/// Cost: the projection, B · S · E · (q + k + v) MACs (+1 FLOP per projected
/// element for the bias), then the attention core as `AttentionCore` counts
/// it over T = P + S keys, masked when `unidirectional` or a mask or bias is
/// given; with `do_rotary`, 3 FLOPs per rotated element of Q and K. With a
/// shared buffer and a past length that is not a known constant, the node
/// is left uncounted.
public struct ProjectedAttention: OpSchema {
    public let numHeads: Int
    /// Whether each token attends only to the tokens before it (GPT-2).
    public let unidirectional: Bool
    /// `qkv_hidden_sizes`, when given.
    public let hiddenSizes: [Int]?
    /// Whether `past` and `present` are one buffer of the maximum length.
    public let sharedBuffer: Bool
    /// `rotary_embedding_dim` when `do_rotary` is set (0: the head size); `nil` without rotary embedding.
    public let rotaryDim: Int?
    /// The scores' scale (`scale`); 0 means 1/√(head size).
    public let scale: Float
    /// What a masked-out score gets added (`mask_filter_value`, default −10000).
    public let maskFilterValue: Float
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        let shared = try SharedAttentionAttributes(reader)
        (numHeads, scale, maskFilterValue, unidirectional) = (shared.numHeads, shared.scale, shared.maskFilterValue, shared.unidirectional)
        hiddenSizes = try reader.ints("qkv_hidden_sizes")
        if let sizes = hiddenSizes {
            guard sizes.count == 3, sizes.allSatisfy({ $0 > 0 && $0 % shared.numHeads == 0 }) else {
                throw reader.error("qkv_hidden_sizes must be 3 positive multiples of num_heads \(shared.numHeads), got \(sizes)")
            }
            guard sizes[0] == sizes[1] else { throw reader.error("Q and K hidden sizes differ: \(sizes[0]) and \(sizes[1])") }
        }
        sharedBuffer = try reader.int("past_present_share_buffer", default: 0) != 0
        let rotary = try reader.int("do_rotary", default: 0) != 0
        let dim = try reader.int("rotary_embedding_dim", default: 0)
        guard dim >= 0 else { throw reader.error("rotary_embedding_dim must not be negative, got \(dim)") }
        rotaryDim = rotary ? dim : nil
        try reader.expectInputs(2...7)
    }

    /// The sizes the node works with.
    struct Geometry {
        var batch = Dim.unknown, length = Dim.unknown, inputHidden = Dim.unknown
        /// Hidden sizes of Q (and K) and of V.
        var qHidden = Dim.unknown, vHidden = Dim.unknown
        var past = Dim.unknown
    }

    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> Geometry {
        var g = Geometry()
        if let x = inputs[input: 0]?.shape {
            guard x.rank == 3 else { throw reader.error("input must have rank 3, got \(x.rank)") }
            (g.batch, g.length, g.inputHidden) = (x.dims[0], x.dims[1], x.dims[2])
        }
        var width = Dim.unknown
        if let w = inputs[input: 1]?.shape {
            guard w.rank == 2 else { throw reader.error("weights must have rank 2, got \(w.rank)") }
            g.inputHidden = try SequenceModels.same(g.inputHidden, w.dims[0], "input hidden size", reader)
            width = w.dims[1]
        }
        if let sizes = hiddenSizes {
            if let w = width.value, w != sizes.reduce(0, +) {
                throw reader.error("qkv_hidden_sizes \(sizes) do not add up to the weights' width \(w)")
            }
            (g.qHidden, g.vHidden) = (.known(sizes[0]), .known(sizes[2]))
        } else {
            g.qHidden = try SequenceModels.share(width, .known(3), "the weights' width", reader)
            g.vHidden = g.qHidden
        }
        _ = try SequenceModels.share(g.qHidden, .known(numHeads), "Q hidden size", reader)
        _ = try SequenceModels.share(g.vHidden, .known(numHeads), "V hidden size", reader)
        if let past = inputs[input: 4]?.shape {
            guard past.rank == 5 else { throw reader.error("past must have rank 5, got \(past.rank)") }
            // One cache holds K and V, so they must be the same size.
            if let q = g.qHidden.value, let v = g.vHidden.value, q != v {
                throw reader.error("with past, Q, K and V hidden sizes must be equal, got \(q) and \(v)")
            }
            g.batch = try SequenceModels.same(g.batch, past.dims[1], "batch size", reader)
            _ = try SequenceModels.same(.known(numHeads), past.dims[2], "num_heads", reader)
            _ = try SequenceModels.same(g.qHidden.dividedExactly(by: .known(numHeads)), past.dims[4], "head size", reader)
            // A shared buffer holds the maximum length; the past length is then a separate scalar input.
            g.past = sharedBuffer ? try Miscellaneous.size(inputs[input: 6], "past_sequence_length", reader) : past.dims[3]
        } else {
            g.past = .known(0)
        }
        return g
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let g = try geometry(inputs)
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        let heads = Dim.known(numHeads)
        let present = sharedBuffer ? inputs[input: 4]?.shape
            : Shape([.known(2), g.batch, heads, g.past + g.length, g.qHidden.dividedExactly(by: heads)])
        return [ValueFact(dtype: dtype, shape: Shape([g.batch, g.length, g.vHidden])), ValueFact(dtype: dtype, shape: present)]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let g = try? geometry(inputs), let sizes = Shape([g.batch, g.length, g.inputHidden, g.qHidden, g.vHidden]).values,
              let projected = SequenceModels.total([sizes[3], sizes[3], sizes[4]]),
              let rows = Count.product(sizes[0], sizes[1]), let projection = Count.product(rows, sizes[2], projected) else { return nil }
        let heads = Dim.known(numHeads), headSize = g.qHidden.dividedExactly(by: heads)
        let core = AttentionCore(batch: g.batch, heads: heads, queries: g.length, keys: g.past + g.length,
                                 headSize: headSize, valueHeadSize: g.vHidden.dividedExactly(by: heads),
                                 masked: unidirectional || inputs[input: 3] != nil || inputs[input: 5] != nil)
        let bias = inputs[input: 2] != nil ? Count.product(rows, projected) : 0
        var rotation: Int? = 0
        if let rotaryDim {
            // Q and K: every head rotates its leading rotary_embedding_dim features.
            rotation = headSize.value.flatMap { Count.product(rows, numHeads, 2, 3, rotaryDim == 0 ? $0 : min(rotaryDim, $0)) }
        }
        guard let extra = SequenceModels.total([bias, rotation]) else { return nil }
        return core.cost(plusMACs: projection, plusFLOPs: extra)
    }

    /// The packed weight and its bias are learned; the input, mask, cache and attention bias are not.
    public func holdsParameters(input index: Int) -> Bool { index == 1 || index == 2 }
}
