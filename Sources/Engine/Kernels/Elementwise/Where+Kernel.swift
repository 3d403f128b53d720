import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

/// Where(condition, X, Y): elements of X where the condition holds, else of Y; any element type.
struct WhereKernel: Kernel {
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let condition = try requiredInput(inputs, 0, "condition")
        let x = try requiredInput(inputs, 1, "input X"), y = try requiredInput(inputs, 2, "input Y")
        guard condition.dtype == .bool else { throw ModelError(.invalidGraph, "Where condition must be bool, got \(condition.dtype)") }
        try requireSameType([x, y], "Where")
        let shape = try broadcastShape(try broadcastShape(condition.shape, x.shape), y.shape)
        let walk = BroadcastWalk(shape: shape, operands: [condition.shape, x.shape, y.shape])
        let step = walk.innerStrides
        let c = condition.elements(UInt8.self)
        if let u = x.strings, let v = y.strings {
            let count = Shape.product(shape) ?? 0
            var result = [[UInt8]](repeating: [], count: count)
            walk.forEachRun(0..<count) { start, o, length in
                for j in 0..<length {
                    result[start + j] = c[o[0] + j * step[0]] != 0 ? u[o[1] + j * step[1]] : v[o[2] + j * step[2]]
                }
            }
            return [EngineTensor(strings: result, shape: shape)]
        }
        let output = try EngineTensor(dtype: x.dtype, shape: shape)
        // Selection only copies, so the element's width is all that matters.
        switch x.dtype.bitsPerElement {
        case 8?: select(UInt8.self, c, x, y, output, walk, context)
        case 16?: select(UInt16.self, c, x, y, output, walk, context)
        case 32?: select(UInt32.self, c, x, y, output, walk, context)
        case 64?: select(UInt64.self, c, x, y, output, walk, context)
        default: throw ElementTypes.unsupported("Where", x.dtype, "8-, 16-, 32- and 64-bit and string")
        }
        return [output]
    }

    private func select<T>(_ type: T.Type, _ c: UnsafeMutableBufferPointer<UInt8>, _ x: EngineTensor, _ y: EngineTensor,
                           _ output: EngineTensor, _ walk: BroadcastWalk, _ context: ExecutionContext) {
        let (u, v, z) = (x.elements(T.self), y.elements(T.self), output.elements(T.self))
        let step = walk.innerStrides
        context.parallelRanges(output.count, grain: elementwiseGrain) { range in
            walk.forEachRun(range) { start, o, length in
                for j in 0..<length {
                    z[start + j] = c[o[0] + j * step[0]] != 0 ? u[o[1] + j * step[1]] : v[o[2] + j * step[2]]
                }
            }
        }
    }
}

extension Where: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { WhereKernel() }
}
