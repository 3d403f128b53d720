/// What `modelinfo FILE` reports about a model: identity, interface, size.
///
/// Encodes to the JSON object documented in the README (`--json`).
public struct ModelSummary: Sendable, Codable, Equatable {
    public struct Opset: Sendable, Codable, Equatable {
        public var domain: String
        public var version: Int64
    }

    /// A graph input or output.
    public struct Value: Sendable, Codable, Equatable {
        public var name: String
        /// Element type name (`float32`), or the container kind for non-tensors.
        public var dtype: String?
        /// Dimensions: numbers, symbol names, or `null` for unknown; absent when the rank is unknown.
        public var shape: [ShapeDim]?
        /// The whole type as one string, e.g. `float32[N×3×224×224]`.
        public var type: String
    }

    /// One dimension in JSON: a number, a symbol name, or null.
    public enum ShapeDim: Sendable, Codable, Equatable {
        case known(Int)
        case symbol(String)
        case unknown

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .known(let v): try container.encode(v)
            case .symbol(let s): try container.encode(s)
            case .unknown: try container.encodeNil()
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .unknown }
            else if let v = try? container.decode(Int.self) { self = .known(v) }
            else { self = .symbol(try container.decode(String.self)) }
        }
    }

    public struct OpCount: Sendable, Codable, Equatable {
        public var op: String
        public var count: Int
    }

    public var file: String
    public var format: ModelFormat
    public var fileBytes: Int
    public var irVersion: Int64
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64
    public var graphName: String
    public var opsets: [Opset]
    public var metadata: [String: String]
    public var inputs: [Value]
    public var outputs: [Value]
    /// Nodes of the main graph.
    public var nodeCount: Int
    /// Main-graph nodes per op type (`domain.Op` outside the default domain), most frequent first.
    public var opCounts: [OpCount]
    /// Subgraphs (If branches, Loop and Scan bodies) at any depth, and the nodes inside them.
    public var subgraphCount: Int
    public var subgraphNodeCount: Int
    public var functionCount: Int
    public var initializerCount: Int
    /// Bytes of initializer data, wherever stored (inline or external).
    public var initializerBytes: Int
    /// Learned parameters stored in the file, each tensor counted once (the
    /// analysis's `paramsUnique`; see docs/COUNTING.md).
    public var parameterCount: Int
    /// How a `.swm` file stores its tensors; absent for other formats.
    public var storage: Storage?

    /// The stored form of a `.swm` file's tensors, and where the file came from.
    public struct Storage: Sendable, Codable, Equatable {
        public var formatVersion: String
        /// Tensors per stored encoding (`raw`, `f16`, `bf16`, `int8`).
        public var encodings: [String: Int]
        public var compressedTensors: Int
        /// Bytes of tensor data in the file, and decoded.
        public var storedBytes: Int
        public var decodedBytes: Int
        public var sourceName: String?
        public var sourceSHA256: String?
        public var converter: String?
        public var conversionOptions: String?

        init(_ file: SWMFile) {
            formatVersion = file.formatVersion
            var counts: [String: Int] = [:]
            for entry in file.tensors { counts[entry.encoding.description, default: 0] += 1 }
            encodings = counts
            compressedTensors = file.tensors.filter { $0.compression != .none }.count
            storedBytes = file.tensors.reduce(0) { $0 + $1.storedLength }
            decodedBytes = file.tensors.reduce(0) { $0 + $1.decodedLength }
            sourceName = file.provenance?.sourceName
            sourceSHA256 = file.provenance?.sourceSHA256
            converter = file.provenance?.converter
            conversionOptions = file.provenance?.options
        }
    }

    /// The summary of `loaded`, with the parameter count from its analysis.
    public init(_ loaded: LoadedModel, totals: AnalysisTotals) {
        let model = loaded.model
        let graph = model.graph
        file = loaded.path
        format = loaded.format
        fileBytes = loaded.fileBytes
        irVersion = model.irVersion
        producerName = model.producerName
        producerVersion = model.producerVersion
        domain = model.domain
        modelVersion = model.modelVersion
        graphName = graph.name
        opsets = model.opsets.map { Opset(domain: $0.domain.isEmpty ? "ai.onnx" : $0.domain, version: $0.version) }
        metadata = Dictionary(model.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        inputs = graph.runtimeInputs.map(Value.init)
        outputs = graph.outputs.map(Value.init)
        nodeCount = graph.nodes.count

        var counts: [String: Int] = [:]
        for node in graph.nodes {
            let key = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
            counts[key, default: 0] += 1
        }
        opCounts = counts.map { OpCount(op: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.op < $1.op }

        var subgraphs = 0, subgraphNodes = 0
        func visit(_ g: Graph) {
            for node in g.nodes {
                for sub in node.subgraphs {
                    subgraphs += 1
                    subgraphNodes += sub.nodes.count
                    visit(sub)
                }
            }
        }
        visit(graph)
        subgraphCount = subgraphs
        subgraphNodeCount = subgraphNodes
        functionCount = model.functions.count

        initializerCount = graph.initializers.count + graph.sparseInitializers.count
        initializerBytes = graph.initializers.reduce(0) { $0 + $1.byteCount }
            + graph.sparseInitializers.reduce(0) { $0 + $1.values.byteCount + $1.indices.byteCount }
        parameterCount = totals.paramsUnique
        storage = loaded.storage.map(Storage.init)
    }
}

extension ModelSummary.Value {
    init(_ info: ValueInfo) {
        name = info.name
        type = info.type?.description ?? "?"
        switch info.type {
        case .tensor(let dtype, let shape), .sparseTensor(let dtype, let shape):
            self.dtype = dtype.name
            self.shape = shape?.dims.map(ModelSummary.ShapeDim.init)
        case .sequence: dtype = "sequence"; shape = nil
        case .map: dtype = "map"; shape = nil
        case .optional: dtype = "optional"; shape = nil
        case .opaque: dtype = "opaque"; shape = nil
        case nil: dtype = nil; shape = nil
        }
    }
}
