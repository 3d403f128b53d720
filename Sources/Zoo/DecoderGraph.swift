import ModelCore

/// Builds the graph of a decoder-only language model.
///
/// Its activations have symbolic dimensions (`batch`, `seq`, `past`), so
/// unlike the image models no shape is tracked here: values are plain names
/// and the analysis' shape inference finds their shapes. Reshapes use 0 (copy
/// the input's dimension) and -1 entries, as exporters write them, so that no
/// shape has to be assembled from `Shape` nodes.
///
/// Node names follow torch.onnx: the first `MatMul` in a scope is
/// `/…/MatMul`, the next `/…/MatMul_1`.
final class DecoderGraph {
    let builder: GraphBuilder

    init(seed: UInt64) {
        builder = GraphBuilder(seed: seed)
    }

    // MARK: Nodes

    /// Appends `opType` at `scope` with `outputs` outputs (named
    /// `<node>_output_<i>` unless `names` gives them); returns their names.
    @discardableResult
    func node(_ opType: String, _ inputs: [String], _ scope: Scope, outputs: Int = 1, names: [String]? = nil,
              attributes: [Attribute] = []) -> [String] {
        let name = scope.nodeName(builder.numbered(opType, scope))
        let results = names ?? (0..<outputs).map { "\(name)_output_\($0)" }
        builder.add(node: name, opType, inputs: inputs, outputs: results, attributes: attributes)
        return results
    }

    /// A node of one output; `name` names that output (a graph output).
    func op(_ opType: String, _ inputs: [String], _ scope: Scope, name: String? = nil,
            _ attributes: [Attribute] = []) -> String {
        node(opType, inputs, scope, names: name.map { [$0] }, attributes: attributes)[0]
    }

    /// An int64 `Constant`: a scalar, or a 1-D list (axes, shapes, split sizes).
    func integers(_ values: [Int], _ scope: Scope, scalar: Bool = false) throws(ModelError) -> String {
        precondition(!scalar || values.count == 1, "a scalar constant holds one value")
        return try builder.integers(values.map { Int64($0) }, dims: scalar ? [] : [values.count], scope).name
    }

    /// A float32 scalar `Constant`.
    func scalar(_ value: Float, _ scope: Scope) throws(ModelError) -> String {
        try builder.scalar(value, scope).name
    }

    /// A float32 weight `[dims]` named by `scope` and `leaf` (`….weight`).
    func weight(_ scope: Scope, _ leaf: String, dims: [Int], _ distribution: WeightDistribution) throws(ModelError) -> String {
        try builder.weight(scope.parameterName(leaf), dims: dims, distribution)
    }

    // MARK: Layers

    /// `nn.Linear` without bias as torch.onnx writes it for a 3-D input:
    /// `MatMul(x, Transpose(W))` with `W` stored `[out, in]` as in the state dict.
    func linear(_ x: String, _ scope: Scope, in inFeatures: Int, out: Int) throws(ModelError) -> String {
        let w = try weight(scope, "weight", dims: [out, inFeatures], .fanIn(inFeatures))
        let transposed = op("Transpose", [w], scope, [Attribute(name: "perm", value: .ints([1, 0]))])
        return op("MatMul", [x, transposed], scope)
    }

    /// HF's `Conv1D` (GPT-2): `x·W + b` with `W` stored `[in, out]`.
    func conv1D(_ x: String, _ scope: Scope, in inFeatures: Int, out: Int) throws(ModelError) -> String {
        let w = try weight(scope, "weight", dims: [inFeatures, out], .fanIn(inFeatures))
        let b = try weight(scope, "bias", dims: [out], .fanIn(inFeatures))
        return op("Add", [op("MatMul", [x, w], scope), b], scope)
    }

    /// `Reshape(x, shape)` with a constant target shape (0 copies, -1 infers).
    func reshape(_ x: String, _ shape: [Int], _ scope: Scope) throws(ModelError) -> String {
        op("Reshape", [x, try integers(shape, scope)], scope)
    }

    func transpose(_ x: String, _ perm: [Int], _ scope: Scope) -> String {
        op("Transpose", [x], scope, [Attribute(name: "perm", value: .ints(perm.map(Int64.init)))])
    }

    func unsqueeze(_ x: String, axis: Int, _ scope: Scope) throws(ModelError) -> String {
        op("Unsqueeze", [x, try integers([axis], scope)], scope)
    }

    /// Element `index` of a 1-D integer tensor, as a scalar (`Gather` with a scalar index).
    func element(_ x: String, _ index: Int, _ scope: Scope) throws(ModelError) -> String {
        op("Gather", [x, try integers([index], scope, scalar: true)], scope, [Attribute(name: "axis", value: .int(0))])
    }

    // MARK: Positions and the causal mask

    /// What every layer's attention shares: the absolute positions of the new
    /// tokens and the additive causal mask.
    struct Positions {
        /// int64 `[seq]`: `past, past + 1, …, past + seq − 1`.
        var positions: String
        /// float32 `[seq, past + seq]`: 0 where query i may see key j (j ≤ past + i),
        /// the lowest float where it may not, to be added to the attention scores.
        var maskBias: String
    }

    /// Positions and mask from the shapes of `inputIDs` (`[batch, seq]`) and of
    /// a cached key (`[batch, heads, past, head_dim]`), computed in the graph.
    func positions(inputIDs: String, pastKey: String, _ scope: Scope) throws(ModelError) -> Positions {
        let seq = try element(op("Shape", [inputIDs], scope), 1, scope)
        let past = try element(op("Shape", [pastKey], scope), 2, scope)
        let zero = try integers([0], scope, scalar: true), one = try integers([1], scope, scalar: true)
        // Range(0, seq) keeps the symbol `seq` as its length; adding `past` keeps it too.
        let positions = op("Add", [op("Range", [zero, seq, one], scope), past], scope)
        let total = op("Add", [past, seq], scope)
        let keys = try unsqueeze(op("Range", [zero, total, one], scope), axis: 0, scope)
        let queries = try unsqueeze(positions, axis: 1, scope)
        let hidden = op("Cast", [op("Greater", [keys, queries], scope)], scope,
                        [Attribute(name: "to", value: .int(Int64(DType.float.rawValue)))])
        let maskBias = op("Mul", [hidden, try scalar(-Float.greatestFiniteMagnitude, scope)], scope)
        return Positions(positions: positions, maskBias: maskBias)
    }

    /// Scaled dot-product attention with the causal mask: softmax(q·kᵀ·scale +
    /// mask)·v. `q` is `[…, seq, head_dim]`; `keys` and `values` are
    /// `[…, past + seq, head_dim]`, broadcasting over `q`'s leading dims.
    func attention(_ q: String, keys: String, values: String, scale: Float, maskBias: String,
                   _ scope: Scope, rank: Int) throws(ModelError) -> String {
        var perm = Array(0..<rank)
        perm.swapAt(rank - 1, rank - 2)
        let scores = op("MatMul", [q, transpose(keys, perm, scope)], scope)
        let scaled = op("Mul", [scores, try scalar(scale, scope)], scope)
        let masked = op("Add", [scaled, maskBias], scope)
        let probabilities = op("Softmax", [masked], scope, [Attribute(name: "axis", value: .int(-1))])
        return op("MatMul", [probabilities, values], scope)
    }
}
