internal import CONNX
internal import CProtobufC
import ModelCore

/// Turns protobuf-c's unpacked skeleton into ModelCore values.
///
/// Every C pointer is read only inside this type, while the unpacked message
/// is alive; nothing C escapes. Paths like `ModelProto.graph.initializer[3]`
/// locate errors found here.
struct Converter {
    let file: MappedFile
    let spans: UnsafeBufferPointer<OnnxLiftedSpan>
    let externalData: ExternalData

    func model(_ m: Onnx__ModelProto) throws(ModelError) -> Model {
        let path = "ModelProto"
        guard let graphProto = m.graph else {
            throw ModelError(.malformed, "the file has no graph (ModelProto.graph is missing)")
        }
        var opsets: [OpsetID] = []
        for o in list(m.n_opset_import, m.opset_import) {
            opsets.append(OpsetID(domain: string(o.domain), version: o.has_version != 0 ? o.version : 0))
        }
        var functions: [Function] = []
        for (i, f) in list(m.n_functions, m.functions).enumerated() {
            functions.append(try function(f, path: "\(path).functions[\(i)]"))
        }
        var training: [TrainingInfo] = []
        for (i, t) in list(m.n_training_info, m.training_info).enumerated() {
            let p = "\(path).training_info[\(i)]"
            training.append(TrainingInfo(
                initialization: try t.initialization.map { g throws(ModelError) in try graph(g.pointee, path: p + ".initialization") },
                algorithm: try t.algorithm.map { g throws(ModelError) in try graph(g.pointee, path: p + ".algorithm") },
                initializationBinding: entries(t.n_initialization_binding, t.initialization_binding),
                updateBinding: entries(t.n_update_binding, t.update_binding)))
        }
        return Model(
            irVersion: m.has_ir_version != 0 ? m.ir_version : 0,
            opsets: opsets,
            producerName: string(m.producer_name),
            producerVersion: string(m.producer_version),
            domain: string(m.domain),
            modelVersion: m.has_model_version != 0 ? m.model_version : 0,
            docString: string(m.doc_string),
            metadata: entries(m.n_metadata_props, m.metadata_props),
            graph: try graph(graphProto.pointee, path: path + ".graph"),
            functions: functions,
            trainingInfo: training)
    }

    func graph(_ g: Onnx__GraphProto, path: String) throws(ModelError) -> Graph {
        var nodes: [Node] = []
        nodes.reserveCapacity(g.n_node)
        for (i, n) in list(g.n_node, g.node).enumerated() {
            nodes.append(try node(n, path: "\(path).node[\(i)]"))
        }
        var initializers: [Tensor] = []
        for (i, t) in list(g.n_initializer, g.initializer).enumerated() {
            initializers.append(try tensor(t, path: "\(path).initializer[\(i)]"))
        }
        var sparse: [SparseTensor] = []
        for (i, s) in list(g.n_sparse_initializer, g.sparse_initializer).enumerated() {
            sparse.append(try sparseTensor(s, path: "\(path).sparse_initializer[\(i)]"))
        }
        var annotations: [TensorAnnotation] = []
        for a in list(g.n_quantization_annotation, g.quantization_annotation) {
            annotations.append(TensorAnnotation(tensorName: string(a.tensor_name),
                                                quantParameterTensorNames: entries(a.n_quant_parameter_tensor_names, a.quant_parameter_tensor_names)))
        }
        return Graph(
            name: string(g.name),
            nodes: nodes,
            initializers: initializers,
            sparseInitializers: sparse,
            inputs: try valueInfos(g.n_input, g.input, path: path + ".input"),
            outputs: try valueInfos(g.n_output, g.output, path: path + ".output"),
            valueInfo: try valueInfos(g.n_value_info, g.value_info, path: path + ".value_info"),
            docString: string(g.doc_string),
            quantizationAnnotations: annotations,
            metadata: entries(g.n_metadata_props, g.metadata_props))
    }

