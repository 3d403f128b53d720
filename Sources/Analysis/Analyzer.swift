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
        var reports: [NodeReport] = []
        var alias: [String: String] = [:]   // Identity outputs → the stored tensor they pass through
        for (index, node) in graph.nodes.enumerated() {
            let inputFacts: [ValueFact?] = node.inputs.map { $0.isEmpty ? nil : facts[$0] ?? .unknown }
            var status = NodeStatus.counted
            var outputFacts: [ValueFact] = []
            var cost: OpCost?
            var schema: (any OpSchema)?
            do {
                schema = try OpRegistry.schema(for: node, opset: opsets[node.domain == "ai.onnx" ? "" : node.domain] ?? 1)
                if let schema {
                    outputFacts = try schema.infer(inputFacts)
                    cost = schema.cost(inputFacts, outputFacts)
                    if cost == nil { status = .uncounted }
                } else {
                    status = .unknownOperator
                }
            } catch {
                status = .invalid(error.message)
            }

            for (i, output) in node.outputs.enumerated() where !output.isEmpty {
                var fact = i < outputFacts.count ? outputFacts[i] : .unknown
                fact = fact.filling(from: declared[output]).substituting(resolved)
                facts[output] = fact
            }
            if node.opType == "Identity", node.domain.isEmpty, let source = node.inputs.first, let output = node.outputs.first {
                alias[output] = alias[source] ?? (stored[source] != nil ? source : nil)
            }
            if node.opType == "Constant", node.domain.isEmpty, let output = node.outputs.first,
               case .tensor(let tensor)? = node.attribute("value")?.value {
                stored[output] = tensor
            }

            // The schema says which stored inputs hold learned values (quantised weights among them).
            var parameters: [ParameterUse] = []
            let sources = node.inputs.map { $0.isEmpty ? nil : alias[$0] ?? $0 }
            let storedInputs = sources.map { $0.flatMap { stored[$0] } }
            let learned = schema?.learnedValues(stored: storedInputs) ?? storedInputs.map { $0.flatMap(LearnedValues.init(floatingPoint:)) }
            for (i, values) in learned.enumerated() where i < sources.count {
                guard let values, let source = sources[i], let tensor = storedInputs[i], node.opType != "Identity",
                      !(tensor.elementCount == 1 && schema?.oneElementInputsAreConstants == true) else { continue }
                parameters.append(ParameterUse(source: source, elements: values.elements, bytes: values.bytes))
            }
            reports.append(NodeReport(index: index, node: node, status: status, cost: cost,
                                      inputs: inputFacts, outputs: node.outputs.map { $0.isEmpty ? nil : facts[$0] },
                                      parameters: parameters))
        }
        return ModelAnalysis(nodes: reports, facts: facts, inputs: graph.runtimeInputs.map(\.name), outputs: graph.outputs.map(\.name))
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
