import ModelCore

/// How to fix what the file leaves open before analysing.
public struct AnalysisOptions: Sendable, Equatable {
    /// Full shapes for named graph inputs (`--input-shape NAME=1x3x224x224`).
    public var inputShapes: [String: [Int]]
    /// A value for the first dimension of every input whose first dimension is symbolic or unknown (`--batch N`).
    public var batch: Int?
    /// Values for named symbolic dimensions of the inputs (`--symbol seq=128,past=0`).
    public var symbols: [String: Int]

    public init(inputShapes: [String: [Int]] = [:], batch: Int? = nil, symbols: [String: Int] = [:]) {
        self.inputShapes = inputShapes
        self.batch = batch
        self.symbols = symbols
    }
}

/// Runs shape inference and cost counting over a model's main graph.
///
/// Nodes are visited in topological order. Each known operator's schema
/// turns the facts about its inputs into facts about its outputs (with
/// constant propagation for small integer tensors) and counts its work.
/// An operator the project does not know, or whose attributes are invalid,
/// does not stop the analysis: its outputs fall back to the types the file
/// declares, and it is reported, never counted as zero.
public enum Analyzer {
    public static func analyze(_ model: Model, options: AnalysisOptions = AnalysisOptions()) throws(ModelError) -> ModelAnalysis {
        let graph = model.graph
        var facts: [String: ValueFact] = [:]
        var declared: [String: ValueFact] = [:]
        for info in graph.valueInfo + graph.outputs {
            if let fact = ValueFact(declared: info.type) { declared[info.name] = fact }
        }

        // Parameters: stored floating-point tensors, followed through Identity.
        var stored: [String: Tensor] = [:]
        for tensor in graph.initializers {
            stored[tensor.name] = tensor
            facts[tensor.name] = ValueFact(tensor: tensor)
        }
        let runtimeInputs = graph.runtimeInputs
        let inputNames = Set(runtimeInputs.map(\.name))
        for name in options.inputShapes.keys where !inputNames.contains(name) {
            throw ModelError(.usage, "--input-shape names '\(name)', but the model's inputs are \(runtimeInputs.map(\.name).joined(separator: ", "))")
        }
        let inputSymbols = Set(runtimeInputs.flatMap { info -> [String] in
            guard case .tensor(_, let shape?)? = info.type else { return [] }
            return shape.dims.compactMap { if case .symbol(let name) = $0 { name } else { nil } }
        })
        for name in options.symbols.keys.sorted() where !inputSymbols.contains(name) {
            let known = inputSymbols.isEmpty ? "none" : inputSymbols.sorted().joined(separator: ", ")
            throw ModelError(.usage, "--symbol names '\(name)', but the inputs' symbolic dimensions are \(known)")
        }
        for info in runtimeInputs {
            var fact = (ValueFact(declared: info.type) ?? .unknown).substituting(options.symbols)
            if let dims = options.inputShapes[info.name] {
                if let rank = fact.shape?.rank, rank != dims.count {
                    throw ModelError(.usage, "--input-shape gives '\(info.name)' \(dims.count) dimensions, the model declares \(rank)")
                }
                fact.shape = Shape(dims)
            } else if let batch = options.batch, var dims = fact.shape?.dims, let first = dims.first, first.value == nil {
                dims[0] = .known(batch)
                fact.shape = Shape(dims)
            }
            facts[info.name] = fact
        }
        let resolved = Self.resolvedSymbols(graph: graph, facts: facts)

        let opsets = Dictionary(model.opsets.map { ($0.domain == "ai.onnx" ? "" : $0.domain, Int($0.version)) }, uniquingKeysWith: max)
        var walk = GraphWalk(opsets: opsets, resolved: resolved, facts: facts, stored: stored)
        let reports = walk.visit(graph.nodes, declared: declared, depth: 0)
        let analysis = ModelAnalysis(nodes: reports, facts: walk.facts, inputs: graph.runtimeInputs.map(\.name), outputs: graph.outputs.map(\.name))
        try CountSums.check(analysis)
        return analysis
    }

