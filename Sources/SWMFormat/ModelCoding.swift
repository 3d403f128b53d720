import ModelCore

/// Encodes a `Model` as the `MODL` section (docs/FORMAT.md, "The model
/// section"). Numeric tensors are not written inline: each is given the next
/// index of the tensor table and its data goes to the data section; string
/// tensors, which are small and have no fixed-size layout, stay inline.
struct ModelEncoder {
    private var out = ByteWriter()
    /// Numeric tensors in the order of their table indices.
    private(set) var tensors: [Tensor] = []
    /// For each table tensor, the main-graph value it is: an initializer's
    /// name, or the output of a `Constant` node holding it; nil otherwise.
    private(set) var valueNames: [String?] = []
    /// How many graphs the encoder is inside (1 in the main graph).
    private var depth = 0
    /// The value name the next table tensor gets.
    private var pendingValueName: String?

    /// The section bytes, the tensors they refer to, and the main-graph
    /// value each tensor is (`valueNames`).
    static func encode(_ model: Model) throws(ModelError) -> (bytes: [UInt8], tensors: [Tensor], valueNames: [String?]) {
        var encoder = ModelEncoder()
        try encoder.model(model)
        return (encoder.out.bytes, encoder.tensors, encoder.valueNames)
    }

    private mutating func model(_ m: Model) throws(ModelError) {
        out.signed(m.irVersion)
        try out.list(m.opsets) { w, o in w.string(o.domain); w.signed(o.version) }
        out.string(m.producerName)
        out.string(m.producerVersion)
        out.string(m.domain)
        out.signed(m.modelVersion)
        out.string(m.docString)
        metadata(m.metadata)
        try graph(m.graph)
        count(m.functions.count)
        for f in m.functions { try function(f) }
        count(m.trainingInfo.count)
        for t in m.trainingInfo { try trainingInfo(t) }
    }

    private mutating func count(_ n: Int) { out.count(n) }

    private mutating func metadata(_ entries: [MetadataEntry]) {
        out.count(entries.count)
        for e in entries {
            out.string(e.key)
            out.string(e.value)
        }
    }

    private mutating func strings(_ values: [String]) {
        out.count(values.count)
        for v in values { out.string(v) }
    }

    private mutating func graph(_ g: Graph) throws(ModelError) {
        depth += 1
        defer { depth -= 1 }
        out.string(g.name)
        // Initializers before nodes: the main graph's take the first table indices.
        count(g.initializers.count)
        for t in g.initializers {
            pendingValueName = depth == 1 ? t.name : nil
            try tensor(t)
        }
        count(g.nodes.count)
        for n in g.nodes { try node(n) }
        count(g.sparseInitializers.count)
        for s in g.sparseInitializers { try sparse(s) }
        for list in [g.inputs, g.outputs, g.valueInfo] {
            count(list.count)
            for v in list { valueInfo(v) }
        }
        out.string(g.docString)
        count(g.quantizationAnnotations.count)
        for a in g.quantizationAnnotations {
            out.string(a.tensorName)
            metadata(a.quantParameterTensorNames)
        }
        metadata(g.metadata)
    }

    private mutating func node(_ n: Node) throws(ModelError) {
        out.string(n.name)
        out.string(n.opType)
        out.string(n.domain)
        out.string(n.overload)
        strings(n.inputs)
        strings(n.outputs)
        count(n.attributes.count)
        let constantValue = depth == 1 && n.opType == "Constant" && n.domain.isEmpty ? n.outputs.first : nil
        for a in n.attributes {
            pendingValueName = a.name == "value" ? constantValue : nil
            try attribute(a)
        }
        out.string(n.docString)
        metadata(n.metadata)
    }

