import ModelCore

/// FusedMatMul: alpha · op(A) · op(B) through the engine's batched product.
struct FusedMatMulKernel: Kernel {
    let transA: Bool, transB: Bool
    let alpha: Float

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let a = try floatInput(inputs, 0, "input A"), b = try floatInput(inputs, 1, "input B")
        return [try batchedProduct(a, b, transA: transA, transB: transB, alpha: alpha, context)]
    }
}

extension FusedMatMul: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        FusedMatMulKernel(transA: transA, transB: transB, alpha: alpha)
    }
}
