internal import CKernels
import ModelCore

/// Runs one node. Built once per node when the plan is made, from the node's
/// schema (attributes already parsed) and whatever inputs are constant.
public protocol Kernel: Sendable {
    /// Computes the node's outputs; `nil` inputs are omitted optional inputs,
    /// `nil` outputs are optional outputs not produced.
    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?]
}

/// An operator schema that the engine can run: given what the plan knows
/// about the node, it makes the node's kernel. Each kernel file adds this
/// conformance to its schema, so the schema is the kernel's only source of
/// attributes and `OpRegistry` the only table of operator names.
public protocol Executable: OpSchema {
    func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel
}

/// What a schema can see when the plan makes its node's kernel.
public struct KernelSetup: Sendable {
    public let node: Node
    /// Opset version of the node's domain.
    public let opset: Int
    /// Values known before running: initializers and Constant outputs, by input index.
    public let constants: [Int: EngineTensor]
    /// Plans for the node's subgraph attributes, by attribute name (If, Loop, Scan).
    public let subgraphs: [String: ExecutionPlan]
    /// Enclosing-scope values the subgraphs read; the kernel receives them,
    /// in this order, after the node's own inputs.
    public let capturedNames: [String]

    /// The error for an operator that a schema serves but the engine does not run.
    public var noKernel: ModelError { Self.noKernel(for: node) }

    static func noKernel(for node: Node) -> ModelError {
        let key = OpRegistry.key(domain: node.domain, opType: node.opType)
        return ModelError(.unsupported(op: key, dtype: nil), "the engine has no kernel for operator \(key)")
    }
}

/// Settings of one execution.
public struct ExecutionContext: Sendable {
    /// Threads that kernels may use.
    public let threads: Int
    /// The most iterations a Loop may run: a trip count and a condition come
    /// from data, and a loop that never ends must end in an error, not a hang.
    public let maximumLoopIterations: Int

    /// Loop iterations allowed by default: far above real models (beam searches,
    /// non-maximum suppression run thousands), low enough to fail in seconds.
    public static let defaultLoopIterations = 1 << 20

    public init(threads: Int, maximumLoopIterations: Int = defaultLoopIterations) {
        self.threads = max(1, threads)
        self.maximumLoopIterations = max(0, maximumLoopIterations)
    }

    /// Runs `body(i)` for `i` in `0..<count`, spread over the context's threads.
    public func parallel(_ count: Int, _ body: (Int) -> Void) {
        if threads == 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        // The persistent workers of CKernels (ck_parallel), not a dispatch per
        // call: waking threads for every small operator cost more than the work.
        withoutActuallyEscaping(body) { body in
            var body = body
            withUnsafeMutablePointer(to: &body) { pointer in
                ck_parallel(count, threads, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, pointer)
            }
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