    func node(_ n: Onnx__NodeProto, path: String) throws(ModelError) -> Node {
        var attributes: [Attribute] = []
        attributes.reserveCapacity(n.n_attribute)
        for (i, a) in list(n.n_attribute, n.attribute).enumerated() {
            attributes.append(try attribute(a, path: "\(path).attribute[\(i)]"))
        }
        return Node(
            name: string(n.name),
            opType: string(n.op_type),
            domain: string(n.domain),
            overload: string(n.overload),
            inputs: strings(n.n_input, n.input),
            outputs: strings(n.n_output, n.output),
            attributes: attributes,
            docString: string(n.doc_string),
            metadata: entries(n.n_metadata_props, n.metadata_props))
    }

    func attribute(_ a: Onnx__AttributeProto, path: String) throws(ModelError) -> Attribute {
        let name = string(a.name)
        let value: AttributeValue
        switch a.has_type != 0 ? a.type : inferredType(a) {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: value = .float(a.f)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: value = .int(a.i)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: value = .string(bytes(a.s))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            guard let t = a.t else { throw ModelError(.malformed, "attribute '\(name)' is a tensor but has none", location: path) }
            value = .tensor(try tensor(t.pointee, path: path + ".t"))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
            guard let g = a.g else { throw ModelError(.malformed, "attribute '\(name)' is a graph but has none", location: path) }
            value = .graph(try graph(g.pointee, path: path + ".g"))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
            guard let s = a.sparse_tensor else { throw ModelError(.malformed, "attribute '\(name)' is a sparse tensor but has none", location: path) }
            value = .sparseTensor(try sparseTensor(s.pointee, path: path + ".sparse_tensor"))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
            guard let tp = a.tp, let t = try valueType(tp.pointee, path: path + ".tp") else {
                throw ModelError(.malformed, "attribute '\(name)' is a type but has none", location: path)
            }
            value = .type(t)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: value = .floats(Array(buffer(a.n_floats, a.floats)))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: value = .ints(Array(buffer(a.n_ints, a.ints)))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: value = .strings(buffer(a.n_strings, a.strings).map(bytes))
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
            var values: [Tensor] = []
            for (i, t) in list(a.n_tensors, a.tensors).enumerated() { values.append(try tensor(t, path: "\(path).tensors[\(i)]")) }
            value = .tensors(values)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
            var values: [Graph] = []
            for (i, g) in list(a.n_graphs, a.graphs).enumerated() { values.append(try graph(g, path: "\(path).graphs[\(i)]")) }
            value = .graphs(values)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
            var values: [SparseTensor] = []
            for (i, s) in list(a.n_sparse_tensors, a.sparse_tensors).enumerated() {
                values.append(try sparseTensor(s, path: "\(path).sparse_tensors[\(i)]"))
            }
            value = .sparseTensors(values)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
            var values: [ValueType] = []
            for (i, tp) in list(a.n_type_protos, a.type_protos).enumerated() {
                guard let t = try valueType(tp, path: "\(path).type_protos[\(i)]") else {
                    throw ModelError(.malformed, "attribute '\(name)' holds an empty type", location: "\(path).type_protos[\(i)]")
                }
                values.append(t)
            }
            value = .types(values)
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
            guard a.ref_attr_name != nil else {
                throw ModelError(.malformed, "attribute '\(name)' has no type and no value", location: path)
            }
            value = .undefined
        default:
            throw ModelError(.malformed, "attribute '\(name)' has unknown type \(a.type.rawValue)", location: path)
        }
        return Attribute(name: name, value: value, docString: string(a.doc_string), refAttrName: string(a.ref_attr_name))
    }