    private mutating func attribute(_ a: Attribute) throws(ModelError) {
        out.string(a.name)
        out.string(a.docString)
        out.string(a.refAttrName)
        switch a.value {
        case .undefined: out.byte(AttributeKind.undefined.rawValue)
        case .float(let v): out.byte(AttributeKind.float.rawValue); out.float(v)
        case .int(let v): out.byte(AttributeKind.int.rawValue); out.signed(v)
        case .string(let v): out.byte(AttributeKind.string.rawValue); out.data(v)
        case .tensor(let t): out.byte(AttributeKind.tensor.rawValue); try tensor(t)
        case .graph(let g): out.byte(AttributeKind.graph.rawValue); try graph(g)
        case .sparseTensor(let s): out.byte(AttributeKind.sparseTensor.rawValue); try sparse(s)
        case .type(let t): out.byte(AttributeKind.type.rawValue); valueType(t)
        case .floats(let v):
            out.byte(AttributeKind.floats.rawValue)
            out.count(v.count)
            for x in v { out.float(x) }
        case .ints(let v):
            out.byte(AttributeKind.ints.rawValue)
            out.count(v.count)
            for x in v { out.signed(x) }
        case .strings(let v):
            out.byte(AttributeKind.strings.rawValue)
            out.count(v.count)
            for x in v { out.data(x) }
        case .tensors(let v):
            out.byte(AttributeKind.tensors.rawValue)
            count(v.count)
            for t in v { try tensor(t) }
        case .graphs(let v):
            out.byte(AttributeKind.graphs.rawValue)
            count(v.count)
            for g in v { try graph(g) }
        case .sparseTensors(let v):
            out.byte(AttributeKind.sparseTensors.rawValue)
            count(v.count)
            for s in v { try sparse(s) }
        case .types(let v):
            out.byte(AttributeKind.types.rawValue)
            out.count(v.count)
            for t in v { valueType(t) }
        }
    }

    /// A numeric tensor becomes a table reference; a string tensor is written inline.
    private mutating func tensor(_ t: Tensor) throws(ModelError) {
        switch t.storage {
        case .bytes:
            out.byte(TensorReference.table.rawValue)
            out.count(tensors.count)
            tensors.append(t)
            valueNames.append(pendingValueName)
            pendingValueName = nil
        case .strings(let values):
            out.byte(TensorReference.inlineStrings.rawValue)
            out.string(t.name)
            out.count(t.dims.count)
            for d in t.dims { out.count(d) }
            out.string(t.docString)
            out.count(values.count)
            for v in values { out.data(v) }
        }
    }

    private mutating func sparse(_ s: SparseTensor) throws(ModelError) {
        try tensor(s.values)
        try tensor(s.indices)
        out.count(s.dims.count)
        for d in s.dims { out.signed(d) }
    }

    private mutating func valueInfo(_ v: ValueInfo) {
        out.string(v.name)
        optionalType(v.type)
        out.string(v.docString)
        metadata(v.metadata)
    }

    private mutating func optionalType(_ t: ValueType?) {
        if let t {
            out.byte(1)
            valueType(t)
        } else {
            out.byte(0)
        }
    }

    private mutating func valueType(_ t: ValueType) {
        switch t {
        case .tensor(let dtype, let shape):
            out.byte(ValueTypeKind.tensor.rawValue); out.signed(Int64(dtype.rawValue)); optionalShape(shape)
        case .sparseTensor(let dtype, let shape):
            out.byte(ValueTypeKind.sparseTensor.rawValue); out.signed(Int64(dtype.rawValue)); optionalShape(shape)
        case .sequence(let element):
            out.byte(ValueTypeKind.sequence.rawValue); optionalType(element)
        case .map(let key, let value):
            out.byte(ValueTypeKind.map.rawValue); out.signed(Int64(key.rawValue)); optionalType(value)
        case .optional(let element):
            out.byte(ValueTypeKind.optional.rawValue); optionalType(element)
        case .opaque(let domain, let name):
            out.byte(ValueTypeKind.opaque.rawValue); out.string(domain); out.string(name)
        }
    }

    private mutating func optionalShape(_ shape: Shape?) {
        guard let shape else {
            out.byte(0)
            return
        }
        out.byte(1)
        out.count(shape.rank)
        for d in shape.dims {
            switch d {
            case .known(let v): out.byte(0); out.signed(Int64(v))
            case .symbol(let s): out.byte(1); out.string(s)
            case .unknown: out.byte(2)
            }
        }
    }

