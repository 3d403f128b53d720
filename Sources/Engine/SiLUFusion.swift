internal import CKernels
import ModelCore

/// Sigmoid(x) read only by Mul(x, Sigmoid(x)): SiLU (Swish), as exporters
/// write it (EfficientNet's activations, a Llama MLP's gate). The pair runs
/// as one step at the Mul: for float32 one vectorised pass, with no
/// intermediate tensor; for other types the two kernels in turn.
enum SiLUFusion {
    /// The index of each fused Mul, mapped to its Sigmoid's; nodes in `excluded` are left alone.
    static func find(in graph: Graph, excluding excluded: Set<Int>) -> [Int: Int] {
        let topology = graph.topology()
        let outputs = Set(graph.outputs.map(\.name))
        var pairs: [Int: Int] = [:]
        for (index, node) in graph.nodes.enumerated()
        where node.opType == "Sigmoid" && node.domain.isEmpty && !excluded.contains(index) {
            guard node.inputs.count == 1, let x = node.inputs.first, !x.isEmpty, let s = node.outputs.first, !outputs.contains(s),
                  let readers = topology.consumers[s], readers.count == 1, !excluded.contains(readers[0]) else { continue }
            let mul = graph.nodes[readers[0]]
            guard mul.opType == "Mul", mul.domain.isEmpty, mul.inputs.count == 2, Set(mul.inputs) == [x, s] else { continue }
            pairs[readers[0]] = index
        }
        return pairs
    }
}

/// The fused step: input 0 is x.
struct SiLUKernel: Kernel {
    let sigmoid: any Kernel, product: any Kernel
    /// Whether the Mul reads the sigmoid first: Mul(Sigmoid(x), x).
    let sigmoidFirst: Bool

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "SiLU input")
        guard x.dtype == .float else {
            let s = try requiredInput(try sigmoid.run([x], context), 0, "Sigmoid output")
            return try product.run(sigmoidFirst ? [s, x] : [x, s], context)
        }
        let output = try EngineTensor(dtype: .float, shape: x.shape)
        let (from, to) = (UnsafePointer(x.floats.baseAddress!), output.floats.baseAddress!)
        context.parallelRanges(x.count, grain: elementwiseGrain) { range in
            ck_silu_f32(from + range.lowerBound, to + range.lowerBound, range.count)
        }
        return [output]
    }
}
