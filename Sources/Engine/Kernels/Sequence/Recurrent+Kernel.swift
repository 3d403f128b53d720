internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// The recurrent layers LSTM, GRU and RNN in float32: forward, reverse or
// bidirectional, with initial states, per-entry sequence lengths, clipping,
// peepholes and any of the ONNX activation functions, in either layout.

/// One activation function of a recurrent cell, with its alpha and beta.
struct CellActivation: Sendable {
    let name: String
    let alpha: Float
    let beta: Float

    /// Activations that take an alpha, with its default.
    static let alphaDefaults: [String: Float] = [
        "affine": 1, "leakyrelu": 0.01, "thresholdedrelu": 1, "scaledtanh": 1, "hardsigmoid": 0.2, "elu": 1,
    ]
    /// Activations that take a beta, with its default.
    static let betaDefaults: [String: Float] = ["affine": 0, "scaledtanh": 1, "hardsigmoid": 0.5]
    static let known: Set<String> = ["relu", "tanh", "sigmoid", "affine", "leakyrelu", "thresholdedrelu", "scaledtanh",
                                     "hardsigmoid", "elu", "softsign", "softplus"]

    /// The activations of a node: the `activations` attribute or the cell's
    /// defaults, each taking the next of `activation_alpha` and
    /// `activation_beta` when it has such a parameter.
    static func list(_ schema: Recurrent) throws(ModelError) -> [CellActivation] {
        var alphas = schema.activationAlpha[...]
        var betas = schema.activationBeta[...]
        var result: [CellActivation] = []
        for name in schema.activations {
            guard known.contains(name) else { throw ModelError(.invalidGraph, "unknown activation '\(name)'") }
            var alpha: Float = 0, beta: Float = 0
            if let fallback = alphaDefaults[name] { alpha = alphas.popFirst() ?? fallback }
            if let fallback = betaDefaults[name] { beta = betas.popFirst() ?? fallback }
            result.append(CellActivation(name: name, alpha: alpha, beta: beta))
        }
        return result
    }

    /// Applies the function to `count` values in place.
    func apply(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
        let (a, b) = (alpha, beta)
        switch name {
        case "sigmoid": for i in 0..<count { values[i] = 1 / (1 + expf(-values[i])) }
        case "tanh": for i in 0..<count { values[i] = tanhf(values[i]) }
        case "relu": for i in 0..<count { values[i] = max(values[i], 0) }
        case "affine": for i in 0..<count { values[i] = a * values[i] + b }
        case "leakyrelu": for i in 0..<count { values[i] = values[i] >= 0 ? values[i] : a * values[i] }
        case "thresholdedrelu": for i in 0..<count { values[i] = values[i] > a ? values[i] : 0 }
        case "scaledtanh": for i in 0..<count { values[i] = a * tanhf(b * values[i]) }
        case "hardsigmoid": for i in 0..<count { values[i] = min(max(a * values[i] + b, 0), 1) }
        case "elu": for i in 0..<count { values[i] = values[i] >= 0 ? values[i] : a * (expf(values[i]) - 1) }
        case "softsign": for i in 0..<count { values[i] = values[i] / (1 + abs(values[i])) }
        default: for i in 0..<count { values[i] = log1pf(expf(values[i])) }
        }
    }
}

/// LSTM, GRU or RNN. Per direction, the input projections of all time
/// steps are one GEMM up front; each step then multiplies the hidden state
/// by R and applies the cell's gate equations. Gates are laid out as ONNX
/// stores them: LSTM i, o, f, c; GRU z, r, h; RNN one gate.
struct RecurrentKernel: Kernel {
    let cell: Recurrent.Cell
    let hiddenSize: Int?
    let directions: Int
    let reverse: Bool
    let batchFirst: Bool
    /// The activations of each direction (f; f, g; or f, g, h).
    let activations: [[CellActivation]]
    let clip: Float?
    let inputForget: Bool
    let linearBeforeReset: Bool

