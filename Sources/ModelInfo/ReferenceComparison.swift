import FoundationEssentials

/// Two models run side by side on the same inputs, every value that both
/// make compared as soon as both exist: `modelinfo verify MODEL --reference
/// OTHER`. OTHER is the same model in another format, a lossy conversion or
/// a rewritten graph.
///
/// Values are matched by name, or, where names differ, by the node that
/// makes them and the output's position. The two runs advance in turns, the
/// one holding fewer unmatched values first, and a compared pair is let go at
/// once; a value whose partner the other model never makes is not kept at
/// all. So each run holds about what it holds alone, never all intermediates.
/// Values inside a group the engine fuses (a Conv's output before its Relu)
/// are never made, so a group is compared at its output and named by its
/// first node.
public struct ReferenceComparison: Sendable, Encodable {
    /// One compared value.
    public struct Value: Sendable, Encodable {
        /// The node that makes it in MODEL (the first node of a fused group).
        public let name: String
        public let op: String
        /// The value's name in MODEL.
        public let output: String
        public let maxAbsError: Double
        public let maxRelError: Double
        public let cosine: Double?
        public let withinTolerance: Bool
        /// Why the values could not be compared (shape or type), if so.
        public let problem: String?
        /// The values the node (or its fused group) reads from outside, weights excluded.
        public let reads: [String]
        /// The stored tensors of rank 2 or more it reads: the weights a lossy conversion changes.
        public let weights: [String]

        private enum CodingKeys: String, CodingKey {
            case name, op, output, maxAbsError, maxRelError, cosine, withinTolerance, problem
        }
    }

    /// The first value outside tolerance, in MODEL's execution order, with
    /// how the values its node read compared: whether the error came in, or
    /// was made there.
    public struct Divergence: Sendable, Encodable {
        public let node: String
        public let op: String
        public let output: String
        public let maxAbsError: Double
        public let maxRelError: Double
        public let cosine: Double?
        /// The node's inputs that were compared, before it.
        public let inputs: [Value]
        /// The weights the node or its fused group reads (stored tensors of rank 2 or more).
        public let weights: [String]
    }

    public let atol: Double
    public let rtol: Double
    /// When set, a value passes on its cosine similarity alone (a lossy
    /// conversion's check, where every value differs a little): at least this.
    public let minCosine: Double?
    public let firstDivergence: Divergence?
    /// In MODEL's execution order.
    public let nodes: [Value]

    private enum CodingKeys: String, CodingKey { case atol, rtol, minCosine, firstDivergence, nodes }