    private mutating func function(_ f: Function) throws(ModelError) {
        out.string(f.name)
        out.string(f.domain)
        out.string(f.overload)
        strings(f.inputs)
        strings(f.outputs)
        strings(f.attributeNames)
        count(f.attributeDefaults.count)
        for a in f.attributeDefaults { try attribute(a) }
        count(f.nodes.count)
        for n in f.nodes { try node(n) }
        out.string(f.docString)
        try out.list(f.opsets) { w, o in w.string(o.domain); w.signed(o.version) }
        count(f.valueInfo.count)
        for v in f.valueInfo { valueInfo(v) }
        metadata(f.metadata)
    }

    private mutating func trainingInfo(_ t: TrainingInfo) throws(ModelError) {
        for g in [t.initialization, t.algorithm] {
            if let g {
                out.byte(1)
                try graph(g)
            } else {
                out.byte(0)
            }
        }
        metadata(t.initializationBinding)
        metadata(t.updateBinding)
    }
}

/// How a tensor appears in the model section.
enum TensorReference: UInt8 {
    /// Followed by an index into the tensor table.
    case table = 0
    /// A string tensor written in place.
    case inlineStrings = 1
}

/// The tag before an attribute's value; the numbers are ONNX's `AttributeType`.
enum AttributeKind: UInt8 {
    case undefined = 0, float, int, string, tensor, graph, floats, ints, strings, tensors, graphs
    case sparseTensor = 11, sparseTensors = 12, type = 13, types = 14
}

/// The tag before a value type.
enum ValueTypeKind: UInt8 {
    case tensor = 1, sparseTensor, sequence, map, optional, opaque
}

/// Decodes the `MODL` section. Every graph, type and attribute nesting level
/// counts against `maximumDepth`, so a crafted file cannot exhaust the stack.
struct ModelDecoder {
    private var input: ByteReader
    private let tensors: [Tensor]
    private var depth = 0
    /// Far deeper than any real model's nesting of subgraphs and types.
    static let maximumDepth = 64

    /// The model in `reader`; table references resolve to `tensors`.
    static func decode(_ reader: ByteReader, tensors: [Tensor]) throws(ModelError) -> Model {
        var decoder = ModelDecoder(input: reader, tensors: tensors)
        let model = try decoder.model()
        guard decoder.input.isAtEnd else {
            throw decoder.input.error("\(decoder.input.remaining) unexpected bytes after the model")
        }
        return model
    }

