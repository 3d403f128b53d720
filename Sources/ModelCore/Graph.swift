/// A whole model file's contents, independent of the format it came from.
public struct Model: Sendable, Equatable {
    public var irVersion: Int64
    public var opsets: [OpsetID]
    public var producerName: String
    public var producerVersion: String
    public var domain: String
    public var modelVersion: Int64
    public var docString: String
    public var metadata: [MetadataEntry]
    public var graph: Graph
    public var functions: [Function]
    public var trainingInfo: [TrainingInfo]

    public init(irVersion: Int64 = 0, opsets: [OpsetID] = [], producerName: String = "", producerVersion: String = "",
                domain: String = "", modelVersion: Int64 = 0, docString: String = "", metadata: [MetadataEntry] = [],
                graph: Graph, functions: [Function] = [], trainingInfo: [TrainingInfo] = []) {
        self.irVersion = irVersion
        self.opsets = opsets
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.domain = domain
        self.modelVersion = modelVersion
        self.docString = docString
        self.metadata = metadata
        self.graph = graph
        self.functions = functions
        self.trainingInfo = trainingInfo
    }

    /// The version of the default (`ai.onnx`) operator set, if imported.
    public var defaultOpsetVersion: Int64? {
        opsets.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version
    }
}

/// An operator set a model depends on; an empty domain means `ai.onnx`.
public struct OpsetID: Hashable, Sendable {
    public var domain: String
    public var version: Int64
    public init(domain: String, version: Int64) {
        self.domain = domain
        self.version = version
    }
}

/// A key/value string pair.
public struct MetadataEntry: Hashable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A computation graph: nodes (in topological order once validated), the
/// values flowing between them, and constant weights.
public struct Graph: Sendable, Equatable {
    public var name: String
    public var nodes: [Node]
    public var initializers: [Tensor]
    public var sparseInitializers: [SparseTensor]
    /// Declared inputs; in older files these include initializers (see `runtimeInputs`).
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var valueInfo: [ValueInfo]
    public var docString: String
    public var quantizationAnnotations: [TensorAnnotation]
    public var metadata: [MetadataEntry]

    public init(name: String = "", nodes: [Node] = [], initializers: [Tensor] = [], sparseInitializers: [SparseTensor] = [],
                inputs: [ValueInfo] = [], outputs: [ValueInfo] = [], valueInfo: [ValueInfo] = [], docString: String = "",
                quantizationAnnotations: [TensorAnnotation] = [], metadata: [MetadataEntry] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.sparseInitializers = sparseInitializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
        self.docString = docString
        self.quantizationAnnotations = quantizationAnnotations
        self.metadata = metadata
    }

    /// Inputs the caller must feed: declared inputs that no initializer provides.
    public var runtimeInputs: [ValueInfo] {
        let constant = Set(initializers.map(\.name)).union(sparseInitializers.map(\.values.name))
        return inputs.filter { !constant.contains($0.name) }
    }
}

/// One operator invocation.
public struct Node: Sendable, Equatable {
    public var name: String
    public var opType: String
    /// Empty for the default `ai.onnx` domain.
    public var domain: String
    public var overload: String
    /// Input value names; an empty string marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [Attribute]
    public var docString: String
    public var metadata: [MetadataEntry]

    public init(name: String = "", opType: String, domain: String = "", overload: String = "", inputs: [String] = [],
                outputs: [String] = [], attributes: [Attribute] = [], docString: String = "", metadata: [MetadataEntry] = []) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.docString = docString
        self.metadata = metadata
    }

    public func attribute(_ name: String) -> Attribute? {
        attributes.first { $0.name == name }
    }

    /// Graphs carried by this node's attributes (`If` branches, `Loop`/`Scan` bodies).
    public var subgraphs: [Graph] {
        attributes.flatMap { attribute -> [Graph] in
            switch attribute.value {
            case .graph(let g): return [g]
            case .graphs(let gs): return gs
            default: return []
            }
        }
    }

    /// `node 'conv1' (Conv)`, or `node #3 (Conv)` when unnamed, for messages.
    public func label(index: Int) -> String {
        name.isEmpty ? "node #\(index) (\(opType))" : "node '\(name)' (\(opType))"
    }
}

/// A named attribute of a node.
public struct Attribute: Sendable, Equatable {
    public var name: String
    public var value: AttributeValue
    public var docString: String
    /// Inside a function body: the name of the caller's attribute this one refers to.
    public var refAttrName: String

