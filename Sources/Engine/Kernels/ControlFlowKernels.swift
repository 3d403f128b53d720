import ModelCore

/// Kernels that run subgraphs: If, Loop and Scan. A node with subgraphs
/// receives, after its own inputs, the enclosing-scope values its subgraphs
/// read (`KernelSetup.capturedNames`); the kernel hands them, and its own
/// inputs, to the subgraph plans by name.
enum ControlFlowKernels {

    /// The plan of graph attribute `name`.
    static func subgraph(_ setup: KernelSetup, _ name: String) throws(ModelError) -> ExecutionPlan {
        guard let plan = setup.subgraphs[name] else { throw ModelError(.invalidGraph, "\(setup.node.opType) needs a '\(name)' graph") }
        return plan
    }

    /// The values a subgraph may read from the enclosing scope: the node's
    /// own inputs (a subgraph may name them directly) and the captured values after them.
    static func outerValues(_ inputs: [EngineTensor?], names: [String], captured: [String]) -> [String: EngineTensor] {
        var values: [String: EngineTensor] = [:]
        for (name, value) in zip(names, inputs) where !name.isEmpty {
            if let value { values[name] = value }
        }
        for (name, value) in zip(captured, inputs.dropFirst(names.count)) {
            if let value { values[name] = value }
        }
        return values
    }

    /// Whether a condition tensor holding one element is true.
    static func condition(_ tensor: EngineTensor, _ what: String) throws(ModelError) -> Bool {
        let values = try ElementNumbers.doubles(tensor)
        guard values.count == 1 else { throw ModelError(.invalidGraph, "\(what) must hold one element, it holds \(values.count)") }
        return values[0] != 0
    }

    /// A subgraph result by name.
    static func result(_ results: [String: EngineTensor], _ name: String) throws(ModelError) -> EngineTensor {
        guard let value = results[name] else { throw ModelError(.invalidGraph, "the subgraph did not produce '\(name)'") }
        return value
    }

    /// Tensors of one shape and type stacked along a new axis `axis`.
    static func stack(_ parts: [EngineTensor], axis: Int) throws(ModelError) -> EngineTensor {
        guard let first = parts.first else { throw ModelError(.internal, "internal: nothing to stack") }
        for part in parts where part.shape != first.shape || part.dtype != first.dtype {
            throw ModelError(.invalidGraph, "per-iteration outputs differ: \(first.dtype) \(first.shape) and \(part.dtype) \(part.shape)")
        }
        let a = try ShapeKernels.axis(axis, rank: first.shape.count + 1)
        var shape = first.shape
        shape.insert(parts.count, at: a)
        var output = try ElementOutput(dtype: first.dtype, shape: shape)
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[a...].reduce(1, *)
        for (t, part) in parts.enumerated() {
            for o in 0..<outer { output.copy(from: part, o * inner, to: (o * parts.count + t) * inner, count: inner) }
        }
        return output.tensor
    }

    /// Slice `index` of `tensor` along `axis`, without that axis.
    static func slice(_ tensor: EngineTensor, axis: Int, index: Int, context: ExecutionContext) throws(ModelError) -> EngineTensor {
        let strides = ShapeKernels.strides(tensor.shape)
        var dims = tensor.shape
        dims[axis] = 1
        var shape = tensor.shape
        shape.remove(at: axis)
        return try ShapeKernels.tableCopy(tensor, dims: dims, shape: shape, context: context) { k in
            k == axis ? [index * strides[axis]] : ShapeKernels.wholeAxis(dims[k], stride: strides[k])
        }
    }

    /// An empty stack of a subgraph output that never ran, shaped from its declared type where known.
    static func emptyStack(_ declared: ValueInfo?) throws(ModelError) -> EngineTensor {
        var dtype = DType.float, dims: [Int] = []
        if case .tensor(let type, let shape)? = declared?.type {
            if type != .undefined { dtype = type }
            dims = shape?.values ?? []
        }
        return try ElementOutput(dtype: dtype, shape: [0] + dims).tensor
    }
}

/// If: runs `then_branch` or `else_branch` by the condition; the node's outputs are the branch's.
struct IfKernel: Kernel {
    let thenBranch: ExecutionPlan
    let elseBranch: ExecutionPlan
    let inputNames: [String]
    let captured: [String]

    init(_ setup: KernelSetup) throws(ModelError) {
        thenBranch = try ControlFlowKernels.subgraph(setup, "then_branch")
        elseBranch = try ControlFlowKernels.subgraph(setup, "else_branch")
        inputNames = setup.node.inputs
        captured = setup.capturedNames
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let condition = try ControlFlowKernels.condition(try ShapeKernels.input(inputs, 0, "cond"), "cond")
        let branch = condition ? thenBranch : elseBranch
        let outer = ControlFlowKernels.outerValues(inputs, names: inputNames, captured: captured)
        let results = try branch.run([:], context: context, outer: outer)
        var outputs: [EngineTensor?] = []
        for name in branch.outputNames { outputs.append(try ControlFlowKernels.result(results, name)) }
        return outputs
    }
}

