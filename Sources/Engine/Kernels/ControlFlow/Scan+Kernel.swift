import ModelCore

/// Scan: runs the body once per slice of the scan inputs along their axes
/// (in either direction), threading N state values through and stacking
/// each scan output along its axis. Opset 8's form has batched tensors and
/// a `sequence_lens` input: each batch entry is scanned on its own.
struct ScanKernel: Kernel {
    let body: ExecutionPlan
    let inputNames: [String]
    let captured: [String]
    let batched: Bool
    let stateCount: Int
    let scanInputCount: Int
    let inputAxes: [Int]
    let outputAxes: [Int]
    let reverseInputs: [Bool]
    let reverseOutputs: [Bool]

    init(_ schema: Scan, _ setup: KernelSetup) throws(ModelError) {
        body = try ControlFlowKernels.subgraph(setup, "body")
        inputNames = setup.node.inputs
        captured = setup.capturedNames
        batched = schema.batched
        stateCount = schema.stateCount
        scanInputCount = schema.scanInputCount
        // Opset 8 scans axis 1 of batched tensors, axis 0 once an entry is taken out.
        inputAxes = batched ? Array(repeating: 0, count: schema.scanInputCount) : schema.inputAxes
        outputAxes = batched ? Array(repeating: 0, count: schema.outputAxes.count) : schema.outputAxes
        reverseInputs = schema.reverseInputs
        reverseOutputs = schema.reverseOutputs
        guard body.inputNames.count == stateCount + scanInputCount, body.outputNames.count == stateCount + outputAxes.count else {
            throw ModelError(.invalidGraph, "the body's \(body.inputNames.count) inputs and \(body.outputNames.count) outputs do not match "
                + "\(stateCount) states, \(scanInputCount) scan inputs and \(outputAxes.count) scan outputs")
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let first = batched ? 1 : 0
        var states: [EngineTensor] = [], scanned: [EngineTensor] = []
        for i in 0..<stateCount { states.append(try requiredInput(inputs, first + i, "state \(i)")) }
        for j in 0..<scanInputCount { scanned.append(try requiredInput(inputs, first + stateCount + j, "scan input \(j)")) }
        let outer = ControlFlowKernels.outerValues(inputs, names: inputNames, captured: captured)
        guard batched else { return try scan(states, scanned, length: nil, outer: outer, context) }

        guard let batch = (states + scanned).first?.shape.first,
              (states + scanned).allSatisfy({ $0.shape.first == batch && $0.shape.count >= 1 }) else {
            throw ModelError(.invalidGraph, "batched states and scan inputs must share their first axis")
        }
        let lengths = try optionalInput(inputs, 0).map { t throws(ModelError) in try ShapeKernels.integers(t, "sequence_lens") }
        guard lengths.map({ $0.count == batch }) ?? true else { throw ModelError(.invalidGraph, "sequence_lens must hold \(batch) lengths") }
        var perEntry: [[EngineTensor?]] = []
        for b in 0..<batch {
            let entryStates = try states.map { s throws(ModelError) in try ControlFlowKernels.slice(s, axis: 0, index: b, context: context) }
            let entryScans = try scanned.map { s throws(ModelError) in try ControlFlowKernels.slice(s, axis: 0, index: b, context: context) }
            perEntry.append(try scan(entryStates, entryScans, length: lengths?[b], outer: outer, context))
        }
        var outputs: [EngineTensor?] = []
        for k in 0..<(stateCount + outputAxes.count) {
            var parts = perEntry.compactMap { $0[k] }
            // Shorter sequences leave their scan outputs' tail zero, up to the longest.
            if k >= stateCount, let longest = parts.map({ $0.shape.first ?? 0 }).max() {
                parts = try parts.map { p throws(ModelError) in try Self.padded(p, to: longest) }
            }
            outputs.append(try ControlFlowKernels.stack(parts, axis: 0))
        }
        return outputs
    }

    /// One unbatched scan over `length` slices (all of them by default).
    func scan(_ initial: [EngineTensor], _ scanned: [EngineTensor], length: Int?, outer: [String: EngineTensor],
              _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        var axes: [Int] = []
        var full: Int?
        for (j, tensor) in scanned.enumerated() {
            let axis = try ShapeKernels.axis(inputAxes[j], rank: tensor.shape.count)
            guard full == nil || full == tensor.shape[axis] else { throw ModelError(.invalidGraph, "scan inputs differ in sequence length") }
            full = tensor.shape[axis]
            axes.append(axis)
        }
        let steps = length ?? full ?? 0
        guard steps >= 0 && steps <= (full ?? 0) else { throw ModelError(.invalidGraph, "sequence length \(steps) exceeds the scan inputs' \(full ?? 0)") }
        var states = initial
        var slices = Array(repeating: [EngineTensor](), count: outputAxes.count)
        for t in 0..<steps {
            var feeds: [String: EngineTensor] = [:]
            for (name, state) in zip(body.inputNames, states) { feeds[name] = state }
            for (j, tensor) in scanned.enumerated() {
                let index = reverseInputs[j] ? steps - 1 - t : t
                feeds[body.inputNames[stateCount + j]] = try ControlFlowKernels.slice(tensor, axis: axes[j], index: index, context: context)
            }
            let results = try body.run(feeds, context: context, outer: outer)
            states = []
            for name in body.outputNames.prefix(stateCount) { states.append(try ControlFlowKernels.result(results, name)) }
            for k in 0..<outputAxes.count {
                slices[k].append(try ControlFlowKernels.result(results, body.outputNames[stateCount + k]))
            }
        }
        var outputs: [EngineTensor?] = states
        for k in 0..<outputAxes.count {
            guard !slices[k].isEmpty else { throw ModelError(.invalidGraph, "Scan ran no iteration, so scan output \(k) has no shape") }
            let parts = reverseOutputs[k] ? Array(slices[k].reversed()) : slices[k]
            outputs.append(try ControlFlowKernels.stack(parts, axis: outputAxes[k]))
        }
        return outputs
    }

    /// `tensor` extended with zeros along its first axis to `length`.
    static func padded(_ tensor: EngineTensor, to length: Int) throws(ModelError) -> EngineTensor {
        guard let current = tensor.shape.first, current < length else { return tensor }
        var shape = tensor.shape
        shape[0] = length
        var output = try ElementOutput(dtype: tensor.dtype, shape: shape)
        output.copy(from: tensor, 0, to: 0, count: tensor.count)
        output.fill(try FillElement(zeroOf: tensor.dtype), at: tensor.count, count: output.count - tensor.count)
        return output.tensor
    }
}

extension Scan: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ScanKernel(self, setup) }
}
