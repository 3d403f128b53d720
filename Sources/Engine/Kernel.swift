import Dispatch
import ModelCore

/// Runs one node. Built once per node when the plan is made, from the node's
/// schema (attributes already parsed) and whatever inputs are constant.
public protocol Kernel: Sendable {
    /// Computes the node's outputs; `nil` inputs are omitted optional inputs,
    /// `nil` outputs are optional outputs not produced.
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?]
}

/// What a kernel factory can see when the plan is built.
public struct KernelSetup: Sendable {
    public let node: Node
    /// The schema of the node's operator, with its attributes read.
    public let schema: any OpSchema
    /// Opset version of the node's domain.
    public let opset: Int
    /// Values known before running: initializers and Constant outputs, by input index.
    public let constants: [Int: EngineTensor]
    /// Plans for the node's subgraph attributes, by attribute name (If, Loop, Scan).
    public let subgraphs: [String: ExecutionPlan]
    /// Enclosing-scope values the subgraphs read; the kernel receives them,
    /// in this order, after the node's own inputs.
    public let capturedNames: [String]

    /// The schema as its concrete type, or an error naming the node.
    public func schema<S: OpSchema>(as type: S.Type) throws(ModelError) -> S {
        guard let typed = schema as? S else { throw ModelError(.internal, "internal: \(node.opType) has an unexpected schema") }
        return typed
    }
}

/// Builds a kernel for a node.
public typealias KernelFactory = @Sendable (KernelSetup) throws(ModelError) -> any Kernel

/// Settings of one execution.
public struct ExecutionContext: Sendable {
    /// Threads that kernels may use.
    public let threads: Int

    public init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// Runs `body(i)` for `i` in `0..<count`, spread over the context's threads.
    public func parallel(_ count: Int, _ body: (Int) -> Void) {
        if threads == 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { work.value($0) }
        }
    }

    /// Splits `0..<total` into about `threads` contiguous chunks of at least `grain` and runs them in parallel.
    public func parallelRanges(_ total: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(threads, total / max(grain, 1)))
        let size = (total + chunks - 1) / max(chunks, 1)
        parallel(chunks) { c in
            let lower = c * size, upper = min(total, lower + size)
            if lower < upper { body(lower..<upper) }
        }
    }
}

/// Wraps a closure that is only called while its creator waits (concurrentPerform).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Which kernel serves which operator.
public enum KernelRegistry {
    static let table: [String: KernelFactory] = {
        var table: [String: KernelFactory] = [:]
        for family in [NeuralKernels.registrations, ElementwiseKernels.registrations, ShapeKernels.registrations,
                       ControlFlowKernels.registrations, RecurrentKernels.registrations,
                       ExtraKernels.registrations, ReductionKernels.registrations] {
            table.merge(family) { first, _ in first }
        }
        return table
    }()

    /// The factory for an operator key (`Conv`, `com.microsoft.Gelu`), if the engine has one.
    public static func factory(for key: String) -> KernelFactory? { table[key] }

    /// Every operator the engine runs, sorted.
    public static var supportedOperators: [String] { table.keys.sorted() }
}
