import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Variadic, selection and pass-through

/// Sum, Mean, Max, Min over any number of inputs broadcast together.
struct VariadicKernel: Kernel {
    /// Which combination.
    enum Operation: Sendable {
        case sum, mean, max, min

        static let operators = ["Sum", "Mean", "Max", "Min"]
    }

    let operation: Operation
    let op: String

    init(_ setup: KernelSetup) throws(ModelError) {
        op = setup.node.opType
        operation = op == "Sum" ? .sum : op == "Mean" ? .mean : op == "Max" ? .max : .min
    }

    /// The fold over one element type.
    struct Apply: NumberVisitor {
        let operation: Operation
        let inputs: [EngineTensor]
        let context: ExecutionContext

        func visit<T: Number>(_ type: T.Type) throws(ModelError) -> EngineTensor {
            var result = inputs[0]
            for next in inputs.dropFirst() {
                switch operation {
                case .sum, .mean: result = try broadcastBinary(result, next, result.dtype, context) { T.sum($0, $1) as T }
                case .max: result = try broadcastBinary(result, next, result.dtype, context) { T.larger($0, $1) as T }
                case .min: result = try broadcastBinary(result, next, result.dtype, context) { T.smaller($0, $1) as T }
                }
            }
            if case .mean = operation, inputs.count > 1 {
                let output = try EngineTensor(dtype: result.dtype, shape: result.shape)
                let n = T(double: Double(inputs.count))
                mapUnary(result, output, context) { T.quotient($0, n) as T }
                result = output
            }
            return result
        }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let present = inputs.compactMap { $0 }
        guard let first = present.first else { throw ModelError(.invalidGraph, "\(op) needs at least one input") }
        try requireSameType(present, op)
        return [try ElementTypes.visit(first.dtype, Apply(operation: operation, inputs: present, context: context), op)]
    }
}

extension Variadic: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try VariadicKernel(setup) }
}