    init(_ schema: Recurrent, _ setup: KernelSetup) throws(ModelError) {
        cell = schema.cell
        hiddenSize = schema.hiddenSize
        directions = schema.directions
        reverse = schema.reverse
        batchFirst = schema.batchFirst
        let defaults: [String] = switch cell {
        case .rnn: ["Tanh"]
        case .gru: ["Sigmoid", "Tanh"]
        case .lstm: ["Sigmoid", "Tanh", "Tanh"]
        }
        let list = try CellActivation.list(schema)
        guard list.count == defaults.count * directions else {
            throw ModelError(.invalidGraph, "activations lists \(list.count) functions for \(directions) direction(s)")
        }
        var perDirection: [[CellActivation]] = []
        for d in 0..<directions { perDirection.append(Array(list[(d * defaults.count)..<((d + 1) * defaults.count)])) }
        activations = perDirection
        clip = schema.clip
        inputForget = schema.inputForget
        linearBeforeReset = schema.linearBeforeReset
    }

    /// Sizes of one run.
    struct Geometry {
        let steps: Int, batch: Int, input: Int, hidden: Int, gates: Int
        var gateWidth: Int { gates * hidden }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var x = try floatInput(inputs, 0, "X")
        let w = try floatInput(inputs, 1, "W"), r = try floatInput(inputs, 2, "R")
        guard x.shape.count == 3, w.shape.count == 3, r.shape.count == 3 else { throw ModelError(.invalidGraph, "X, W and R must be 3-D") }
        if batchFirst { x = try ShapeKernels.permuted(x, dims: x.shape, perm: [1, 0, 2], context: context) }
        let hidden = r.shape[2], gates = cell == .lstm ? 4 : cell == .gru ? 3 : 1
        let g = Geometry(steps: x.shape[0], batch: x.shape[1], input: x.shape[2], hidden: hidden, gates: gates)
        guard hiddenSize.map({ $0 == hidden }) ?? true, w.shape == [directions, g.gateWidth, g.input],
              r.shape == [directions, g.gateWidth, hidden] else {
            throw ModelError(.invalidGraph, "W \(w.shape) and R \(r.shape) do not fit \(directions) direction(s), input size \(g.input) and hidden size \(hidden)")
        }
        let bias = try optionalFloat(inputs, 3, "B", [directions, 2 * g.gateWidth])
        let lengths = try optionalInput(inputs, 4).map { t throws(ModelError) in try ShapeKernels.integers(t, "sequence_lens") }
            ?? Array(repeating: g.steps, count: g.batch)
        guard lengths.count == g.batch, lengths.allSatisfy({ $0 >= 0 && $0 <= g.steps }) else {
            throw ModelError(.invalidGraph, "sequence_lens must give a length of at most \(g.steps) for each of the \(g.batch) batch entries")
        }
        let stateShape = batchFirst ? [g.batch, directions, hidden] : [directions, g.batch, hidden]
        let initialH = try optionalState(inputs, 5, "initial_h", stateShape, context)
        let initialC = cell == .lstm ? try optionalState(inputs, 6, "initial_c", stateShape, context) : nil
        let peepholes = cell == .lstm ? try optionalFloat(inputs, 7, "P", [directions, 3 * hidden]) : nil

        let y = try EngineTensor(dtype: .float, shape: [g.steps, directions, g.batch, hidden])
        let yh = try EngineTensor(dtype: .float, shape: [directions, g.batch, hidden])
        let yc = try EngineTensor(dtype: .float, shape: [directions, g.batch, hidden])
        y.buffer.base.initializeMemory(as: UInt8.self, repeating: 0, count: y.buffer.byteCount)
        for d in 0..<directions {
            let state = d * g.batch * hidden
            let h = yh.floats.baseAddress! + state, c = yc.floats.baseAddress! + state
            h.initialize(repeating: 0, count: g.batch * hidden)
            c.initialize(repeating: 0, count: g.batch * hidden)
            if let initialH { h.update(from: initialH.floats.baseAddress! + state, count: g.batch * hidden) }
            if let initialC { c.update(from: initialC.floats.baseAddress! + state, count: g.batch * hidden) }
            runDirection(d, g, x: x, w: w, r: r, bias: bias, peepholes: peepholes, lengths: lengths, h: h, c: c, y: y, context)
        }
        if batchFirst {
            return [try ShapeKernels.permuted(y, dims: y.shape, perm: [2, 0, 1, 3], context: context),
                    try ShapeKernels.permuted(yh, dims: yh.shape, perm: [1, 0, 2], context: context),
                    cell == .lstm ? try ShapeKernels.permuted(yc, dims: yc.shape, perm: [1, 0, 2], context: context) : nil]
        }
        return cell == .lstm ? [y, yh, yc] : [y, yh]
    }

