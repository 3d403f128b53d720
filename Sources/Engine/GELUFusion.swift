internal import CKernels
import ModelCore

/// GELU as exporters write it, in one of its two forms:
///
///     erf:   Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)
///     tanh:  Mul(Mul(x, Add(Tanh(Mul(Add(x, Mul(Pow(x, 3), 0.044715)), √(2/π))), 1)), 0.5)
///
/// in either operand order of each Add and Mul, with Mul(x, 1/√2) for the
/// Div, and with the half taken of x first: Mul(Mul(x, 0.5), Add(…)). The
/// chain runs as one step at its last node: for float32 one vectorised pass
/// (a ViT's or ConvNeXt's MLP made five passes over its widest activation,
/// GPT-2's eight), for other types its own kernels in turn.
struct GELUFusion: Sendable {
    enum Form: Sendable { case erf, tanh }

    let form: Form
    /// The chain's input.
    let x: String
    /// The chain's nodes in graph order; the last one produces the output.
    let nodes: [Int]

    /// The nodes that run inside the last one's step.
    var absorbed: [Int] { Array(nodes.dropLast()) }

    /// The chains of `graph`, by the index of their last node. Every value
    /// inside a chain is read only by the chain and is not a graph output;
    /// the constants are one-element floating-point initializers or Constants.
    static func find(in graph: Graph, excluding excluded: Set<Int>) -> [Int: GELUFusion] {
        let topology = graph.topology()
        let outputs = Set(graph.outputs.map(\.name))
        let constants = GraphConstants(graph)
        /// The node that makes `value`, of type `op` with two inputs, when only one node reads `value`.
        func soleProducer(of value: String, _ op: String) -> Int? {
            guard !outputs.contains(value), topology.consumers[value]?.count == 1, let index = topology.producers[value],
                  !excluded.contains(index) else { return nil }
            let node = graph.nodes[index]
            return node.opType == op && node.domain.isEmpty && node.inputs.count == 2 ? index : nil
        }
        /// The one node that reads `value`, when it is of type `op` with two inputs.
        func soleReader(of value: String, _ op: String) -> Int? {
            guard !outputs.contains(value), let readers = topology.consumers[value], readers.count == 1,
                  !excluded.contains(readers[0]) else { return nil }
            let node = graph.nodes[readers[0]]
            return node.opType == op && node.domain.isEmpty && node.inputs.count == 2 ? readers[0] : nil
        }
        /// For a two-input node: its input other than `value`, when `value` is one of them.
        func other(_ index: Int, than value: String) -> String? {
            let inputs = graph.nodes[index].inputs
            return inputs[0] == value ? inputs[1] : inputs[1] == value ? inputs[0] : nil
        }
        func isScalar(_ name: String?, _ expected: Float) -> Bool {
            guard let name else { return false }
            return constants.scalar(name, approximates: expected)
        }
        /// x·(1 + inner)·0.5 after the Erf or Tanh that makes `inner`: the
        /// Add, and the two products in either order.
        func tail(_ inner: String, x: String) -> [Int]? {
            guard let a = soleReader(of: inner, "Add"), isScalar(other(a, than: inner), 1),
                  let sum = graph.nodes[a].outputs.first, let m = soleReader(of: sum, "Mul"),
                  let factor = other(m, than: sum) else { return nil }
            if factor == x {
                guard let product = graph.nodes[m].outputs.first, let half = soleReader(of: product, "Mul"),
                      isScalar(other(half, than: product), 0.5) else { return nil }
                return [a, m, half]
            }
            guard let h = soleProducer(of: factor, "Mul"), isScalar(other(h, than: x), 0.5) else { return nil }
            return [h, a, m]
        }
        /// x when `value` is Mul(x, c) or Mul(c, x) with c ≈ `factor`.
        func scaled(_ index: Int, by factor: Float) -> String? {
            let inputs = graph.nodes[index].inputs
            return isScalar(inputs[1], factor) ? inputs[0] : isScalar(inputs[0], factor) ? inputs[1] : nil
        }

        var chains: [Int: GELUFusion] = [:]
        func record(_ form: Form, _ x: String, _ nodes: [Int]) {
            let nodes = nodes.sorted()
            guard let last = nodes.last, chains[last] == nil else { return }
            chains[last] = GELUFusion(form: form, x: x, nodes: nodes)
        }
        for (index, node) in graph.nodes.enumerated()
        where node.domain.isEmpty && (node.opType == "Erf" || node.opType == "Tanh") && !excluded.contains(index) {
            guard node.inputs.count == 1, let inner = node.outputs.first, !inner.isEmpty else { continue }
            if node.opType == "Erf" {
                // x / √2, or x · (1/√2).
                if let d = soleProducer(of: node.inputs[0], "Div"), isScalar(graph.nodes[d].inputs[1], 1.41421356),
                   let x = graph.nodes[d].inputs.first, let rest = tail(inner, x: x) {
                    record(.erf, x, [d, index] + rest)
                } else if let d = soleProducer(of: node.inputs[0], "Mul"), let x = scaled(d, by: 0.70710678),
                          let rest = tail(inner, x: x) {
                    record(.erf, x, [d, index] + rest)
                }
            } else {
                // √(2/π)·(x + 0.044715·x³).
                guard let k = soleProducer(of: node.inputs[0], "Mul"), let sum = scaled(k, by: 0.79788456),
                      let s = soleProducer(of: sum, "Add") else { continue }
                for (x, cubicTerm) in [(graph.nodes[s].inputs[0], graph.nodes[s].inputs[1]), (graph.nodes[s].inputs[1], graph.nodes[s].inputs[0])] {
                    guard let c = soleProducer(of: cubicTerm, "Mul"), let cube = scaled(c, by: 0.044715),
                          let p = soleProducer(of: cube, "Pow"), graph.nodes[p].inputs[0] == x, isScalar(graph.nodes[p].inputs[1], 3),
                          let rest = tail(inner, x: x) else { continue }
                    record(.tanh, x, [p, c, s, k, index] + rest)
                    break
                }
            }
        }
        return chains
    }
}

/// The fused step: input 0 is x.
struct GELUKernel: Kernel {
    /// The chain's nodes, for types other than float32: each one's kernel,
    /// the values it reads (x, an earlier link's output, or a constant) and
    /// the value it makes.
    struct Link: Sendable {
        let kernel: any Kernel
        let inputs: [String]
        let output: String
    }

    let form: GELUFusion.Form
    let x: String
    let links: [Link]
    let constants: [String: EngineTensor]

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let input = try requiredInput(inputs, 0, "GELU input")
        guard input.dtype == .float else { return [try runLinks(input, context)] }
        let output = try EngineTensor(dtype: .float, shape: input.shape)
        let (from, to) = (UnsafePointer(input.floats.baseAddress!), output.floats.baseAddress!)
        let form = self.form
        context.parallelRanges(input.count, grain: elementwiseGrain) { range in
            switch form {
            case .erf: ck_gelu_f32(from + range.lowerBound, to + range.lowerBound, range.count)
            case .tanh: ck_gelu_tanh_f32(from + range.lowerBound, to + range.lowerBound, range.count)
            }
        }
        return [output]
    }

    private func runLinks(_ input: EngineTensor, _ context: ExecutionContext) throws(ModelError) -> EngineTensor? {
        var values = constants
        values[x] = input
        var last: EngineTensor?
        for link in links {
            last = try link.kernel.run(link.inputs.map { values[$0] }, context).first ?? nil
            values[link.output] = last
        }
        return last
    }
}