    /// Symbols the options fixed: `--batch 1` turns `N` into 1 wherever `N` appears.
    private static func resolvedSymbols(graph: Graph, facts: [String: ValueFact]) -> [String: Int] {
        var resolved: [String: Int] = [:]
        for info in graph.runtimeInputs {
            guard case .tensor(_, let declared?)? = info.type, let actual = facts[info.name]?.shape,
                  declared.rank == actual.rank else { continue }
            for (d, a) in zip(declared.dims, actual.dims) {
                if case .symbol(let name) = d, let value = a.value { resolved[name] = value }
            }
        }
        return resolved
    }
}

/// Every total the reports add up (a node's inputs, outputs and parameters,
/// the model's counts, the live activations) must fit in an `Int`. Each node's
/// figures are checked where they are counted, but their sums are not: two
/// inputs of 2^62 bytes, or two nodes of 2^62 FLOPs, are each countable and
/// together past 2^63 − 1. Checking once here lets every total, stage and
/// table after it add plainly, since all the figures are non-negative.
enum CountSums {
    static func check(_ analysis: ModelAnalysis) throws(ModelError) {
        var sums = Sums()
        for name in analysis.inputs {
            guard sums.add(analysis.facts[name]?.byteCount ?? 0, to: \.liveBytes) else {
                throw ModelError(.limit, "the inputs' sizes add up past 2^63 − 1 bytes", location: "input '\(name)'")
            }
        }
        for report in analysis.nodes {
            // The live set is measured on the final facts, as `peakActivation`
            // reads them; traffic on the facts the node saw.
            let fits = sums.add(report.macs, to: \.macs) && sums.add(report.flops, to: \.flops)
                && report.parameters.allSatisfy { sums.add($0.elements, to: \.parameters) && sums.add($0.bytes, to: \.weightBytes) }
                && (report.inputs + report.outputs).allSatisfy { sums.add($0?.byteCount ?? 0, to: \.traffic) }
                && report.node.outputs.allSatisfy { sums.add(analysis.facts[$0]?.byteCount ?? 0, to: \.liveBytes) }
            guard fits else {
                throw ModelError(.limit, "the model's counts add up past 2^63 − 1", location: "node '\(report.name)' (\(report.op))")
            }
        }
    }

    private struct Sums {
        var macs = 0, flops = 0, parameters = 0, weightBytes = 0
        /// Bytes read and written by all the nodes, together.
        var traffic = 0
        /// The inputs' and every node output's bytes: a bound on any live set.
        var liveBytes = 0

        mutating func add(_ value: Int, to sum: WritableKeyPath<Sums, Int>) -> Bool {
            let (total, overflow) = self[keyPath: sum].addingReportingOverflow(value)
            self[keyPath: sum] = total
            return !overflow && value >= 0
        }
    }
}

/// One stored tensor that a node uses as a learned parameter.
public struct ParameterUse: Sendable, Equatable {
    /// The stored tensor (after following Identity aliases).
    public var source: String
    public var elements: Int
    public var bytes: Int
}

extension ValueFact {
    /// The fact a declared type gives, if it is a tensor type.
    init?(declared type: ValueType?) {
        guard case .tensor(let dtype, let shape)? = type else { return nil }
        self.init(dtype: dtype == .undefined ? nil : dtype, shape: shape)
    }

    /// Unknown parts taken from `declared`, when the file says more than inference found.
    func filling(from declared: ValueFact?) -> ValueFact {
        guard let declared else { return self }
        var fact = self
        if fact.dtype == nil { fact.dtype = declared.dtype }
        if fact.shape == nil {
            fact.shape = declared.shape
        } else if let shape = fact.shape, let other = declared.shape, shape.rank == other.rank {
            fact.shape = Shape(zip(shape.dims, other.dims).map { inferred, given in inferred == .unknown ? given : inferred })
        }
        return fact
    }

    /// Symbols replaced by the numbers the options fixed.
    func substituting(_ values: [String: Int]) -> ValueFact {
        guard !values.isEmpty, let shape else { return self }
        var fact = self
        fact.shape = Shape(shape.dims.map { $0.substituting(values) })
        if let value = fact.value, case .integers(let dims) = value.elements {
            fact.value = KnownValue(dims: value.dims, elements: .integers(dims.map { $0.substituting(values) }))
        }
        return fact
    }
}