    private mutating func nested<T>(_ body: (inout ModelDecoder) throws(ModelError) -> T) throws(ModelError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw input.error("graphs or types nested more than \(Self.maximumDepth) levels deep") }
        return try body(&self)
    }

    private mutating func list<T>(_ what: String, _ item: (inout ModelDecoder) throws(ModelError) -> T) throws(ModelError) -> [T] {
        let n = try input.count(of: what)
        var items: [T] = []
        for _ in 0..<n { items.append(try item(&self)) }
        return items
    }

    private mutating func string(_ what: String = "string") throws(ModelError) -> String { try input.string(of: what) }

    private mutating func metadata() throws(ModelError) -> [MetadataEntry] {
        try list("metadata") { d throws(ModelError) in MetadataEntry(key: try d.string("key"), value: try d.string("value")) }
    }

    private mutating func strings(_ what: String) throws(ModelError) -> [String] {
        try list(what) { d throws(ModelError) in try d.string(what) }
    }

    private mutating func opsets() throws(ModelError) -> [OpsetID] {
        try list("opset") { d throws(ModelError) in OpsetID(domain: try d.string("domain"), version: try d.input.signed()) }
    }

    private mutating func flag() throws(ModelError) -> Bool {
        let start = input.position
        switch try input.byte() {
        case 0: return false
        case 1: return true
        case let other: throw input.error("invalid presence flag \(other)", at: start)
        }
    }

    private mutating func model() throws(ModelError) -> Model {
        let irVersion = try input.signed()
        let opsets = try opsets()
        let producerName = try string("producer name")
        let producerVersion = try string("producer version")
        let domain = try string("domain")
        let modelVersion = try input.signed()
        let docString = try string("doc string")
        let metadata = try metadata()
        let graph = try graph()
        let functions = try list("function") { d throws(ModelError) in try d.function() }
        let training = try list("training info") { d throws(ModelError) in try d.trainingInfo() }
        return Model(irVersion: irVersion, opsets: opsets, producerName: producerName, producerVersion: producerVersion,
                     domain: domain, modelVersion: modelVersion, docString: docString, metadata: metadata, graph: graph,
                     functions: functions, trainingInfo: training)
    }

    private mutating func graph() throws(ModelError) -> Graph {
        try nested { d throws(ModelError) in
            let name = try d.string("graph name")
            let initializers = try d.list("initializer") { d throws(ModelError) in try d.tensor() }
            let nodes = try d.list("node") { d throws(ModelError) in try d.node() }
            let sparse = try d.list("sparse initializer") { d throws(ModelError) in try d.sparse() }
            let inputs = try d.list("input") { d throws(ModelError) in try d.valueInfo() }
            let outputs = try d.list("output") { d throws(ModelError) in try d.valueInfo() }
            let valueInfo = try d.list("value info") { d throws(ModelError) in try d.valueInfo() }
            let docString = try d.string("doc string")
            let annotations = try d.list("quantization annotation") { d throws(ModelError) in
                TensorAnnotation(tensorName: try d.string("tensor name"), quantParameterTensorNames: try d.metadata())
            }
            let metadata = try d.metadata()
            return Graph(name: name, nodes: nodes, initializers: initializers, sparseInitializers: sparse, inputs: inputs,
                         outputs: outputs, valueInfo: valueInfo, docString: docString,
                         quantizationAnnotations: annotations, metadata: metadata)
        }
    }

    private mutating func node() throws(ModelError) -> Node {
        let name = try string("node name")
        let opType = try string("op type")
        let domain = try string("domain")
        let overload = try string("overload")
        let inputs = try strings("input name")
        let outputs = try strings("output name")
        let attributes = try list("attribute") { d throws(ModelError) in try d.attribute() }
        let docString = try string("doc string")
        let metadata = try metadata()
        return Node(name: name, opType: opType, domain: domain, overload: overload, inputs: inputs, outputs: outputs,
                    attributes: attributes, docString: docString, metadata: metadata)
    }

    private mutating func attribute() throws(ModelError) -> Attribute {
        let name = try string("attribute name")
        let docString = try string("doc string")
        let refAttrName = try string("referenced attribute name")
        let start = input.position
        guard let kind = AttributeKind(rawValue: try input.byte()) else {
            throw input.error("unknown attribute type", at: start)
        }
        let value: AttributeValue
        switch kind {
        case .undefined: value = .undefined
        case .float: value = .float(try input.float())
        case .int: value = .int(try input.signed())
        case .string: value = .string(try input.data(of: "attribute string"))
        case .tensor: value = .tensor(try tensor())
        case .graph: value = .graph(try graph())
        case .sparseTensor: value = .sparseTensor(try sparse())
        case .type: value = .type(try valueType())
        case .floats:
            let n = try input.count(minimumItemBytes: 4, of: "float")
            var values: [Float] = []
            values.reserveCapacity(n)
            for _ in 0..<n { values.append(try input.float()) }
            value = .floats(values)
        case .ints: value = .ints(try input.list(of: "int") { r throws(ModelError) in try r.signed() })
        case .strings: value = .strings(try input.list(of: "string") { r throws(ModelError) in try r.data() })
        case .tensors: value = .tensors(try list("tensor") { d throws(ModelError) in try d.tensor() })
        case .graphs: value = .graphs(try list("graph") { d throws(ModelError) in try d.graph() })
        case .sparseTensors: value = .sparseTensors(try list("sparse tensor") { d throws(ModelError) in try d.sparse() })
        case .types: value = .types(try list("type") { d throws(ModelError) in try d.valueType() })
        }
        return Attribute(name: name, value: value, docString: docString, refAttrName: refAttrName)
    }

    private mutating func tensor() throws(ModelError) -> Tensor {
        let start = input.position
        switch TensorReference(rawValue: try input.byte()) {
        case .table:
            let at = input.position
            let index = try input.int()
            guard index < tensors.count else {
                throw input.error("tensor index \(index) is outside the tensor table (\(tensors.count) entries)", at: at)
            }
            return tensors[index]
        case .inlineStrings:
            let name = try string("tensor name")
            let dims = try input.list(of: "dimension") { r throws(ModelError) in try r.int() }
            let docString = try string("doc string")
            let values = try input.list(of: "string element") { r throws(ModelError) in try r.data() }
            do {
                return try Tensor(name: name, dtype: .string, dims: dims, storage: .strings(values), docString: docString)
            } catch {
                throw input.error(error.message, at: start)
            }
        case nil:
            throw input.error("unknown tensor reference kind", at: start)
        }
    }

    private mutating func sparse() throws(ModelError) -> SparseTensor {
        SparseTensor(values: try tensor(), indices: try tensor(),
                     dims: try input.list(of: "dimension") { r throws(ModelError) in try r.signed() })
    }

    private mutating func valueInfo() throws(ModelError) -> ValueInfo {
        let name = try string("value name")
        let type = try optionalType()
        return ValueInfo(name: name, type: type, docString: try string("doc string"), metadata: try metadata())
    }

    private mutating func optionalType() throws(ModelError) -> ValueType? {
        try flag() ? try valueType() : nil
    }

    private mutating func dtype() throws(ModelError) -> DType {
        let start = input.position
        let code = try input.signed()
        guard let value = Int32(exactly: code) else { throw input.error("element type \(code) is out of range", at: start) }
        return DType(rawValue: value)
    }

    private mutating func valueType() throws(ModelError) -> ValueType {
        try nested { d throws(ModelError) in
            let start = d.input.position
            switch ValueTypeKind(rawValue: try d.input.byte()) {
            case .tensor: return .tensor(try d.dtype(), try d.optionalShape())
            case .sparseTensor: return .sparseTensor(try d.dtype(), try d.optionalShape())
            case .sequence: return .sequence(try d.optionalType())
            case .map: return .map(key: try d.dtype(), value: try d.optionalType())
            case .optional: return .optional(try d.optionalType())
            case .opaque: return .opaque(domain: try d.string("domain"), name: try d.string("name"))
            case nil: throw d.input.error("unknown value type kind", at: start)
            }
        }
    }

    private mutating func optionalShape() throws(ModelError) -> Shape? {
        guard try flag() else { return nil }
        let dims = try list("dimension") { d throws(ModelError) -> Dim in
            let start = d.input.position
            switch try d.input.byte() {
            case 0:
                let at = d.input.position
                let v = try d.input.signed()
                guard let value = Int(exactly: v) else { throw d.input.error("dimension \(v) is out of range", at: at) }
                return .known(value)
            case 1: return .symbol(try d.string("dimension name"))
            case 2: return .unknown
            default: throw d.input.error("unknown dimension kind", at: start)
            }
        }
        return Shape(dims)
    }

    private mutating func function() throws(ModelError) -> Function {
        let name = try string("function name")
        let domain = try string("domain")
        let overload = try string("overload")
        let inputs = try strings("input name")
        let outputs = try strings("output name")
        let attributeNames = try strings("attribute name")
        let defaults = try list("attribute") { d throws(ModelError) in try d.attribute() }
        let nodes = try list("node") { d throws(ModelError) in try d.node() }
        let docString = try string("doc string")
        let opsets = try opsets()
        let valueInfo = try list("value info") { d throws(ModelError) in try d.valueInfo() }
        let metadata = try metadata()
        return Function(name: name, domain: domain, overload: overload, inputs: inputs, outputs: outputs,
                        attributeNames: attributeNames, attributeDefaults: defaults, nodes: nodes, docString: docString,
                        opsets: opsets, valueInfo: valueInfo, metadata: metadata)
    }

    private mutating func trainingInfo() throws(ModelError) -> TrainingInfo {
        let initialization = try flag() ? try graph() : nil
        let algorithm = try flag() ? try graph() : nil
        return TrainingInfo(initialization: initialization, algorithm: algorithm,
                            initializationBinding: try metadata(), updateBinding: try metadata())
    }
}
