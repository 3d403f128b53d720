/// `RNN`, `GRU` and `LSTM`: one recurrent layer over a whole sequence, forward, reverse or bidirectional.
///
/// Per time step, batch row and direction, the gates' input and recurrent
/// products are G · H · (I + H) MACs (G = 1, 3, 4 gates; H hidden, I input
/// size). Each hidden unit then costs, per gate, 1 FLOP to add the two
/// products, 2 for the biases when B is given, 2 for clipping when `clip` is
/// set, and its activation (Sigmoid 4, Tanh 1, … as the standalone operators);
/// GRU adds 5 (reset product, update blend), LSTM 4 (cell update, output
/// product) plus the output activation and 6 for peepholes when P is given.
/// `sequence_lens` is not looked at: the count is for the full padded length.
public struct Recurrent: OpSchema {
    /// The recurrent cell an operator computes.
    public enum Cell: Sendable {
        case rnn, gru, lstm

        /// Gates whose products the cell computes.
        var gates: Int {
            switch self {
            case .rnn: return 1
            case .gru: return 3
            case .lstm: return 4
            }
        }

        /// Activation functions per direction, in the order the `activations` attribute lists them.
        var defaultActivations: [String] {
            switch self {
            case .rnn: return ["Tanh"]
            case .gru: return ["Sigmoid", "Tanh"]
            case .lstm: return ["Sigmoid", "Tanh", "Tanh"]
            }
        }

        /// Y and Y_h, plus Y_c for LSTM.
        var maxOutputs: Int { self == .lstm ? 3 : 2 }
        /// X, W, R, B, sequence_lens, initial_h, plus initial_c and P for LSTM.
        var maxInputs: Int { self == .lstm ? 8 : 6 }
    }

    /// FLOPs per element of the activation functions the recurrent operators accept (lower-cased names).
    static let activationFLOPs: [String: Int] = [
        "relu": 1, "tanh": 1, "sigmoid": 4, "affine": 2, "leakyrelu": 2, "thresholdedrelu": 1,
        "scaledtanh": 3, "hardsigmoid": 4, "elu": 4, "softsign": 3, "softplus": 3,
    ]

    /// The cell this node computes (from its op type).
    public let cell: Cell
    /// `hidden_size`; `nil` takes it from W, R or the initial state.
    public let hiddenSize: Int?
    /// 2 for a bidirectional layer, else 1.
    public let directions: Int
    /// `layout = 1`: batch before sequence in X, Y and the states.
    public let batchFirst: Bool
    /// `direction = reverse`: a single direction that runs from the last step.
    public let reverse: Bool
    /// The activation functions, lower-cased: the cell's defaults for each direction unless `activations` names them.
    public let activations: [String]
    /// `activation_alpha` and `activation_beta`: parameters taken in order by the activations that have them.
    public let activationAlpha: [Float], activationBeta: [Float]
    /// The cell input bound (`clip`), when given.
    public let clip: Float?
    /// LSTM: the input gate is coupled to the forget gate (`input_forget`).
    public let inputForget: Bool
    /// GRU: the reset gate applies after the recurrent product (`linear_before_reset`).
    public let linearBeforeReset: Bool
    /// FLOPs of one hidden unit's elementwise work per step, for each direction, without bias, clip and peephole terms.
    let unitFLOPs: [Int]
    let clipped: Bool
    let outputCount: Int
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        switch node.opType {
        case "GRU": cell = .gru
        case "LSTM": cell = .lstm
        default: cell = .rnn
        }
        hiddenSize = try reader.int("hidden_size")
        if let hiddenSize, hiddenSize <= 0 { throw reader.error("hidden_size must be positive, got \(hiddenSize)") }
        let direction = try reader.string("direction", default: "forward")
        reverse = direction == "reverse"
        switch direction {
        case "forward", "reverse": directions = 1
        case "bidirectional": directions = 2
        default: throw reader.error("unknown direction '\(direction)'")
        }
        let layout = try reader.int("layout", default: 0)
        guard layout == 0 || layout == 1 else { throw reader.error("layout must be 0 or 1, got \(layout)") }
        batchFirst = layout == 1
        clip = node.attribute("clip") != nil ? try reader.float("clip", default: 0) : nil
        clipped = clip != nil
        inputForget = try reader.int("input_forget", default: 0) != 0
        linearBeforeReset = try reader.int("linear_before_reset", default: 0) != 0
        activationAlpha = try reader.floats("activation_alpha") ?? []
        activationBeta = try reader.floats("activation_beta") ?? []