    public init(name: String, value: AttributeValue, docString: String = "", refAttrName: String = "") {
        self.name = name
        self.value = value
        self.docString = docString
        self.refAttrName = refAttrName
    }
}

/// The value of an attribute, one case per ONNX `AttributeType`.
public indirect enum AttributeValue: Sendable, Equatable {
    case float(Float)
    case int(Int64)
    case string([UInt8])
    case tensor(Tensor)
    case graph(Graph)
    case sparseTensor(SparseTensor)
    case type(ValueType)
    case floats([Float])
    case ints([Int64])
    case strings([[UInt8]])
    case tensors([Tensor])
    case graphs([Graph])
    case sparseTensors([SparseTensor])
    case types([ValueType])
    /// No value: a function attribute that only refers to the caller's (`refAttrName`).
    case undefined
}

/// A graph input, output or intermediate value and what is known of its type.
public struct ValueInfo: Sendable, Equatable {
    public var name: String
    public var type: ValueType?
    public var docString: String
    public var metadata: [MetadataEntry]

    public init(name: String, type: ValueType? = nil, docString: String = "", metadata: [MetadataEntry] = []) {
        self.name = name
        self.type = type
        self.docString = docString
        self.metadata = metadata
    }
}

/// The type of a value. A `nil` shape means the rank is unknown.
public indirect enum ValueType: Sendable, Equatable, CustomStringConvertible {
    case tensor(DType, Shape?)
    case sparseTensor(DType, Shape?)
    case sequence(ValueType?)
    case map(key: DType, value: ValueType?)
    case optional(ValueType?)
    case opaque(domain: String, name: String)

    /// `float32[N×3×224×224]`, `seq(int64[?])`, …
    public var description: String {
        switch self {
        case .tensor(let dtype, let shape): return "\(dtype)[\(shape?.description ?? "…")]"
        case .sparseTensor(let dtype, let shape): return "sparse \(dtype)[\(shape?.description ?? "…")]"
        case .sequence(let element): return "seq(\(element?.description ?? "?"))"
        case .map(let key, let value): return "map(\(key), \(value?.description ?? "?"))"
        case .optional(let element): return "optional(\(element?.description ?? "?"))"
        case .opaque(let domain, let name): return "opaque(\(domain).\(name))"
        }
    }
}

/// A sparse tensor in coordinate format.
public struct SparseTensor: Sendable, Equatable {
    public var values: Tensor
    public var indices: Tensor
    public var dims: [Int64]
    public init(values: Tensor, indices: Tensor, dims: [Int64]) {
        self.values = values
        self.indices = indices
        self.dims = dims
    }
}

/// Names of the tensors holding a tensor's quantisation parameters.
public struct TensorAnnotation: Sendable, Equatable {
    public var tensorName: String
    public var quantParameterTensorNames: [MetadataEntry]
    public init(tensorName: String, quantParameterTensorNames: [MetadataEntry]) {
        self.tensorName = tensorName
        self.quantParameterTensorNames = quantParameterTensorNames
    }
}

/// A model-local function: the body that a node of matching domain and op type stands for.
public struct Function: Sendable, Equatable {
    public var name: String
    public var domain: String
    public var overload: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributeNames: [String]
    /// Attributes with default values.
    public var attributeDefaults: [Attribute]
    public var nodes: [Node]
    public var docString: String
    public var opsets: [OpsetID]
    public var valueInfo: [ValueInfo]
    public var metadata: [MetadataEntry]

    public init(name: String, domain: String = "", overload: String = "", inputs: [String] = [], outputs: [String] = [],
                attributeNames: [String] = [], attributeDefaults: [Attribute] = [], nodes: [Node] = [], docString: String = "",
                opsets: [OpsetID] = [], valueInfo: [ValueInfo] = [], metadata: [MetadataEntry] = []) {
        self.name = name
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributeNames = attributeNames
        self.attributeDefaults = attributeDefaults
        self.nodes = nodes
        self.docString = docString
        self.opsets = opsets
        self.valueInfo = valueInfo
        self.metadata = metadata
    }
}

/// Training-time graphs; kept so that reading and writing a model loses nothing.
public struct TrainingInfo: Sendable, Equatable {
    public var initialization: Graph?
    public var algorithm: Graph?
    public var initializationBinding: [MetadataEntry]
    public var updateBinding: [MetadataEntry]
    public init(initialization: Graph?, algorithm: Graph?, initializationBinding: [MetadataEntry], updateBinding: [MetadataEntry]) {
        self.initialization = initialization
        self.algorithm = algorithm
        self.initializationBinding = initializationBinding
        self.updateBinding = updateBinding
    }
}
