import ModelCore

/// If: runs `then_branch` or `else_branch` by the condition; the node's
/// outputs are the branch's, of any kind (tensors, sequences, optionals).
struct IfKernel: ValueKernel {
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

    func run(values inputs: [EngineValue?], _ context: ExecutionContext) throws(ModelError) -> [EngineValue?] {
        let condition = try ControlFlowKernels.condition(try requiredValue(inputs, 0, "cond").tensor("cond"), "cond")
        let branch = condition ? thenBranch : elseBranch
        let outer = ControlFlowKernels.outerValues(inputs, names: inputNames, captured: captured)
        let results = try branch.run(values: [:], context: context, outer: outer)
        var outputs: [EngineValue?] = []
        for name in branch.outputNames { outputs.append(try ControlFlowKernels.result(results, name)) }
        return outputs
    }
}

// MARK: - The schemas' kernels

extension If: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try IfKernel(setup) }
}