        let perDirection = cell.defaultActivations.count
        let names = try reader.strings("activations")
            ?? Array([[String]](repeating: cell.defaultActivations, count: directions).joined())
        guard names.count == perDirection * directions else {
            throw reader.error("activations lists \(names.count) functions, "
                + "\(node.opType) with \(directions) direction(s) takes \(perDirection * directions)")
        }
        activations = names.map { $0.lowercased() }
        var flops: [Int] = []
        for name in names {
            guard let f = Self.activationFLOPs[name.lowercased()] else { throw reader.error("unknown activation '\(name)'") }
            flops.append(f)
        }
        let kind = cell
        unitFLOPs = (0..<directions).map { d in
            let a = Array(flops[(d * perDirection)..<((d + 1) * perDirection)])
            switch kind {
            case .rnn: return 1 + a[0]
            case .gru: return 3 + 2 * a[0] + a[1] + 5
            case .lstm: return 4 + 3 * a[0] + a[1] + a[2] + 4
            }
        }
        outputCount = node.outputs.count
        guard outputCount <= cell.maxOutputs else {
            throw reader.error("\(node.opType) has at most \(cell.maxOutputs) outputs, this node has \(outputCount)")
        }
        try reader.expectInputs(3...cell.maxInputs)
    }

    /// Sequence length, batch size, input size and hidden size, as far as the inputs tell.
    func geometry(_ inputs: [ValueFact?]) throws(ModelError) -> (seq: Dim, batch: Dim, input: Dim, hidden: Dim) {
        var seq = Dim.unknown, batch = Dim.unknown, input = Dim.unknown
        var hidden: Dim = hiddenSize.map(Dim.known) ?? .unknown
        let gates = Dim.known(cell.gates), dirs = Dim.known(directions)
        if let x = inputs[input: 0]?.shape {
            guard x.rank == 3 else { throw reader.error("X must have rank 3, got \(x.rank)") }
            seq = batchFirst ? x.dims[1] : x.dims[0]
            batch = batchFirst ? x.dims[0] : x.dims[1]
            input = x.dims[2]
        }
        if let w = inputs[input: 1]?.shape {
            guard w.rank == 3 else { throw reader.error("W must have rank 3, got \(w.rank)") }
            _ = try SequenceModels.same(w.dims[0], dirs, "num_directions", reader)
            hidden = try SequenceModels.same(hidden, SequenceModels.share(w.dims[1], gates, "W's gate rows", reader), "hidden size", reader)
            input = try SequenceModels.same(input, w.dims[2], "input size", reader)
        }
        if let r = inputs[input: 2]?.shape {
            guard r.rank == 3 else { throw reader.error("R must have rank 3, got \(r.rank)") }
            _ = try SequenceModels.same(r.dims[0], dirs, "num_directions", reader)
            hidden = try SequenceModels.same(hidden, SequenceModels.share(r.dims[1], gates, "R's gate rows", reader), "hidden size", reader)
            hidden = try SequenceModels.same(hidden, r.dims[2], "hidden size", reader)
        }
        // initial_h and initial_c have the states' layout.
        for index in [5, 6] where index == 5 || cell == .lstm {
            guard let s = inputs[input: index]?.shape else { continue }
            guard s.rank == 3 else { throw reader.error("initial state must have rank 3, got \(s.rank)") }
            _ = try SequenceModels.same(batchFirst ? s.dims[1] : s.dims[0], dirs, "num_directions", reader)
            batch = try SequenceModels.same(batch, batchFirst ? s.dims[0] : s.dims[1], "batch size", reader)
            hidden = try SequenceModels.same(hidden, s.dims[2], "hidden size", reader)
        }
        return (seq, batch, input, hidden)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let dtype = inputs[input: 0]?.dtype ?? inputs[input: 1]?.dtype
        let (seq, batch, _, hidden) = try geometry(inputs)
        let dirs = Dim.known(directions)
        let y = batchFirst ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]
        let state = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden]
        return (0..<outputCount).map { ValueFact(dtype: dtype, shape: Shape($0 == 0 ? y : state)) }
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard let (seq, batch, input, hidden) = try? geometry(inputs),
              let n = Shape([seq, batch, input, hidden]).values else { return nil }
        let (s, b, i, h) = (n[0], n[1], n[2], n[3])
        let gates = cell.gates
        let perUnitExtra = (inputs[input: 3] != nil ? 2 * gates : 0) + (clipped ? 2 * gates : 0)
            + (cell == .lstm && inputs[input: 7] != nil ? 6 : 0)
        guard let steps = Count.product(s, b), let width = SequenceModels.total([i, h]),
              let macs = Count.product(steps, directions, gates, h, width),
              let units = Count.product(steps, h),
              let elementwise = SequenceModels.total(unitFLOPs.map { Count.product(units, $0 + perUnitExtra) }) else { return nil }
        return .multiplyAccumulate(macs, plus: elementwise)
    }

    /// W, R, B and P are learned; X, sequence lengths and initial states are not.
    public func holdsParameters(input index: Int) -> Bool {
        [1, 2, 3, 7].contains(index)
    }
}
