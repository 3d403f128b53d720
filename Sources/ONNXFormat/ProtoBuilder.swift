internal import CONNX
internal import CProtobufC
import ModelCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Building the protobuf-c structs

/// Call-scoped C memory for the protobuf-c structs of one write, freed all at once.
final class CArena {
    private static let blockSize = 64 * 1024
    private var blocks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// Uninitialized memory, zero bytes allowed.
    func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let cursor {
            let padding = (alignment - Int(bitPattern: cursor) % alignment) % alignment
            if padding + byteCount <= remaining {
                self.cursor = cursor + padding + byteCount
                remaining -= padding + byteCount
                return cursor + padding
            }
        }
        // Large requests get a block of their own so the current block keeps its space.
        if byteCount > Self.blockSize / 4 {
            let block = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: max(alignment, 16))
            blocks.append(block)
            return block
        }
        let block = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: 16)
        blocks.append(block)
        cursor = block + byteCount
        remaining = Self.blockSize - byteCount
        return block
    }

    /// A message struct, initialized by its generated `…__init` function.
    func message<T>(_ initialize: (UnsafeMutablePointer<T>?) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: 1)
        initialize(pointer)
        return pointer
    }

    /// A copy of `values`; `nil` when empty, as protobuf-c expects for an empty repeated field.
    func copy<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let pointer = allocate(byteCount: MemoryLayout<T>.stride * values.count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }

    /// Uninitialized room for `count` elements.
    func array<T>(of _: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        allocate(byteCount: MemoryLayout<T>.stride * count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: count)
    }

    /// A copy of `bytes` as a protobuf `bytes` value.
    func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        ProtobufCBinaryData(len: bytes.count, data: copy(bytes))
    }

    /// A NUL-terminated copy of `text`, or `nil` when `text` itself contains a
    /// NUL byte (protobuf-c measures strings with strlen, so it would cut them).
    func cString(_ text: String) -> UnsafeMutablePointer<CChar>? {
        var text = text
        return text.withUTF8 { utf8 -> UnsafeMutablePointer<CChar>? in
            if let base = utf8.baseAddress, memchr(base, 0, utf8.count) != nil { return nil }
            let target = array(of: CChar.self, count: utf8.count + 1)
            if let base = utf8.baseAddress {
                UnsafeMutableRawPointer(target).copyMemory(from: base, byteCount: utf8.count)
            }
            target[utf8.count] = 0
            return target
        }
    }
}

/// Which tensors may go to the side file. Only those that Python's onnx
/// resolves on load (initializers of the main graph and its subgraphs, and
/// tensor-valued node attributes in graphs and functions), so that every
/// ONNX tool reads the pair back; all others stay inline.
struct TensorPlacement {
    var initializers: Bool
    var attributes: Bool

    /// In the main graph and its subgraphs, both kinds may go.
    static let anywhere = TensorPlacement(initializers: true, attributes: true)
    /// In training info and function attribute defaults, where ONNX tools never look for external data.
    static let inline = TensorPlacement(initializers: false, attributes: false)
}

/// Turns a `Model` into protobuf-c structs allocated in its arena. Tensor
/// bytes are not copied: `raw_data` points at the tensor's own memory.
final class ProtoBuilder {
    private let arena = CArena()
    private let layout: ExternalLayout?

    init(layout: ExternalLayout?) {
        self.layout = layout
    }

