internal import CKernels
import ModelCore

// MARK: - float16 and bfloat16 through float32 kernels

/// Runs a float32-only kernel (Conv, Gemm, MatMul, pooling,
/// BatchNormalization) on a float16 or bfloat16 node: its half-precision
/// inputs are widened to float32, the kernel computes in float32, and its
/// float32 outputs are rounded back to the node's half type, as onnxruntime
/// does for these operators on CPU. Float32 nodes pass straight through.
struct HalfPrecision: Kernel {
    let inner: any Kernel
    /// Stored half-precision inputs, widened once when the plan is made.
    let widenedConstants: [Int: EngineTensor]

    init(_ inner: any Kernel, _ setup: KernelSetup) throws(ModelError) {
        self.inner = inner
        var widened: [Int: EngineTensor] = [:]
        for (index, tensor) in setup.constants where HalfPrecision.isHalf(tensor.dtype) {
            widened[index] = try HalfPrecision.widen(tensor)
        }
        widenedConstants = widened
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        guard let half = inputs.lazy.compactMap({ $0?.dtype }).first(where: HalfPrecision.isHalf) else {
            return try inner.run(inputs, context)
        }
        var widened = inputs
        for (index, input) in inputs.enumerated() {
            guard let input, HalfPrecision.isHalf(input.dtype) else { continue }
            if let constant = widenedConstants[index] {
                widened[index] = constant
            } else {
                widened[index] = try HalfPrecision.widen(input)
            }
        }
        var outputs = try inner.run(widened, context)
        for (index, output) in outputs.enumerated() {
            guard let output, output.dtype == .float else { continue }
            outputs[index] = try HalfPrecision.narrow(output, to: half)
        }
        return outputs
    }

    static func isHalf(_ dtype: DType) -> Bool { dtype == .float16 || dtype == .bfloat16 }

    /// A float16 or bfloat16 tensor as float32 (exact).
    static func widen(_ tensor: EngineTensor) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: .float, shape: tensor.shape)
        let source = UnsafePointer(tensor.elements(UInt16.self).baseAddress)
        guard let source, let target = output.floats.baseAddress else { return output }
        if tensor.dtype == .float16 { ck_f16_to_f32(source, target, tensor.count) } else { ck_bf16_to_f32(source, target, tensor.count) }
        return output
    }

    /// A float32 tensor rounded to `dtype`, float16 or bfloat16, to nearest even.
    static func narrow(_ tensor: EngineTensor, to dtype: DType) throws(ModelError) -> EngineTensor {
        let output = try EngineTensor(dtype: dtype, shape: tensor.shape)
        let source = UnsafePointer(tensor.floats.baseAddress)
        guard let source, let target = output.elements(UInt16.self).baseAddress else { return output }
        if dtype == .float16 { ck_f32_to_f16(source, target, tensor.count) } else { ck_f32_to_bf16(source, target, tensor.count) }
        return output
    }
}