    /// A float32 input of the given shape, or `nil` when omitted.
    func optionalFloat(_ inputs: [EngineTensor?], _ index: Int, _ what: String, _ shape: [Int]) throws(ModelError) -> EngineTensor? {
        guard optionalInput(inputs, index) != nil else { return nil }
        let tensor = try floatInput(inputs, index, what)
        guard tensor.shape == shape else { throw ModelError(.invalidGraph, "\(what) has shape \(tensor.shape), expected \(shape)") }
        return tensor
    }

    /// An initial state in [directions, batch, hidden] order, or `nil` when omitted.
    func optionalState(_ inputs: [EngineTensor?], _ index: Int, _ what: String, _ shape: [Int],
                       _ context: ExecutionContext) throws(ModelError) -> EngineTensor? {
        guard let state = try optionalFloat(inputs, index, what, shape) else { return nil }
        return batchFirst ? try ShapeKernels.permuted(state, dims: shape, perm: [1, 0, 2], context: context) : state
    }

    /// Runs direction `d` over the sequence, updating `h` and `c` (the
    /// direction's [batch, hidden] states) and writing its slots of `y`.
    func runDirection(_ d: Int, _ g: Geometry, x: EngineTensor, w: EngineTensor, r: EngineTensor, bias: EngineTensor?,
                      peepholes: EngineTensor?, lengths: [Int], h: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
                      y: EngineTensor, _ context: ExecutionContext) {
        let (batch, hidden, width) = (g.batch, g.hidden, g.gateWidth)
        let backwards = reverse || d == 1
        let wd = w.floats.baseAddress! + d * width * g.input, rd = r.floats.baseAddress! + d * width * hidden
        let functions = activations[d]

        // X·Wᵀ for every step and batch entry at once, plus the biases that do not depend on the state.
        let rows = g.steps * batch
        let projected = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rows * width))
        defer { projected.deallocate() }
        let xBase = UnsafePointer(x.floats.baseAddress!)
        context.parallelRanges(rows, grain: 64) { range in
            ck_sgemm(0, 1, range.count, width, g.input, 1, xBase + range.lowerBound * g.input, g.input,
                     wd, g.input, 0, projected + range.lowerBound * width, width)
        }
        // GRU's recurrent bias of the h gate is applied inside the reset product when linear_before_reset is set.
        let separateRecurrentBias = cell == .gru && linearBeforeReset
        var hiddenGateBias = [Float](repeating: 0, count: hidden)
        if let bias {
            let b = bias.floats.baseAddress! + d * 2 * width
            var combined = (0..<width).map { b[$0] + b[width + $0] }
            if separateRecurrentBias {
                for j in 0..<hidden {
                    combined[2 * hidden + j] = b[2 * hidden + j]
                    hiddenGateBias[j] = b[width + 2 * hidden + j]
                }
            }
            for row in 0..<rows {
                for j in 0..<width { projected[row * width + j] += combined[j] }
            }
        }

        let recurrent = UnsafeMutablePointer<Float>.allocate(capacity: max(1, batch * width))
        let gatesBuffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, width))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, batch * hidden))
        scratch.initialize(repeating: 0, count: max(1, batch * hidden))
        defer {
            recurrent.deallocate()
            gatesBuffer.deallocate()
            scratch.deallocate()
        }
        let peep = peepholes.map { UnsafePointer($0.floats.baseAddress! + d * 3 * hidden) }
        let yBase = y.floats.baseAddress!
        for step in 0..<g.steps {
            // H·Rᵀ for all gates (GRU without linear_before_reset takes its h gate after the reset below).
            let direct = cell == .gru && !linearBeforeReset ? 2 * hidden : width
            ck_sgemm(0, 1, batch, direct, hidden, 1, h, hidden, rd, hidden, 0, recurrent, width)
            if cell == .gru && !linearBeforeReset {
                // The reset gates of every entry are needed before (r ⊙ h)·Rhᵀ.
                for b in 0..<batch where step < lengths[b] {
                    let t = backwards ? lengths[b] - 1 - step : step
                    let gates = gatesBuffer
                    for j in 0..<(2 * hidden) { gates[j] = projected[(t * batch + b) * width + j] + recurrent[b * width + j] }
                    clipped(gates + hidden, hidden)
                    functions[0].apply(gates + hidden, hidden)
                    for j in 0..<hidden { scratch[b * hidden + j] = gates[hidden + j] * h[b * hidden + j] }
                }
                ck_sgemm(0, 1, batch, hidden, hidden, 1, scratch, hidden, rd + 2 * hidden * hidden, hidden, 0, recurrent + 2 * hidden, width)
            }
            for b in 0..<batch where step < lengths[b] {
                let t = backwards ? lengths[b] - 1 - step : step
                let gates = gatesBuffer
                let input = projected + (t * batch + b) * width, state = recurrent + b * width
                let hb = h + b * hidden, cb = c + b * hidden
                switch cell {
                case .rnn:
                    for j in 0..<hidden { gates[j] = input[j] + state[j] }
                    clipped(gates, hidden)
                    functions[0].apply(gates, hidden)
                    hb.update(from: gates, count: hidden)
                case .gru:
                    for j in 0..<(2 * hidden) { gates[j] = input[j] + state[j] }
                    clipped(gates, 2 * hidden)
                    functions[0].apply(gates, 2 * hidden)
                    for j in 0..<hidden {
                        let candidate = linearBeforeReset ? gates[hidden + j] * (state[2 * hidden + j] + hiddenGateBias[j]) : state[2 * hidden + j]
                        gates[2 * hidden + j] = input[2 * hidden + j] + candidate
                    }
                    clipped(gates + 2 * hidden, hidden)
                    functions[1].apply(gates + 2 * hidden, hidden)
                    for j in 0..<hidden {
                        let z = gates[j]
                        hb[j] = (1 - z) * gates[2 * hidden + j] + z * hb[j]
                    }
                case .lstm:
                    for j in 0..<width { gates[j] = input[j] + state[j] }
                    let (i, o, f, candidate) = (gates, gates + hidden, gates + 2 * hidden, gates + 3 * hidden)
                    if let peep {
                        for j in 0..<hidden {
                            i[j] += peep[j] * cb[j]
                            f[j] += peep[2 * hidden + j] * cb[j]
                        }
                    }
                    // The output gate is clipped once its peephole term, which reads the new cell state, is in.
                    clipped(i, hidden)
                    clipped(f, hidden)
                    clipped(candidate, hidden)
                    functions[0].apply(i, hidden)
                    if inputForget {
                        for j in 0..<hidden { f[j] = 1 - i[j] }
                    } else {
                        functions[0].apply(f, hidden)
                    }
                    functions[1].apply(candidate, hidden)
                    for j in 0..<hidden { cb[j] = f[j] * cb[j] + i[j] * candidate[j] }
                    if let peep {
                        for j in 0..<hidden { o[j] += peep[hidden + j] * cb[j] }
                    }
                    clipped(o, hidden)
                    functions[0].apply(o, hidden)
                    for j in 0..<hidden { scratch[j] = cb[j] }
                    functions[2].apply(scratch, hidden)
                    for j in 0..<hidden { hb[j] = o[j] * scratch[j] }
                }
                (yBase + ((t * directions + d) * batch + b) * hidden).update(from: hb, count: hidden)
            }
        }
    }

    /// Limits `count` gate inputs to ±clip, when the node clips.
    func clipped(_ values: UnsafeMutablePointer<Float>, _ count: Int) {
        guard let clip else { return }
        for i in 0..<count { values[i] = min(max(values[i], -clip), clip) }
    }
}

// MARK: - The schema's kernel

extension Recurrent: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try RecurrentKernel(self, setup) }
}
