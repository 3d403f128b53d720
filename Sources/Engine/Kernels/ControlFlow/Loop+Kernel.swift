import ModelCore

/// Loop: runs the body while the trip count and the condition allow,
/// carrying N values (tensors, sequences or optionals) from one iteration to
/// the next; each of the K scan outputs stacks its per-iteration tensors
/// along a new first axis (as onnxruntime does).
struct LoopKernel: ValueKernel {
    let body: ExecutionPlan
    let inputNames: [String]
    let captured: [String]
    /// Loop-carried values (N).
    let carried: Int
    /// The body's declared outputs, for the type of scan outputs when no iteration runs.
    let declaredOutputs: [ValueInfo]

    init(_ schema: Loop, _ setup: KernelSetup) throws(ModelError) {
        body = try ControlFlowKernels.subgraph(setup, "body")
        inputNames = setup.node.inputs
        captured = setup.capturedNames
        carried = max(0, setup.node.inputs.count - 2)
        guard body.inputNames.count == carried + 2, body.outputNames.count >= carried + 1 else {
            throw ModelError(.invalidGraph, "the body takes \(body.inputNames.count) inputs and gives \(body.outputNames.count) outputs "
                + "for \(carried) loop-carried values")
        }
        declaredOutputs = schema.declaredBodyOutputs
    }

    func run(values inputs: [EngineValue?], _ context: ExecutionContext) throws(ModelError) -> [EngineValue?] {
        let tripCount = try optionalValue(inputs, 0).map { v throws(ModelError) in try ShapeKernels.scalarInteger(try v.tensor("M"), "M") }
        let conditionInput = try optionalValue(inputs, 1).map { v throws(ModelError) in
            try ControlFlowKernels.condition(try v.tensor("cond"), "cond")
        }
        // Without either input the loop would never end: ONNX allows it, but no side effect could ever stop it.
        guard tripCount != nil || conditionInput != nil else { throw ModelError(.invalidGraph, "Loop has neither a trip count nor a condition") }
        var values: [EngineValue] = []
        for i in 0..<carried { values.append(try requiredValue(inputs, 2 + i, "loop-carried value \(i)")) }
        let outer = ControlFlowKernels.outerValues(inputs, names: inputNames, captured: captured)
        let scanNames = Array(body.outputNames.dropFirst(1 + carried))
        var scans = Array(repeating: [EngineTensor](), count: scanNames.count)
        var iteration = 0
        var condition = conditionInput ?? true
        let limit = context.maximumLoopIterations
        if let tripCount, tripCount > limit, conditionInput == nil {
            throw ModelError(.limit, "the trip count is \(tripCount), above the engine's limit of \(limit) Loop iterations "
                             + "(--max-loop-iterations sets it)")
        }
        while condition && iteration < (tripCount ?? .max) {
            guard iteration < limit else {
                throw ModelError(.limit, "the loop is still running after \(limit) iterations, the engine's limit "
                                 + "(--max-loop-iterations sets it)")
            }
            var feeds: [String: EngineValue] = [
                body.inputNames[0]: .tensor(try ShapeKernels.int64Tensor([iteration], shape: [])),
                body.inputNames[1]: .tensor(try ElementNumbers.tensor([1], dtype: .bool, shape: [])),
            ]
            for (name, value) in zip(body.inputNames.dropFirst(2), values) { feeds[name] = value }
            let results = try body.run(values: feeds, context: context, outer: outer)
            // The body's condition only counts when the node has a condition input.
            if conditionInput != nil {
                let output = try ControlFlowKernels.result(results, body.outputNames[0])
                condition = try ControlFlowKernels.condition(try output.tensor("the body's condition"), "the body's condition")
            }
            values = []
            for name in body.outputNames.dropFirst().prefix(carried) { values.append(try ControlFlowKernels.result(results, name)) }
            for (k, name) in scanNames.enumerated() {
                scans[k].append(try ControlFlowKernels.result(results, name).tensor("scan output '\(name)'"))
            }
            iteration += 1
        }
        var outputs: [EngineValue?] = values
        for (k, parts) in scans.enumerated() {
            let declared = declaredOutputs.count == body.outputNames.count ? declaredOutputs[1 + carried + k] : nil
            outputs.append(.tensor(parts.isEmpty ? try ControlFlowKernels.emptyStack(declared) : try ControlFlowKernels.stack(parts, axis: 0)))
        }
        return outputs
    }
}

extension Loop: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try LoopKernel(self, setup) }
}
