import ModelCore

/// One pass over a graph's nodes in order: each node's schema turns the facts
/// about its inputs into facts about its outputs and counts its work. A
/// control-flow node's bodies are walked too, seeing the enclosing scope's
/// values, and the schema turns their costs into the node's.
struct GraphWalk {
    /// Subgraphs nested deeper than this are not walked; their node stays uncounted.
    static let maximumDepth = 32

    let opsets: [String: Int]
    /// Symbols the options fixed, applied to every inferred fact.
    let resolved: [String: Int]
    /// Facts about every value in scope.
    var facts: [String: ValueFact]
    /// Stored tensors in scope: initializers and `Constant` outputs.
    var stored: [String: Tensor]
    /// `Identity` outputs → the stored tensor they pass through.
    var alias: [String: String] = [:]

    init(opsets: [String: Int], resolved: [String: Int], facts: [String: ValueFact], stored: [String: Tensor]) {
        self.opsets = opsets
        self.resolved = resolved
        self.facts = facts
        self.stored = stored
    }

    /// Reports for `nodes`; `declared` holds the types the file gives their outputs.
    mutating func visit(_ nodes: [Node], declared: [String: ValueFact], depth: Int) -> [NodeReport] {
        var reports: [NodeReport] = []
        for (index, node) in nodes.enumerated() {
            let inputFacts: [ValueFact?] = node.inputs.map { $0.isEmpty ? nil : facts[$0] ?? .unknown }
            var status = NodeStatus.counted
            var outputFacts: [ValueFact] = []
            var cost: OpCost?
            var note: String?
            var bodyParameters: [ParameterUse] = []
            var schema: (any OpSchema)?
            do {
                schema = try OpRegistry.schema(for: node, opset: opsets[node.domain == "ai.onnx" ? "" : node.domain] ?? 1)
                if let schema {
                    outputFacts = try schema.infer(inputFacts)
                    if let runner = schema as? any RunsSubgraphs {
                        (cost, note, bodyParameters) = walkBodies(of: runner, inputFacts, depth: depth)
                    } else {
                        cost = schema.cost(inputFacts, outputFacts)
                    }
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
            reports.append(NodeReport(index: index, node: node, status: status, cost: cost, note: note,
                                      inputs: inputFacts, outputs: node.outputs.map { $0.isEmpty ? nil : facts[$0] },
                                      parameters: parameters + bodyParameters))
        }
        return reports
    }

    /// The node's cost from its bodies, what makes it an estimate or keeps it
    /// uncounted, and the parameters its bodies use (each tensor once, though
    /// a body may run many times).
    private func walkBodies(of runner: any RunsSubgraphs, _ inputs: [ValueFact?],
                            depth: Int) -> (OpCost?, String?, [ParameterUse]) {
        guard depth < Self.maximumDepth else {
            return (nil, "its subgraphs are nested deeper than \(Self.maximumDepth) levels", [])
        }
        var costs: [OpCost] = []
        var estimates: [String] = []
        var uncounted: String?
        var parameters: [String: ParameterUse] = [:]
        for call in runner.bodies(inputs) {
            var inner = self
            inner.alias = [:]
            for tensor in call.graph.initializers {
                inner.stored[tensor.name] = tensor
                inner.facts[tensor.name] = ValueFact(tensor: tensor)
            }
            for (info, fact) in zip(call.graph.inputs, call.inputs) {
                inner.facts[info.name] = fact.filling(from: ValueFact(declared: info.type))
            }
            var declared: [String: ValueFact] = [:]
            for info in call.graph.valueInfo + call.graph.outputs {
                if let fact = ValueFact(declared: info.type) { declared[info.name] = fact }
            }
            let reports = inner.visit(call.graph.nodes, declared: declared, depth: depth + 1)
            for report in reports {
                for use in report.parameters { parameters[use.source] = use }
                if let note = report.note, report.status == .counted { estimates.append("\(report.name): \(note)") }
            }
            if uncounted == nil, let first = reports.first(where: { $0.status != .counted }) {
                uncounted = "\(call.attribute) node \(first.name) (\(first.op)) is not counted"
            }
            var sum: OpCost? = .zero
            for report in reports { if let cost = report.cost { sum = sum?.adding(cost) } }
            if let sum { costs.append(sum) } else { uncounted = uncounted ?? "its work does not fit the counters" }
        }
        let uses = parameters.values.sorted { $0.source < $1.source }
        if let uncounted { return (nil, uncounted, uses) }
        guard let combined = runner.cost(inputs, bodies: costs) else {
            return (nil, "its work does not fit the counters", uses)
        }
        let notes = ([combined.estimate].compactMap { $0 } + estimates.map { "inside, \($0)" })
        return (combined.cost, notes.isEmpty ? nil : notes.joined(separator: "; "), uses)
    }
}