    /// `firstDivergence` is written as null when there is none, rather than left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(atol, forKey: .atol)
        try container.encode(rtol, forKey: .rtol)
        try container.encodeIfPresent(minCosine, forKey: .minCosine)
        try container.encode(firstDivergence, forKey: .firstDivergence)
        try container.encode(nodes, forKey: .nodes)
    }

    /// The value whose cosine similarity falls furthest below that of the
    /// values it reads: where a lossy conversion does its damage, rather than
    /// where the error it carries first crosses a threshold. nil when no value
    /// loses similarity.
    public var largestAddedError: Value? {
        let byOutput = Dictionary(nodes.map { ($0.output, $0) }, uniquingKeysWith: { first, _ in first })
        func loss(_ value: Value) -> Double { 1 - (value.cosine ?? 0) }
        var best: (value: Value, added: Double)?
        for value in nodes {
            let inherited = value.reads.compactMap { byOutput[$0].map(loss) }.max() ?? 0
            let added = loss(value) - inherited
            if added > 0 && added > (best?.added ?? 0) { best = (value, added) }
        }
        return best?.value
    }

    /// Whether every compared value is within tolerance.
    public var passed: Bool { nodes.allSatisfy(\.withinTolerance) }

    /// Runs `model` and `reference` on `feeds` and compares their common values.
    public init(model: Model, reference: Model, feeds: [String: EngineValue], atol: Double, rtol: Double, minCosine: Double? = nil,
                context: ExecutionContext) throws(ModelError) {
        let plans = (try ExecutionPlan(model: model), try ExecutionPlan(model: reference))
        let ours = ValueOrigins(model.graph), theirs = ValueOrigins(reference.graph)
        // Each of our values' name in the reference, and back, for those both runs make.
        var partner: [String: String] = [:]
        let theirsMade = plans.1.producedNames
        for name in plans.0.producedNames {
            guard let origin = ours.origin[name] else { continue }
            let match = theirsMade.contains(name) ? name : theirs.value(madeBy: origin)
            if let match, theirsMade.contains(match) { partner[name] = match }
        }
        let partnerOf = Dictionary(partner.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })

        let runs = (try StepwiseRun(plans.0, feeds: feeds, context: context),
                    try StepwiseRun(plans.1, feeds: try Self.feeds(feeds, for: reference.graph), context: context))
        var collector = Collector(graph: model.graph, atol: atol, rtol: rtol, minCosine: minCosine)
        // Values made by one run and waiting for the other's, by our name.
        var waitingOurs: [String: (value: EngineValue, nodes: [Int], order: Int)] = [:], waitingTheirs: [String: EngineValue] = [:]
        var madeCount = 0
        while !(runs.0.isFinished && runs.1.isFinished) {
            if !runs.0.isFinished && (runs.1.isFinished || waitingOurs.count <= waitingTheirs.count) {
                let (nodes, made) = try runs.0.step()
                for (name, value) in made {
                    guard let match = partner[name] else { continue }
                    madeCount += 1
                    if let expected = waitingTheirs.removeValue(forKey: match) {
                        try collector.compare(name, value, nodes: nodes, order: madeCount, with: try expected.stored(name: name))
                    } else {
                        waitingOurs[name] = (value, nodes, madeCount)
                    }
                }
            } else {
                for (name, value) in try runs.1.step().values {
                    guard let ourName = partnerOf[name] else { continue }
                    if let waiting = waitingOurs.removeValue(forKey: ourName) {
                        try collector.compare(ourName, waiting.value, nodes: waiting.nodes, order: waiting.order,
                                              with: try value.stored(name: ourName))
                    } else {
                        waitingTheirs[name] = value
                    }
                }
            }
        }
        (nodes, firstDivergence) = collector.result()
        self.atol = atol
        self.rtol = rtol
        self.minCosine = minCosine
    }

    /// Runs `model` on `feeds` and compares each value it makes with the
    /// file another runtime saved for it in `folder`:
    /// `<sanitized name>.npy` or `.pb` (see `sanitized`), for any subset of values.
    public init(model: Model, intermediates folder: String, feeds: [String: EngineValue], atol: Double, rtol: Double,
                context: ExecutionContext) throws(ModelError) {
        let run = try StepwiseRun(try ExecutionPlan(model: model), feeds: feeds, context: context)
        var collector = Collector(graph: model.graph, atol: atol, rtol: rtol, minCosine: nil)
        var madeCount = 0
        while !run.isFinished {
            let (nodes, made) = try run.step()
            for (name, value) in made {
                madeCount += 1
                guard let path = Self.savedFile(for: name, in: folder) else { continue }
                guard let expected = try TensorFile.read(path: path).first else {
                    throw ModelError(.malformed, "holds no tensor", file: path)
                }
                try collector.compare(name, value, nodes: nodes, order: madeCount, with: .tensor(expected))
            }
        }
        (nodes, firstDivergence) = collector.result()
        self.atol = atol
        self.rtol = rtol
        minCosine = nil
    }

    /// A value's name as a file name: every character other than a letter,
    /// a digit, `.`, `-` and `_` becomes `_` (`/layer1/conv/Conv_output_0`
    /// is `_layer1_conv_Conv_output_0`). `Tools/dump-intermediates` names its
    /// files so.
    public static func sanitized(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_") ? $0 : "_" })
    }

    /// The saved file for `name` in `folder`, if there is one.
    public static func savedFile(for name: String, in folder: String) -> String? {
        let base = folder + "/" + sanitized(name)
        return [".npy", ".pb"].map { base + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Compared values as they come, and the first divergence at the end.
    struct Collector {
        let graph: Graph
        let atol: Double, rtol: Double, minCosine: Double?
        private var compared: [(order: Int, value: Value)] = []

        /// The graph's initializers, by name.
        private let stored: [String: Tensor]

        init(graph: Graph, atol: Double, rtol: Double, minCosine: Double?) {
            (self.graph, self.atol, self.rtol, self.minCosine) = (graph, atol, rtol, minCosine)
            stored = Dictionary(graph.initializers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        }

        mutating func compare(_ name: String, _ value: EngineValue, nodes: [Int], order: Int, with expected: StoredValue) throws(ModelError) {
            let node = nodes.first.map { graph.nodes[$0] }
            let op = nodes.map { graph.nodes[$0].opType }.joined(separator: "+")
            let result = OutputComparison(name: name, actual: try ReferenceComparison.widened(value.stored(name: name)),
                                          expected: try ReferenceComparison.widened(expected), atol: atol, rtol: rtol)
            let members = nodes.map { graph.nodes[$0] }
            let inside = Set(members.flatMap(\.outputs))
            var seen = Set<String>()
            let outside = members.flatMap(\.inputs).filter { !$0.isEmpty && !inside.contains($0) && seen.insert($0).inserted }
            compared.append((order, Value(name: node.map { $0.name.isEmpty ? "#\(nodes[0])" : $0.name } ?? name, op: op,
                                          output: name, maxAbsError: result.maxAbsoluteError, maxRelError: result.maxRelativeError,
                                          cosine: result.cosineSimilarity, withinTolerance: passes(result), problem: result.problem,
                                          reads: outside.filter { stored[$0] == nil },
                                          weights: outside.filter { (stored[$0]?.dims.count ?? 0) >= 2 })))
        }

        func passes(_ result: OutputComparison) -> Bool {
            guard let minCosine else { return result.passed }
            return result.problem == nil && (result.cosineSimilarity ?? -1) >= minCosine
        }

        /// The values in the model's execution order, and the first outside tolerance with its inputs' comparisons.
        func result() -> (nodes: [Value], firstDivergence: Divergence?) {
            let nodes = compared.sorted { $0.order < $1.order }.map(\.value)
            guard let first = nodes.first(where: { !$0.withinTolerance }) else { return (nodes, nil) }
            // The values the diverging node (or fused group) read from outside, as they compared.
            let byOutput = Dictionary(nodes.map { ($0.output, $0) }, uniquingKeysWith: { first, _ in first })
            return (nodes, Divergence(node: first.name, op: first.op, output: first.output, maxAbsError: first.maxAbsError,
                                      maxRelError: first.maxRelError, cosine: first.cosine, inputs: first.reads.compactMap { byOutput[$0] },
                                      weights: first.weights))
        }
    }

    /// `feeds` for `graph`: a floating-point input converted to the type the
    /// graph declares, so that a float16 conversion and its float32 original
    /// run on the same numbers.
    static func feeds(_ feeds: [String: EngineValue], for graph: Graph) throws(ModelError) -> [String: EngineValue] {
        var adapted = feeds
        for input in graph.inputs {
            guard case .tensor(let tensor)? = feeds[input.name], case .tensor(let declared, _)? = input.type,
                  declared != tensor.dtype, declared.kind == .float, tensor.dtype.kind == .float else { continue }
            adapted[input.name] = .tensor(try tensor.cast(to: declared))
        }
        return adapted
    }

    /// A half-precision tensor as float32, so that a float16 graph compares with its float32 original.
    static func widened(_ value: StoredValue) throws(ModelError) -> StoredValue {
        guard case .tensor(let tensor) = value, tensor.dtype == .float16 || tensor.dtype == .bfloat16 else { return value }
        return .tensor(try EngineTensor(tensor).cast(to: .float).stored(name: tensor.name))
    }
}

/// Which node makes each value of a graph, and at which output.
struct ValueOrigins {
    struct Origin: Hashable {
        let node: String
        let output: Int
    }

    let origin: [String: Origin]
    private let valueOf: [Origin: String]

    init(_ graph: Graph) {
        var origin: [String: Origin] = [:], valueOf: [Origin: String] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for (k, output) in node.outputs.enumerated() where !output.isEmpty {
                let key = Origin(node: node.name.isEmpty ? "#\(index)" : node.name, output: k)
                origin[output] = key
                valueOf[key] = output
            }
        }
        self.origin = origin
        self.valueOf = valueOf
    }

    func value(madeBy origin: Origin) -> String? { valueOf[origin] }
}
