import ModelCore

/// ai.onnx.ml.Binarizer: 1 where an element exceeds the threshold, else 0.
struct BinarizerKernel: Kernel {
    let threshold: Double

    /// The comparison over one element type.
    struct Apply: NumberVisitor {
        let x: EngineTensor
        let threshold: Double
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            let output = try EngineTensor(dtype: x.dtype, shape: x.shape)
            mapUnary(x, output, context) { (v: T) -> T in v.doubleValue > threshold ? T.one : T.zero }
            return output
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "input X")
        return [try ElementTypes.visit(x.dtype, Apply(x: x, threshold: threshold, context: context), "Binarizer")]
    }
}

extension Binarizer: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel {
        BinarizerKernel(threshold: Double(threshold))
    }
}