    func model(_ model: Model) throws(ModelError) -> UnsafeMutablePointer<Onnx__ModelProto> {
        try within("ModelProto") { () throws(ModelError) in
            let proto = arena.message(onnx__model_proto__init)
            proto.pointee.has_ir_version = 1
            proto.pointee.ir_version = model.irVersion
            (proto.pointee.n_opset_import, proto.pointee.opset_import) = try repeated(model.opsets, "opset_import", opset)
            proto.pointee.producer_name = try string(model.producerName, "producer_name")
            proto.pointee.producer_version = try string(model.producerVersion, "producer_version")
            proto.pointee.domain = try string(model.domain, "domain")
            if model.modelVersion != 0 {
                proto.pointee.has_model_version = 1
                proto.pointee.model_version = model.modelVersion
            }
            proto.pointee.doc_string = try string(model.docString, "doc_string")
            proto.pointee.graph = try singular(model.graph, "graph") { (graph) throws(ModelError) in
                try self.graph(graph, .anywhere)
            }
            (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = try repeated(model.metadata, "metadata_props", entry)
            (proto.pointee.n_training_info, proto.pointee.training_info) = try repeated(model.trainingInfo, "training_info", trainingInfo)
            (proto.pointee.n_functions, proto.pointee.functions) = try repeated(model.functions, "functions", function)
            return proto
        }
    }

    /// A value on its own, as in a test-data `.pb` file: a `TensorProto`,
    /// `SequenceProto` or `OptionalProto`; tensor data stays inline.
    func standalone(_ value: StoredValue) throws(ModelError) -> UnsafePointer<ProtobufCMessage> {
        switch value {
        case .tensor(let tensor):
            return try within("TensorProto") { () throws(ModelError) in try self.tensor(tensor, external: false) }.withMessageBase()
        case .sequence(let elements):
            return try within("SequenceProto") { () throws(ModelError) in try sequence(elements) }.withMessageBase()
        case .optional(let element):
            return try within("OptionalProto") { () throws(ModelError) in try optional(element) }.withMessageBase()
        }
    }

    /// `SequenceProto.DataType` (and `OptionalProto`'s): 1 tensor, 3 sequence, 5 optional.
    private static func elementType(_ value: StoredValue) -> Int32 {
        switch value {
        case .tensor: 1
        case .sequence: 3
        case .optional: 5
        }
    }

    /// A sequence's elements must be of one kind. The element type is always
    /// written, so that no message is empty (an empty file is not test data);
    /// an empty sequence says tensors, the only elements the engine makes.
    private func sequence(_ elements: [StoredValue]) throws(ModelError) -> UnsafeMutablePointer<Onnx__SequenceProto> {
        let proto = arena.message(onnx__sequence_proto__init)
        proto.pointee.has_elem_type = 1
        proto.pointee.elem_type = 1
        guard let first = elements.first else { return proto }
        let kind = Self.elementType(first)
        guard elements.allSatisfy({ Self.elementType($0) == kind }) else {
            throw ModelError(.invalidInput, "a sequence holds elements of different kinds")
        }
        proto.pointee.elem_type = kind
        switch first {
        case .tensor:
            let tensors = elements.compactMap { if case .tensor(let t) = $0 { t } else { nil } }
            (proto.pointee.n_tensor_values, proto.pointee.tensor_values) = try repeated(tensors, "tensor_values") { (t) throws(ModelError) in
                try self.tensor(t, external: false)
            }
        case .sequence:
            let lists = elements.compactMap { if case .sequence(let list) = $0 { list } else { nil } }
            (proto.pointee.n_sequence_values, proto.pointee.sequence_values) = try repeated(lists, "sequence_values", sequence)
        case .optional:
            let held: [StoredValue?] = elements.map { if case .optional(let element) = $0 { element } else { nil } }
            (proto.pointee.n_optional_values, proto.pointee.optional_values) = try repeated(held, "optional_values", optional)
        }
        return proto
    }

    /// An empty optional has element type 0 (undefined), written all the same.
    private func optional(_ element: StoredValue?) throws(ModelError) -> UnsafeMutablePointer<Onnx__OptionalProto> {
        let proto = arena.message(onnx__optional_proto__init)
        proto.pointee.has_elem_type = 1
        proto.pointee.elem_type = 0
        guard let element else { return proto }
        proto.pointee.elem_type = Self.elementType(element)
        switch element {
        case .tensor(let t):
            proto.pointee.tensor_value = try singular(t, "tensor_value") { (t) throws(ModelError) in try tensor(t, external: false) }
        case .sequence(let list):
            proto.pointee.sequence_value = try singular(list, "sequence_value", sequence)
        case .optional(let inner):
            // An empty inner optional is still a message: only the outer one is set.
            proto.pointee.optional_value = try within("optional_value") { () throws(ModelError) in try optional(inner) }
        }
        return proto
    }

    private func graph(_ graph: Graph, _ placement: TensorPlacement) throws(ModelError) -> UnsafeMutablePointer<Onnx__GraphProto> {
        let proto = arena.message(onnx__graph_proto__init)
        (proto.pointee.n_node, proto.pointee.node) = try repeated(graph.nodes, "node") { (node) throws(ModelError) in
            try self.node(node, placement)
        }
        proto.pointee.name = try string(graph.name, "name")
        (proto.pointee.n_initializer, proto.pointee.initializer) = try repeated(graph.initializers, "initializer") {
            (tensor) throws(ModelError) in try self.tensor(tensor, external: placement.initializers)
        }
        (proto.pointee.n_sparse_initializer, proto.pointee.sparse_initializer) =
            try repeated(graph.sparseInitializers, "sparse_initializer", sparseTensor)
        proto.pointee.doc_string = try string(graph.docString, "doc_string")
        (proto.pointee.n_input, proto.pointee.input) = try repeated(graph.inputs, "input", valueInfo)
        (proto.pointee.n_output, proto.pointee.output) = try repeated(graph.outputs, "output", valueInfo)
        (proto.pointee.n_value_info, proto.pointee.value_info) = try repeated(graph.valueInfo, "value_info", valueInfo)
        (proto.pointee.n_quantization_annotation, proto.pointee.quantization_annotation) =
            try repeated(graph.quantizationAnnotations, "quantization_annotation", annotation)
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = try repeated(graph.metadata, "metadata_props", entry)
        return proto
    }

    private func node(_ node: Node, _ placement: TensorPlacement) throws(ModelError) -> UnsafeMutablePointer<Onnx__NodeProto> {
        let proto = arena.message(onnx__node_proto__init)
        (proto.pointee.n_input, proto.pointee.input) = try strings(node.inputs, "input")
        (proto.pointee.n_output, proto.pointee.output) = try strings(node.outputs, "output")
        proto.pointee.name = try string(node.name, "name")
        proto.pointee.op_type = try string(node.opType, "op_type")
        proto.pointee.domain = try string(node.domain, "domain")
        proto.pointee.overload = try string(node.overload, "overload")
        (proto.pointee.n_attribute, proto.pointee.attribute) = try repeated(node.attributes, "attribute") {
            (attribute) throws(ModelError) in try self.attribute(attribute, placement)
        }
        proto.pointee.doc_string = try string(node.docString, "doc_string")
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = try repeated(node.metadata, "metadata_props", entry)
        return proto
    }

    private func attribute(_ attribute: Attribute, _ placement: TensorPlacement) throws(ModelError)
        -> UnsafeMutablePointer<Onnx__AttributeProto> {
        let proto = arena.message(onnx__attribute_proto__init)
        proto.pointee.name = try string(attribute.name, "name")
        proto.pointee.ref_attr_name = try string(attribute.refAttrName, "ref_attr_name")
        proto.pointee.doc_string = try string(attribute.docString, "doc_string")
        let type: Onnx__AttributeProto__AttributeType
        switch attribute.value {
        case .float(let value):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
            proto.pointee.has_f = 1
            proto.pointee.f = value
        case .int(let value):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
            proto.pointee.has_i = 1
            proto.pointee.i = value
        case .string(let value):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
            proto.pointee.has_s = 1
            proto.pointee.s = arena.binary(value)
        case .tensor(let value):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
            proto.pointee.t = try singular(value, "t") { (value) throws(ModelError) in
                try self.tensor(value, external: placement.attributes)
            }
        case .graph(let value):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH
            proto.pointee.g = try singular(value, "g") { (value) throws(ModelError) in try self.graph(value, placement) }
        case .sparseTensor(let value):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR
            proto.pointee.sparse_tensor = try singular(value, "sparse_tensor", sparseTensor)
        case .type(let value):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO
            proto.pointee.tp = try singular(value, "tp", typeProto)
        case .floats(let values):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
            (proto.pointee.n_floats, proto.pointee.floats) = (values.count, arena.copy(values))
        case .ints(let values):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
            (proto.pointee.n_ints, proto.pointee.ints) = (values.count, arena.copy(values))
        case .strings(let values):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
            (proto.pointee.n_strings, proto.pointee.strings) = (values.count, arena.copy(values.map(arena.binary)))
        case .tensors(let values):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS
            (proto.pointee.n_tensors, proto.pointee.tensors) = try repeated(values, "tensors") {
                (value) throws(ModelError) in try self.tensor(value, external: placement.attributes)
            }
        case .graphs(let values):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS
            (proto.pointee.n_graphs, proto.pointee.graphs) = try repeated(values, "graphs") {
                (value) throws(ModelError) in try self.graph(value, placement)
            }
        case .sparseTensors(let values):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS
            (proto.pointee.n_sparse_tensors, proto.pointee.sparse_tensors) = try repeated(values, "sparse_tensors", sparseTensor)
        case .types(let values):
            type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS
            (proto.pointee.n_type_protos, proto.pointee.type_protos) = try repeated(values, "type_protos", typeProto)
        case .undefined:
            // A pure reference to the caller's attribute; ModelCore does not keep its type.
            return proto
        }
        proto.pointee.has_type = 1
        proto.pointee.type = type
        return proto
    }

    /// A dense tensor; with `external`, a large one goes to the side file.
    private func tensor(_ tensor: Tensor, external: Bool) throws(ModelError) -> UnsafeMutablePointer<Onnx__TensorProto> {
        let proto = arena.message(onnx__tensor_proto__init)
        (proto.pointee.n_dims, proto.pointee.dims) = (tensor.dims.count, arena.copy(tensor.dims.map { Int64($0) }))
        proto.pointee.has_data_type = 1
        proto.pointee.data_type = tensor.dtype.rawValue
        proto.pointee.name = try string(tensor.name, "name")
        proto.pointee.doc_string = try string(tensor.docString, "doc_string")
        switch tensor.storage {
        case .strings(let values):
            (proto.pointee.n_string_data, proto.pointee.string_data) = (values.count, arena.copy(values.map(arena.binary)))
        case .bytes(let region):
            // Data checked or decoded on first use (a `.swm` tensor) is checked before it is written.
            try tensor.prepareData()
            if external, let layout, layout.takes(region) {
                let offset = layout.place(region)
                proto.pointee.has_data_location = 1
                proto.pointee.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
                let entries = [MetadataEntry(key: "location", value: layout.policy.location),
                               MetadataEntry(key: "offset", value: String(offset)),
                               MetadataEntry(key: "length", value: String(region.count))]
                (proto.pointee.n_external_data, proto.pointee.external_data) = try repeated(entries, "external_data", entry)
            } else {
                proto.pointee.has_raw_data = 1
                proto.pointee.raw_data = Self.view(region)
            }
        }
        return proto
    }

    /// `region`'s bytes as a protobuf `bytes` value, without copying. Valid
    /// while the region's owner lives, which the model being written ensures
    /// for the whole write call (protobuf-c only reads through the pointer).
    private static func view(_ region: ByteRegion) -> ProtobufCBinaryData {
        let bytes = UnsafeRawBufferPointer(rebasing: region.owner.bytes[region.range])
        let data = bytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) }
        return ProtobufCBinaryData(len: bytes.count, data: data)
    }

    /// Sparse tensors stay inline: ONNX tools do not resolve external data in them.
    private func sparseTensor(_ sparse: SparseTensor) throws(ModelError) -> UnsafeMutablePointer<Onnx__SparseTensorProto> {
        let proto = arena.message(onnx__sparse_tensor_proto__init)
        proto.pointee.values = try singular(sparse.values, "values") { (values) throws(ModelError) in
            try self.tensor(values, external: false)
        }
        proto.pointee.indices = try singular(sparse.indices, "indices") { (indices) throws(ModelError) in
            try self.tensor(indices, external: false)
        }
        (proto.pointee.n_dims, proto.pointee.dims) = (sparse.dims.count, arena.copy(sparse.dims))
        return proto
    }

    private func valueInfo(_ info: ValueInfo) throws(ModelError) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let proto = arena.message(onnx__value_info_proto__init)
        proto.pointee.name = try string(info.name, "name")
        proto.pointee.type = try singular(info.type, "type", typeProto)
        proto.pointee.doc_string = try string(info.docString, "doc_string")
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = try repeated(info.metadata, "metadata_props", entry)
        return proto
    }

    private func typeProto(_ type: ValueType) throws(ModelError) -> UnsafeMutablePointer<Onnx__TypeProto> {
        let proto = arena.message(onnx__type_proto__init)
        switch type {
        case .tensor(let dtype, let shape):
            let tensor = arena.message(onnx__type_proto__tensor__init)
            tensor.pointee.has_elem_type = 1
            tensor.pointee.elem_type = dtype.rawValue
            tensor.pointee.shape = try singular(shape, "tensor_type.shape", self.shape)
            proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            proto.pointee.tensor_type = tensor
        case .sparseTensor(let dtype, let shape):
            let tensor = arena.message(onnx__type_proto__sparse_tensor__init)
            tensor.pointee.has_elem_type = 1
            tensor.pointee.elem_type = dtype.rawValue
            tensor.pointee.shape = try singular(shape, "sparse_tensor_type.shape", self.shape)
            proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE
            proto.pointee.sparse_tensor_type = tensor
        case .sequence(let element):
            let sequence = arena.message(onnx__type_proto__sequence__init)
            sequence.pointee.elem_type = try singular(element, "sequence_type.elem_type", typeProto)
            proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE
            proto.pointee.sequence_type = sequence
        case .map(let key, let value):
            let map = arena.message(onnx__type_proto__map__init)
            map.pointee.has_key_type = 1
            map.pointee.key_type = key.rawValue
            map.pointee.value_type = try singular(value, "map_type.value_type", typeProto)
            proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE
            proto.pointee.map_type = map
        case .optional(let element):
            let optional = arena.message(onnx__type_proto__optional__init)
            optional.pointee.elem_type = try singular(element, "optional_type.elem_type", typeProto)
            proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE
            proto.pointee.optional_type = optional
        case .opaque(let domain, let name):
            let opaque = arena.message(onnx__type_proto__opaque__init)
            opaque.pointee.domain = try string(domain, "opaque_type.domain")
            opaque.pointee.name = try string(name, "opaque_type.name")
            proto.pointee.value_case = ONNX__TYPE_PROTO__VALUE_OPAQUE_TYPE
            proto.pointee.opaque_type = opaque
        }
        return proto
    }

    /// A shape; an unknown dimension is a `Dimension` with neither value nor param set.
    private func shape(_ shape: Shape) throws(ModelError) -> UnsafeMutablePointer<Onnx__TensorShapeProto> {
        let proto = arena.message(onnx__tensor_shape_proto__init)
        (proto.pointee.n_dim, proto.pointee.dim) = try repeated(shape.dims, "dim") { (dim) throws(ModelError) in
            let dimension = self.arena.message(onnx__tensor_shape_proto__dimension__init)
            switch dim {
            case .known(let value):
                dimension.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                dimension.pointee.dim_value = Int64(value)
            case .symbol(let name):
                dimension.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                // A oneof member is written even when empty, so an empty symbol stays a symbol.
                dimension.pointee.dim_param = try self.requiredString(name, "dim_param")
            case .unknown:
                break
            }
            return dimension
        }
        return proto
    }

    private func function(_ function: Function) throws(ModelError) -> UnsafeMutablePointer<Onnx__FunctionProto> {
        let proto = arena.message(onnx__function_proto__init)
        proto.pointee.name = try string(function.name, "name")
        (proto.pointee.n_input, proto.pointee.input) = try strings(function.inputs, "input")
        (proto.pointee.n_output, proto.pointee.output) = try strings(function.outputs, "output")
        (proto.pointee.n_attribute, proto.pointee.attribute) = try strings(function.attributeNames, "attribute")
        let placement = TensorPlacement(initializers: false, attributes: true)
        (proto.pointee.n_attribute_proto, proto.pointee.attribute_proto) = try repeated(function.attributeDefaults, "attribute_proto") {
            (attribute) throws(ModelError) in try self.attribute(attribute, .inline)
        }
        (proto.pointee.n_node, proto.pointee.node) = try repeated(function.nodes, "node") { (node) throws(ModelError) in
            try self.node(node, placement)
        }
        proto.pointee.doc_string = try string(function.docString, "doc_string")
        (proto.pointee.n_opset_import, proto.pointee.opset_import) = try repeated(function.opsets, "opset_import", opset)
        proto.pointee.domain = try string(function.domain, "domain")
        proto.pointee.overload = try string(function.overload, "overload")
        (proto.pointee.n_value_info, proto.pointee.value_info) = try repeated(function.valueInfo, "value_info", valueInfo)
        (proto.pointee.n_metadata_props, proto.pointee.metadata_props) = try repeated(function.metadata, "metadata_props", entry)
        return proto
    }

    private func trainingInfo(_ info: TrainingInfo) throws(ModelError) -> UnsafeMutablePointer<Onnx__TrainingInfoProto> {
        let proto = arena.message(onnx__training_info_proto__init)
        proto.pointee.initialization = try singular(info.initialization, "initialization") { (graph) throws(ModelError) in
            try self.graph(graph, .inline)
        }
        proto.pointee.algorithm = try singular(info.algorithm, "algorithm") { (graph) throws(ModelError) in
            try self.graph(graph, .inline)
        }
        (proto.pointee.n_initialization_binding, proto.pointee.initialization_binding) =
            try repeated(info.initializationBinding, "initialization_binding", entry)
        (proto.pointee.n_update_binding, proto.pointee.update_binding) = try repeated(info.updateBinding, "update_binding", entry)
        return proto
    }

    private func annotation(_ annotation: TensorAnnotation) throws(ModelError) -> UnsafeMutablePointer<Onnx__TensorAnnotation> {
        let proto = arena.message(onnx__tensor_annotation__init)
        proto.pointee.tensor_name = try string(annotation.tensorName, "tensor_name")
        (proto.pointee.n_quant_parameter_tensor_names, proto.pointee.quant_parameter_tensor_names) =
            try repeated(annotation.quantParameterTensorNames, "quant_parameter_tensor_names", entry)
        return proto
    }

    private func opset(_ opset: OpsetID) throws(ModelError) -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> {
        let proto = arena.message(onnx__operator_set_id_proto__init)
        proto.pointee.domain = try string(opset.domain, "domain")
        proto.pointee.has_version = 1
        proto.pointee.version = opset.version
        return proto
    }

    private func entry(_ entry: MetadataEntry) throws(ModelError) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
        let proto = arena.message(onnx__string_string_entry_proto__init)
        proto.pointee.key = try string(entry.key, "key")
        proto.pointee.value = try string(entry.value, "value")
        return proto
    }

    // MARK: Helpers

    /// An optional string field: `nil` (absent) when empty.
    private func string(_ text: String, _ field: String) throws(ModelError) -> UnsafeMutablePointer<CChar>? {
        text.isEmpty ? nil : try requiredString(text, field)
    }

    /// A string that must be present even when empty (repeated and oneof fields).
    private func requiredString(_ text: String, _ field: @autoclosure () -> String) throws(ModelError)
        -> UnsafeMutablePointer<CChar> {
        guard let copy = arena.cString(text) else {
            throw ModelError(.unsupported(op: nil, dtype: nil), "the text contains a NUL byte, which this writer cannot store", location: field())
        }
        return copy
    }

    private func strings(_ texts: [String], _ field: String) throws(ModelError)
        -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !texts.isEmpty else { return (0, nil) }
        let array = arena.array(of: UnsafeMutablePointer<CChar>?.self, count: texts.count)
        for (index, text) in texts.enumerated() {
            array[index] = try requiredString(text, "\(field)[\(index)]")
        }
        return (texts.count, array)
    }

    /// A singular message field: `nil` (absent) when `value` is.
    private func singular<Value, Message>(_ value: Value?, _ field: String,
                                          _ build: (Value) throws(ModelError) -> UnsafeMutablePointer<Message>)
        throws(ModelError) -> UnsafeMutablePointer<Message>? {
        guard let value else { return nil }
        return try within(field) { () throws(ModelError) in try build(value) }
    }

    /// A repeated message field: the count and an array of pointers to the built messages.
    private func repeated<Element, Message>(_ elements: [Element], _ field: String,
                                            _ build: (Element) throws(ModelError) -> UnsafeMutablePointer<Message>)
        throws(ModelError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Message>?>?) {
        guard !elements.isEmpty else { return (0, nil) }
        let array = arena.array(of: UnsafeMutablePointer<Message>?.self, count: elements.count)
        for (index, element) in elements.enumerated() {
            array[index] = try within("\(field)[\(index)]") { () throws(ModelError) in try build(element) }
        }
        return (elements.count, array)
    }

    /// Runs `body`, prefixing the location of an error it throws with
    /// `component`, so errors read `ModelProto.graph.node[3].name`. The path is
    /// built only on failure.
    private func within<T>(_ component: @autoclosure () -> String,
                           _ body: () throws(ModelError) -> T) throws(ModelError) -> T {
        do {
            return try body()
        } catch {
            var located = error
            located.location = located.location.map { component() + "." + $0 } ?? component()
            throw located
        }
    }
}

extension UnsafeMutablePointer {
    /// A protobuf-c message struct as protobuf-c's base type, which is its first member.
    func withMessageBase() -> UnsafePointer<ProtobufCMessage> {
        UnsafeRawPointer(self).assumingMemoryBound(to: ProtobufCMessage.self)
    }
}