/// Loop: runs the body while the trip count and the condition allow,
/// carrying N values from one iteration to the next; each of the K scan
/// outputs stacks its per-iteration values along a new first axis (as
/// onnxruntime does).
struct LoopKernel: Kernel {
    let body: ExecutionPlan
    let inputNames: [String]
    let captured: [String]
    /// Loop-carried values (N).
    let carried: Int
    /// The body's declared outputs, for the type of scan outputs when no iteration runs.
    let declaredOutputs: [ValueInfo]

    init(_ setup: KernelSetup) throws(ModelError) {
        body = try ControlFlowKernels.subgraph(setup, "body")
        inputNames = setup.node.inputs
        captured = setup.capturedNames
        carried = max(0, setup.node.inputs.count - 2)
        guard body.inputNames.count == carried + 2, body.outputNames.count >= carried + 1 else {
            throw ModelError(.invalidGraph, "the body takes \(body.inputNames.count) inputs and gives \(body.outputNames.count) outputs "
                + "for \(carried) loop-carried values")
        }
        declaredOutputs = (try AttributeReader(setup.node).graph("body"))?.outputs ?? []
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let tripCount = try ShapeKernels.optionalInput(inputs, 0).map { t throws(ModelError) in try ShapeKernels.scalarInteger(t, "M") }
        let conditionInput = try ShapeKernels.optionalInput(inputs, 1).map { t throws(ModelError) in try ControlFlowKernels.condition(t, "cond") }
        // Without either input the loop would never end: ONNX allows it, but no side effect could ever stop it.
        guard tripCount != nil || conditionInput != nil else { throw ModelError(.invalidGraph, "Loop has neither a trip count nor a condition") }
        var values: [EngineTensor] = []
        for i in 0..<carried { values.append(try ShapeKernels.input(inputs, 2 + i, "loop-carried value \(i)")) }
        let outer = ControlFlowKernels.outerValues(inputs, names: inputNames, captured: captured)
        let scanNames = Array(body.outputNames.dropFirst(1 + carried))
        var scans = Array(repeating: [EngineTensor](), count: scanNames.count)
        var iteration = 0
        var condition = conditionInput ?? true
        while condition && iteration < (tripCount ?? .max) {
            var feeds: [String: EngineTensor] = [
                body.inputNames[0]: try ShapeKernels.int64Tensor([iteration], shape: []),
                body.inputNames[1]: try ElementNumbers.tensor([1], dtype: .bool, shape: []),
            ]
            for (name, value) in zip(body.inputNames.dropFirst(2), values) { feeds[name] = value }
            let results = try body.run(feeds, context: context, outer: outer)
            // The body's condition only counts when the node has a condition input.
            if conditionInput != nil {
                condition = try ControlFlowKernels.condition(try ControlFlowKernels.result(results, body.outputNames[0]), "the body's condition")
            }
            values = []
            for name in body.outputNames.dropFirst().prefix(carried) { values.append(try ControlFlowKernels.result(results, name)) }
            for (k, name) in scanNames.enumerated() { scans[k].append(try ControlFlowKernels.result(results, name)) }
            iteration += 1
        }
        var outputs: [EngineTensor?] = values
        for (k, parts) in scans.enumerated() {
            let declared = declaredOutputs.count == body.outputNames.count ? declaredOutputs[1 + carried + k] : nil
            outputs.append(parts.isEmpty ? try ControlFlowKernels.emptyStack(declared) : try ControlFlowKernels.stack(parts, axis: 0))
        }
        return outputs
    }
}

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
        let reader = AttributeReader(setup.node)
        reverseInputs = (try reader.ints(batched ? "directions" : "scan_input_directions") ?? Array(repeating: 0, count: scanInputCount)).map { $0 != 0 }
        reverseOutputs = (try reader.ints("scan_output_directions") ?? Array(repeating: 0, count: outputAxes.count)).map { $0 != 0 }
        guard body.inputNames.count == stateCount + scanInputCount, body.outputNames.count == stateCount + outputAxes.count else {
            throw ModelError(.invalidGraph, "the body's \(body.inputNames.count) inputs and \(body.outputNames.count) outputs do not match "
                + "\(stateCount) states, \(scanInputCount) scan inputs and \(outputAxes.count) scan outputs")
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let first = batched ? 1 : 0
        var states: [EngineTensor] = [], scanned: [EngineTensor] = []
        for i in 0..<stateCount { states.append(try ShapeKernels.input(inputs, first + i, "state \(i)")) }
        for j in 0..<scanInputCount { scanned.append(try ShapeKernels.input(inputs, first + stateCount + j, "scan input \(j)")) }
        let outer = ControlFlowKernels.outerValues(inputs, names: inputNames, captured: captured)
        guard batched else { return try scan(states, scanned, length: nil, outer: outer, context) }

        guard let batch = (states + scanned).first?.shape.first,
              (states + scanned).allSatisfy({ $0.shape.first == batch && $0.shape.count >= 1 }) else {
            throw ModelError(.invalidGraph, "batched states and scan inputs must share their first axis")
        }
        let lengths = try ShapeKernels.optionalInput(inputs, 0).map { t throws(ModelError) in try ShapeKernels.integers(t, "sequence_lens") }
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

// MARK: - The schemas' kernels

extension If: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try IfKernel(setup) }
}

extension Loop: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try LoopKernel(setup) }
}

extension Scan: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ScanKernel(self, setup) }
}