    /// Files from before IR version 4 may omit `type`; it is implied by the field that is set.
    private func inferredType(_ a: Onnx__AttributeProto) -> Onnx__AttributeProto__AttributeType {
        if a.has_f != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT }
        if a.has_i != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT }
        if a.has_s != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING }
        if a.t != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR }
        if a.g != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH }
        if a.sparse_tensor != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR }
        if a.tp != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO }
        if a.n_floats > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS }
        if a.n_ints > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS }
        if a.n_strings > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS }
        if a.n_tensors > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS }
        if a.n_graphs > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS }
        if a.n_sparse_tensors > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS }
        if a.n_type_protos > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS }
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
    }

    // MARK: - Types

    func valueInfos(_ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__ValueInfoProto>?>?, path: String) throws(ModelError) -> [ValueInfo] {
        var result: [ValueInfo] = []
        result.reserveCapacity(count)
        for (i, v) in list(count, items).enumerated() {
            result.append(ValueInfo(
                name: string(v.name),
                type: try v.type.flatMap { t throws(ModelError) in try valueType(t.pointee, path: "\(path)[\(i)].type") },
                docString: string(v.doc_string),
                metadata: entries(v.n_metadata_props, v.metadata_props)))
        }
        return result
    }

    /// The type, or `nil` when the TypeProto sets none of its variants.
    func valueType(_ t: Onnx__TypeProto, path: String) throws(ModelError) -> ValueType? {
        switch t.value_case {
        case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
            guard let tensor = t.tensor_type?.pointee else { return nil }
            return .tensor(DType(rawValue: tensor.elem_type), try shape(tensor.shape))
        case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
            guard let tensor = t.sparse_tensor_type?.pointee else { return nil }
            return .sparseTensor(DType(rawValue: tensor.elem_type), try shape(tensor.shape))
        case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
            return .sequence(try t.sequence_type?.pointee.elem_type.flatMap { e throws(ModelError) in try valueType(e.pointee, path: path + ".sequence_type") })
        case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
            return .optional(try t.optional_type?.pointee.elem_type.flatMap { e throws(ModelError) in try valueType(e.pointee, path: path + ".optional_type") })
        case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
            guard let map = t.map_type?.pointee else { return nil }
            return .map(key: DType(rawValue: map.key_type),
                        value: try map.value_type.flatMap { e throws(ModelError) in try valueType(e.pointee, path: path + ".map_type") })
        case ONNX__TYPE_PROTO__VALUE_OPAQUE_TYPE:
            guard let opaque = t.opaque_type?.pointee else { return nil }
            return .opaque(domain: string(opaque.domain), name: string(opaque.name))
        default:
            return nil
        }
    }

    func shape(_ s: UnsafeMutablePointer<Onnx__TensorShapeProto>?) throws(ModelError) -> Shape? {
        guard let s = s?.pointee else { return nil }
        return Shape(list(s.n_dim, s.dim).map { d -> Dim in
            switch d.value_case {
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
                // Negative or oversized values carry no information; treat as unknown.
                return d.dim_value >= 0 && d.dim_value <= Int64(Int.max) ? .known(Int(d.dim_value)) : .unknown
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                let symbol = string(d.dim_param)
                return symbol.isEmpty ? .unknown : .symbol(symbol)
            default:
                return .unknown
            }
        })
    }

    // MARK: - Functions

    func function(_ f: Onnx__FunctionProto, path: String) throws(ModelError) -> Function {
        var nodes: [Node] = []
        for (i, n) in list(f.n_node, f.node).enumerated() { nodes.append(try node(n, path: "\(path).node[\(i)]")) }
        var defaults: [Attribute] = []
        for (i, a) in list(f.n_attribute_proto, f.attribute_proto).enumerated() {
            defaults.append(try attribute(a, path: "\(path).attribute_proto[\(i)]"))
        }
        return Function(
            name: string(f.name),
            domain: string(f.domain),
            overload: string(f.overload),
            inputs: strings(f.n_input, f.input),
            outputs: strings(f.n_output, f.output),
            attributeNames: strings(f.n_attribute, f.attribute),
            attributeDefaults: defaults,
            nodes: nodes,
            docString: string(f.doc_string),
            opsets: list(f.n_opset_import, f.opset_import).map { OpsetID(domain: string($0.domain), version: $0.has_version != 0 ? $0.version : 0) },
            valueInfo: try valueInfos(f.n_value_info, f.value_info, path: path + ".value_info"),
            metadata: entries(f.n_metadata_props, f.metadata_props))
    }

    // MARK: - Tensors

    func sparseTensor(_ s: Onnx__SparseTensorProto, path: String) throws(ModelError) -> SparseTensor {
        guard let values = s.values, let indices = s.indices else {
            throw ModelError(.malformed, "sparse tensor lacks its values or indices", location: path)
        }
        return SparseTensor(values: try tensor(values.pointee, path: path + ".values"),
                            indices: try tensor(indices.pointee, path: path + ".indices"),
                            dims: Array(buffer(s.n_dims, s.dims)))
    }

    func tensor(_ t: Onnx__TensorProto, path: String) throws(ModelError) -> Tensor {
        let name = string(t.name)
        do {
            return try makeTensor(t, name: name)
        } catch {
            var located = error
            if located.location == nil { located.location = path }
            throw located
        }
    }

    private func makeTensor(_ t: Onnx__TensorProto, name: String) throws(ModelError) -> Tensor {
        let dtype = DType(rawValue: t.data_type)
        if dtype == .undefined { throw ModelError(.malformed, "tensor '\(name)' has no data type") }
        var dims: [Int] = []
        for d in buffer(t.n_dims, t.dims) {
            guard d >= 0, d <= Int64(Int.max) else { throw ModelError(.malformed, "tensor '\(name)' has a negative dimension \(d)") }
            dims.append(Int(d))
        }
        guard let count = Shape.product(dims) else {
            throw ModelError(.malformed, "tensor '\(name)' has dims \(dims) whose product overflows")
        }
        if t.segment != nil {
            throw ModelError(.unsupported(op: nil, dtype: nil), "tensor '\(name)' is a segment of a larger tensor, which is not supported")
        }
        let storage: Tensor.Storage
        if t.has_data_location != 0 && t.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            storage = .bytes(try externalData.region(entries: entries(t.n_external_data, t.external_data), tensor: name))
        } else if let region = try liftedPayload(t) {
            storage = .bytes(region)
        } else {
            storage = try TypedFields(tensor: t, dtype: dtype, count: count, name: name).storage()
        }
        return try Tensor(name: name, dtype: dtype, dims: dims, storage: storage, docString: string(t.doc_string))
    }

    /// The `raw_data` payload that the pre-pass lifted out, as a view into the file.
    private func liftedPayload(_ t: Onnx__TensorProto) throws(ModelError) -> ByteRegion? {
        var index: UInt64?
        for field in buffer(Int(t.base.n_unknown_fields), t.base.unknown_fields) where field.tag == ONNX_PREPASS_LIFTED_FIELD {
            var value: UInt64 = 0
            for (i, byte) in UnsafeBufferPointer(start: field.data, count: field.len).prefix(10).enumerated() {
                value |= UInt64(byte & 0x7F) << UInt64(7 * i)
            }
            index = value   // protobuf semantics: the last occurrence wins
        }
        guard let index else { return nil }
        guard index < UInt64(spans.count) else { throw ModelError(.internal, "internal error: lifted payload index out of range") }
        let span = spans[Int(index)]
        guard let region = file.region(offset: Int(span.offset), length: Int(span.length)) else {
            throw ModelError(.internal, "internal error: lifted payload outside the file")
        }
        return region
    }

    // MARK: - C helpers

    func list<T>(_ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) -> [T] {
        buffer(count, items).compactMap { $0?.pointee }
    }

    func entries(_ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__StringStringEntryProto>?>?) -> [MetadataEntry] {
        list(count, items).map { MetadataEntry(key: string($0.key), value: string($0.value)) }
    }

    func strings(_ count: Int, _ items: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
        buffer(count, items).map { string($0) }
    }
}

func buffer<T>(_ count: Int, _ pointer: UnsafeMutablePointer<T>?) -> UnsafeBufferPointer<T> {
    guard let pointer, count > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
    return UnsafeBufferPointer(start: pointer, count: count)
}

func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
}

func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
    Array(buffer(data.len, data.data))
}
