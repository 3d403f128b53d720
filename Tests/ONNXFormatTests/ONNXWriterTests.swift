import Foundation
import ModelCore
import ONNXFormat
import Testing

/// ONNXWriter output is checked by the pinned Python onnx (the reference
/// reader and checker) and by reading it back with ONNXReader.
@Suite struct ONNXWriterTests {
    @Test func pythonOnnxAcceptsEveryFieldAndReadsTheSameValues() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("everything.onnx")
        try ONNXWriter().write(try WriterFixtures.everything(), to: path)
        try runPythonCheck(mode: "everything", path: path)
    }

    @Test func pythonOnnxLoadsExternalData() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("external.onnx")
        let policy = ExternalDataPolicy(location: "external.onnx.data", threshold: 1024, alignment: 64)
        try ONNXWriter(externalData: policy).write(try WriterFixtures.withLargeTensors(), to: path)
        try runPythonCheck(mode: "external", path: path)
    }

    @Test func readerReturnsTheModelThatWasWritten() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("roundtrip.onnx")
        let model = try WriterFixtures.everything()
        try ONNXWriter().write(model, to: path)
        let read = try ONNXReader.read(path: path)
        #expect(differingParts(read, model) == [])
        #expect(read == model)
    }

    @Test func readerResolvesTheExternalDataThatWasWritten() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("roundtrip.onnx")
        let model = try WriterFixtures.withLargeTensors()
        let policy = ExternalDataPolicy(location: "weights.bin", threshold: 1024, alignment: 4096)
        try ONNXWriter(externalData: policy).write(model, to: path)
        #expect(try folder.contents() == ["roundtrip.onnx", "weights.bin"])
        let read = try ONNXReader.read(path: path)
        #expect(differingParts(read, model) == [])
        #expect(read == model)
        #expect(read.graph.initializers.first { $0.name == "big_float" }?.bytes?.isMapped == true)
    }

    @Test func streamedFileMatchesSerializedBytes() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("same.onnx")
        var model = try WriterFixtures.everything()
        // Around the 1 MB staging buffer: pieces that fit it, fill it, and bypass it.
        for (index, count) in [(1 << 20) - 100, 1 << 20, 3 << 20].enumerated() {
            let bytes = OwnedBytes(count: count) { $0.initializeMemory(as: UInt8.self, repeating: UInt8(index + 1)) }
            model.graph.initializers.append(try Tensor(name: "block\(index)", dtype: .uint8, dims: [count],
                                                       storage: .bytes(ByteRegion(owner: bytes))))
        }
        try ONNXWriter().write(model, to: path)
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written.count > 5 << 20)
        #expect(try ONNXWriter().serialize(model) == written)
        #expect(try ONNXReader.read(path: path) == model)
    }

    @Test func noSideFileWhenNoTensorQualifies() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("small.onnx")
        let policy = ExternalDataPolicy(location: "small.onnx.data", threshold: 1 << 20)
        try ONNXWriter(externalData: policy).write(try WriterFixtures.withLargeTensors(), to: path)
        #expect(try folder.contents() == ["small.onnx"])
    }

    @Test func failedWriteNamesTheFileAndLeavesNothingBehind() throws {
        let folder = try TemporaryFolder()
        // A non-empty folder under the target name: everything succeeds but the final rename.
        let target = folder.path("occupied.onnx")
        try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
        let error = try #require(throws: ModelError.self) {
            try ONNXWriter().write(try WriterFixtures.withLargeTensors(), to: target)
        }
        #expect(error.file == target)
        #expect(error.message.hasPrefix("cannot replace the file: "))
        #expect(try folder.contents() == ["occupied.onnx"])
    }

    @Test func missingFolderIsReportedWithTheReason() throws {
        let folder = try TemporaryFolder()
        let target = folder.path("no/such/folder/model.onnx")
        let error = try #require(throws: ModelError.self) {
            try ONNXWriter().write(try WriterFixtures.withLargeTensors(), to: target)
        }
        #expect(error.description == "\(target): cannot create a file in its folder: No such file or directory")
    }

    @Test func overTwoGigabytesAsksForExternalData() throws {
        let folder = try TemporaryFolder()
        // A sparse file: mapping it costs nothing, and the size check happens before any byte is read.
        let weightsPath = folder.path("huge.bin")
        let elements = (1 << 29) + 16   // 2 GB + 64 bytes of float32
        let fd = open(weightsPath, O_WRONLY | O_CREAT, 0o644)
        #expect(fd >= 0)
        #expect(ftruncate(fd, off_t(elements * 4)) == 0)
        close(fd)
        let file = try MappedFile(path: weightsPath)
        let huge = try Tensor(name: "huge", dtype: .float, dims: [elements], storage: .bytes(ByteRegion(owner: file)))
        let model = Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 21)],
                          graph: Graph(name: "huge", initializers: [huge]))
        let target = folder.path("huge.onnx")
        let error = try #require(throws: ModelError.self) { try ONNXWriter().write(model, to: target) }
        #expect(error.file == target)
        #expect(error.message.contains("over protobuf's 2 GB limit"))
        #expect(error.message.contains("ExternalDataPolicy(location: \"huge.onnx.data\")"))
        #expect(throws: ModelError.self) { try ONNXWriter().serialize(model) }
        #expect(try folder.contents() == ["huge.bin"])
    }

    @Test func textWithNulIsRejectedWithItsLocation() throws {
        var model = try WriterFixtures.withLargeTensors()
        model.graph.nodes[0].name = "bad\u{0}name"
        let error = try #require(throws: ModelError.self) { try ONNXWriter().serialize(model) }
        #expect(error.location == "ModelProto.graph.node[0].name")
    }

    @Test(arguments: ["", ".", "..", "sub/weights.bin", "model.onnx"])
    func externalLocationMustBeASiblingFileName(location: String) throws {
        let folder = try TemporaryFolder()
        let error = try #require(throws: ModelError.self) {
            try ONNXWriter(externalData: ExternalDataPolicy(location: location))
                .write(try WriterFixtures.withLargeTensors(), to: folder.path("model.onnx"))
        }
        #expect(error.message.contains("external-data location"))
        #expect(try folder.contents() == [])
    }

    @Test(arguments: [(-1, 64), (1024, 0), (1024, 1 << 31)])
    func externalThresholdAndAlignmentAreChecked(threshold: Int, alignment: Int) throws {
        let folder = try TemporaryFolder()
        let policy = ExternalDataPolicy(location: "model.onnx.data", threshold: threshold, alignment: alignment)
        let error = try #require(throws: ModelError.self) {
            try ONNXWriter(externalData: policy).write(try WriterFixtures.withLargeTensors(), to: folder.path("model.onnx"))
        }
        #expect(error.message.hasPrefix("external-data threshold must be at least 0"))
        #expect(try folder.contents() == [])
    }
}

/// Names of the parts of two models that differ, so that a failed round trip
/// says where rather than printing two whole models.
private func differingParts(_ a: Model, _ b: Model) -> [String] {
    var parts: [String] = []
    func compare<T: Equatable>(_ x: [T], _ y: [T], _ name: String) {
        if x.count != y.count { parts.append("\(name).count \(x.count) vs \(y.count)") }
        for (index, (p, q)) in zip(x, y).enumerated() where p != q { parts.append("\(name)[\(index)]") }
    }
    compare(a.graph.nodes, b.graph.nodes, "graph.node")
    compare(a.graph.initializers, b.graph.initializers, "graph.initializer")
    compare(a.graph.sparseInitializers, b.graph.sparseInitializers, "graph.sparse_initializer")
    compare(a.graph.inputs, b.graph.inputs, "graph.input")
    compare(a.graph.outputs, b.graph.outputs, "graph.output")
    compare(a.graph.valueInfo, b.graph.valueInfo, "graph.value_info")
    compare(a.functions, b.functions, "functions")
    compare(a.trainingInfo, b.trainingInfo, "training_info")
    return parts
}

// MARK: - Python check

/// Runs the assertion script below with the project's pinned Python onnx.
/// Fails (never skips) when the virtual environment is missing.
private func runPythonCheck(mode: String, path: String) throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let python = root.appendingPathComponent(".venv/bin/python").path
    try #require(FileManager.default.isExecutableFile(atPath: python),
                 "the pinned Python onnx is missing at \(python); run Tools/bootstrap to create it")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", pythonCheckScript, mode, path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "python check '\(mode)' failed:\n\(text)")
}

/// Loads the written model with onnx, runs onnx.checker on it and compares it
/// with the same model built independently with onnx's Python API.
private let pythonCheckScript = #"""
import difflib, sys
import numpy as np
import onnx
from onnx import TensorProto as T, AttributeProto as A

mode, path = sys.argv[1], sys.argv[2]

def normalize(message):
    # Presence of a default-valued field is not a difference worth failing on.
    for field, value in list(message.ListFields()):
        if field.is_repeated:
            if field.message_type is not None:
                for item in value:
                    normalize(item)
        elif field.message_type is not None:
            normalize(value)
        elif field.containing_oneof is None and value == field.default_value:
            message.ClearField(field.name)
    return message

def same(actual, expected, what):
    a, e = normalize(actual), normalize(expected)
    if a != e:
        diff = difflib.unified_diff(str(e).splitlines(), str(a).splitlines(), "expected", "written", lineterm="")
        sys.exit(what + " differs:\n" + "\n".join(diff))

def entries(message_field, pairs):
    for k, v in pairs:
        e = message_field.add(); e.key = k; e.value = v

def ttype(elem, dims, sparse=False):
    t = onnx.TypeProto()
    body = t.sparse_tensor_type if sparse else t.tensor_type
    body.elem_type = elem
    if dims is not None:
        body.shape.SetInParent()
        for d in dims:
            dim = body.shape.dim.add()
            if isinstance(d, int): dim.dim_value = d
            elif isinstance(d, str): dim.dim_param = d
    return t

def seq(elem):
    t = onnx.TypeProto(); t.sequence_type.SetInParent()
    if elem is not None: t.sequence_type.elem_type.CopyFrom(elem)
    return t

def vinfo(name, type_=None, doc="", meta=()):
    v = onnx.ValueInfoProto(); v.name = name
    if type_ is not None: v.type.CopyFrom(type_)
    if doc: v.doc_string = doc
    entries(v.metadata_props, meta)
    return v

def raw(name, dtype, dims, data, doc=""):
    t = onnx.TensorProto(); t.name = name; t.data_type = dtype; t.dims.extend(dims); t.raw_data = data
    if doc: t.doc_string = doc
    return t

def f32(name, dims, values, doc=""):
    return raw(name, T.FLOAT, dims, np.array(values, "<f4").tobytes(), doc)

def i64(name, dims, values):
    return raw(name, T.INT64, dims, np.array(values, "<i8").tobytes())

def strings(name, dims, values):
    t = onnx.TensorProto(); t.name = name; t.data_type = T.STRING; t.dims.extend(dims); t.string_data.extend(values)
    return t

def sparse(values, indices, dims):
    s = onnx.SparseTensorProto(); s.values.CopyFrom(values); s.indices.CopyFrom(indices); s.dims.extend(dims)
    return s

def node(op, inputs, outputs, name="", domain="", overload="", attrs=(), doc="", meta=()):
    n = onnx.NodeProto(); n.op_type = op; n.input.extend(inputs); n.output.extend(outputs)
    n.name = name; n.domain = domain; n.overload = overload; n.doc_string = doc
    n.attribute.extend(attrs)
    entries(n.metadata_props, meta)
    return n

def attr(name, kind, doc="", ref="", **fields):
    a = onnx.AttributeProto(); a.name = name; a.type = kind; a.doc_string = doc; a.ref_attr_name = ref
    for key, value in fields.items():
        target = getattr(a, key)
        if isinstance(value, list): target.extend(value)
        elif hasattr(target, "CopyFrom"): target.CopyFrom(value)
        else: setattr(a, key, value)
    return a

def graph(name, nodes=(), inits=(), inputs=(), outputs=(), value_info=(), sparse_inits=(), doc="", meta=(), quant=()):
    g = onnx.GraphProto(); g.name = name; g.doc_string = doc
    g.node.extend(nodes); g.initializer.extend(inits); g.sparse_initializer.extend(sparse_inits)
    g.input.extend(inputs); g.output.extend(outputs); g.value_info.extend(value_info)
    entries(g.metadata_props, meta)
    for tensor_name, pairs in quant:
        q = g.quantization_annotation.add(); q.tensor_name = tensor_name
        entries(q.quant_parameter_tensor_names, pairs)
    return g

def everything():
    X = ttype(T.FLOAT, ["N", 3, None, 4])
    inputs = [
        vinfo("X", X, "image", [("unit", "px")]),
        vinfo("cond", ttype(T.BOOL, [])),
        vinfo("seq", seq(ttype(T.FLOAT, [None]))),
        vinfo("maybe", None),
        vinfo("sp", ttype(T.FLOAT, [3, 4], sparse=True)),
        vinfo("blob", None),
    ]
    inputs[3].type.optional_type.elem_type.CopyFrom(ttype(T.INT32, [1]))
    inputs[5].type.opaque_type.domain = "custom.domain"; inputs[5].type.opaque_type.name = "Blob"
    table = vinfo("table", None)
    table.type.map_type.key_type = T.INT64
    table.type.map_type.value_type.CopyFrom(ttype(T.FLOAT, [2]))
    inputs.insert(3, table)
    outputs = [vinfo("Y", X), vinfo("y_if", ttype(T.FLOAT, [None])),
               vinfo("out_custom", ttype(T.FLOAT, [None])), vinfo("fn_out", X)]
    # The checker wants main-graph inputs and outputs fully typed; the rest goes here.
    value_info = [vinfo("clipped", X, "after Clip"), vinfo("untyped"), vinfo("anything", ttype(T.FLOAT, None)),
                  vinfo("no_element", seq(None)), vinfo("no_value", None), vinfo("nothing", None)]
    value_info[4].type.map_type.key_type = T.STRING
    value_info[5].type.optional_type.SetInParent()
    inits = [
        f32("W", [2, 3], [0, 1, 2, 3, 4, 5], "weights"),
        f32("clip_max", [], [6]),
        strings("names", [2], [b"alpha", b"b\x00\xff"]),
        raw("q4", T.INT4, [3], bytes([0x21, 0x03])),
        raw("half", T.FLOAT16, [2], bytes([0x00, 0x3C, 0x00, 0xC0])),
        f32("empty", [0, 3], []),
        f32("w_scale", [], [0.5]),
        raw("w_zp", T.INT8, [], bytes([0])),
    ]
    sparse_w = sparse(f32("sparse_w", [2], [1.5, -2]), i64("", [2], [1, 7]), [3, 4])

    then_branch = graph("then", [node("Identity", ["X"], ["then_out"])], outputs=[vinfo("then_out", ttype(T.FLOAT, None))])
    else_branch = graph("else", [node("Identity", ["else_const"], ["else_out"])],
                        inits=[f32("else_const", [2], [7, 8])], outputs=[vinfo("else_out", ttype(T.FLOAT, None))])
    small_graph = lambda name: graph(name, [node("Identity", ["X"], [name + "_out"])],
                                     outputs=[vinfo(name + "_out", ttype(T.FLOAT, None))])
    every = [
        attr("f", A.FLOAT, f=0.25, doc="a float"),
        attr("i", A.INT, i=-3),
        attr("s", A.STRING, s=b"text\x00bin"),
        attr("t", A.TENSOR, t=f32("attr_t", [2], [1, 2])),
        attr("g", A.GRAPH, g=small_graph("attr_g")),
        attr("sparse", A.SPARSE_TENSOR, sparse_tensor=sparse_w),
        attr("tp", A.TYPE_PROTO, tp=ttype(T.INT64, [5])),
        attr("floats", A.FLOATS, floats=[1.5, -2.0]),
        attr("ints", A.INTS, ints=[1, 2, 3]),
        attr("strings", A.STRINGS, strings=[b"a", b"\x00\x01"]),
        attr("tensors", A.TENSORS, tensors=[f32("t1", [1], [3]), strings("t2", [1], [b"s"])]),
        attr("graphs", A.GRAPHS, graphs=[small_graph("g1"), small_graph("g2")]),
        attr("sparse_tensors", A.SPARSE_TENSORS, sparse_tensors=[sparse_w]),
        attr("type_protos", A.TYPE_PROTOS, type_protos=[ttype(T.FLOAT, [1]), seq(ttype(T.INT64, [None]))]),
    ]
    nodes = [
        node("Clip", ["X", "", "clip_max"], ["clipped"], name="clip", doc="clamp", meta=[("origin", "test")]),
        node("Identity", ["clipped"], ["Y"], name="id"),
        node("If", ["cond"], ["y_if"], name="branch",
             attrs=[attr("then_branch", A.GRAPH, g=then_branch), attr("else_branch", A.GRAPH, g=else_branch)]),
        node("Custom", ["X"], ["out_custom"], name="every_attr", domain="custom.domain", attrs=every),
        node("AddScaled", ["X", "X"], ["fn_out"], name="call", domain="custom.fn", overload="v2",
             attrs=[attr("alpha", A.FLOAT, f=2.0)]),
    ]
    g = graph("everything", nodes, inits, inputs, outputs, value_info, [sparse_w], "all fields", [("stage", "test")],
              [("W", [("SCALE_TENSOR", "w_scale"), ("ZERO_POINT_TENSOR", "w_zp")])])

    fn = onnx.FunctionProto(); fn.name = "AddScaled"; fn.domain = "custom.fn"; fn.overload = "v2"
    fn.input.extend(["a", "b"]); fn.output.extend(["c"]); fn.attribute.extend(["alpha"])
    fn.attribute_proto.extend([attr("beta", A.FLOAT, f=1.0)])
    fn.node.extend([
        node("Constant", [], ["alpha_t"], attrs=[attr("value_float", A.FLOAT, ref="alpha", f=1.0)]),
        node("Mul", ["b", "alpha_t"], ["scaled"]),
        node("Add", ["a", "scaled"], ["c"]),
    ])
    fn.doc_string = "a + alpha * b"
    fn.opset_import.extend([onnx.helper.make_opsetid("", 21)])
    fn.value_info.extend([vinfo("scaled", ttype(T.FLOAT, None))])
    entries(fn.metadata_props, [("kind", "function")])

    m = onnx.ModelProto(); m.ir_version = 10
    m.opset_import.extend([onnx.helper.make_opsetid(d, v) for d, v in [("", 21), ("custom.domain", 1), ("custom.fn", 1)]])
    m.producer_name = "modelinfo-tests"; m.producer_version = "1.0"; m.domain = "org.example"
    m.model_version = 3; m.doc_string = "every field"
    entries(m.metadata_props, [("author", "tests"), ("purpose", "writer")])
    m.graph.CopyFrom(g)
    m.functions.extend([fn])
    ti = m.training_info.add()
    ti.initialization.CopyFrom(graph("init", inits=[f32("seed", [1], [42])]))
    ti.algorithm.CopyFrom(graph("algo", [node("Identity", ["W"], ["W_next"])],
                                outputs=[vinfo("W_next", ttype(T.FLOAT, [2, 3]))]))
    entries(ti.update_binding, [("W", "W_next")])
    return m

if mode == "everything":
    written = onnx.load(path)
    onnx.checker.check_model(written)
    same(written, everything(), "model")
elif mode == "external":
    onnx.checker.check_model(path)
    shallow = onnx.load(path, load_external_data=False)
    placed = {}
    for t in list(shallow.graph.initializer) + [shallow.graph.node[0].attribute[0].t]:
        if t.data_location == T.EXTERNAL:
            info = {e.key: e.value for e in t.external_data}
            assert info["location"] == "external.onnx.data", info
            assert int(info["offset"]) % 64 == 0, info
            assert not t.HasField("raw_data"), t.name
            placed[t.name] = (int(info["offset"]), int(info["length"]))
    assert sorted(placed) == ["big_float", "big_int", "const_value"], placed
    ends = sorted(placed.values())
    assert all(a[0] + a[1] <= b[0] for a, b in zip(ends, ends[1:])), ends

    m = onnx.load(path)
    arrays = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    assert np.array_equal(arrays["big_float"], (np.arange(1000, dtype=np.float32) * 0.5).reshape(10, 100))
    assert np.array_equal(arrays["big_int"], np.arange(200, dtype=np.int64) - 100)
    assert np.array_equal(arrays["small"], np.array([1, 2, 3], dtype=np.float32))
    constant = onnx.numpy_helper.to_array(m.graph.node[0].attribute[0].t)
    assert np.array_equal(constant, np.full(512, 3, dtype=np.float32)), constant
else:
    sys.exit("unknown mode " + mode)
print("ok")
"""#

// MARK: - Fixtures

/// Models exercising the writer, mirrored by `pythonCheckScript`.
private enum WriterFixtures {
    /// Every field, attribute kind and value type that ONNX has, plus
    /// symbolic and unknown dimensions, string and sub-byte tensors, a
    /// subgraph, a function, training info and metadata.
    static func everything() throws -> Model {
        let X = ValueType.tensor(.float, Shape([.symbol("N"), .known(3), .unknown, .known(4)]))
        let sparseW = SparseTensor(values: try floats("sparse_w", [2], [1.5, -2]),
                                   indices: try raw("", .int64, [2], int64Bytes([1, 7])), dims: [3, 4])
        let inputs = [
            ValueInfo(name: "X", type: X, docString: "image", metadata: [MetadataEntry(key: "unit", value: "px")]),
            ValueInfo(name: "cond", type: .tensor(.bool, Shape([Dim]()))),
            ValueInfo(name: "seq", type: .sequence(.tensor(.float, Shape([.unknown])))),
            ValueInfo(name: "table", type: .map(key: .int64, value: .tensor(.float, [2]))),
            ValueInfo(name: "maybe", type: .optional(.tensor(.int32, [1]))),
            ValueInfo(name: "sp", type: .sparseTensor(.float, [3, 4])),
            ValueInfo(name: "blob", type: .opaque(domain: "custom.domain", name: "Blob")),
        ]
        let outputs = [
            ValueInfo(name: "Y", type: X), ValueInfo(name: "y_if", type: .tensor(.float, Shape([.unknown]))),
            ValueInfo(name: "out_custom", type: .tensor(.float, Shape([.unknown]))), ValueInfo(name: "fn_out", type: X),
        ]
        // The checker wants main-graph inputs and outputs fully typed; the rest goes here.
        let valueInfo = [
            ValueInfo(name: "clipped", type: X, docString: "after Clip"), ValueInfo(name: "untyped"),
            ValueInfo(name: "anything", type: .tensor(.float, nil)), ValueInfo(name: "no_element", type: .sequence(nil)),
            ValueInfo(name: "no_value", type: .map(key: .string, value: nil)), ValueInfo(name: "nothing", type: .optional(nil)),
        ]
        let initializers = [
            try floats("W", [2, 3], [0, 1, 2, 3, 4, 5], docString: "weights"),
            try floats("clip_max", [], [6]),
            try Tensor(name: "names", dtype: .string, dims: [2], storage: .strings([Array("alpha".utf8), [0x62, 0x00, 0xFF]])),
            try raw("q4", .int4, [3], [0x21, 0x03]),
            try raw("half", .float16, [2], [0x00, 0x3C, 0x00, 0xC0]),
            try floats("empty", [0, 3], []),
            try floats("w_scale", [], [0.5]),
            try raw("w_zp", .int8, [], [0]),
        ]
        let thenBranch = Graph(name: "then", nodes: [Node(opType: "Identity", inputs: ["X"], outputs: ["then_out"])],
                               outputs: [ValueInfo(name: "then_out", type: .tensor(.float, nil))])
        let elseBranch = Graph(name: "else", nodes: [Node(opType: "Identity", inputs: ["else_const"], outputs: ["else_out"])],
                               initializers: [try floats("else_const", [2], [7, 8])],
                               outputs: [ValueInfo(name: "else_out", type: .tensor(.float, nil))])
        func smallGraph(_ name: String) -> Graph {
            Graph(name: name, nodes: [Node(opType: "Identity", inputs: ["X"], outputs: [name + "_out"])],
                  outputs: [ValueInfo(name: name + "_out", type: .tensor(.float, nil))])
        }
        let every: [Attribute] = [
            Attribute(name: "f", value: .float(0.25), docString: "a float"),
            Attribute(name: "i", value: .int(-3)),
            Attribute(name: "s", value: .string(Array("text".utf8) + [0] + Array("bin".utf8))),
            Attribute(name: "t", value: .tensor(try floats("attr_t", [2], [1, 2]))),
            Attribute(name: "g", value: .graph(smallGraph("attr_g"))),
            Attribute(name: "sparse", value: .sparseTensor(sparseW)),
            Attribute(name: "tp", value: .type(.tensor(.int64, [5]))),
            Attribute(name: "floats", value: .floats([1.5, -2])),
            Attribute(name: "ints", value: .ints([1, 2, 3])),
            Attribute(name: "strings", value: .strings([Array("a".utf8), [0, 1]])),
            Attribute(name: "tensors", value: .tensors([try floats("t1", [1], [3]),
                                                        try Tensor(name: "t2", dtype: .string, dims: [1], storage: .strings([Array("s".utf8)]))])),
            Attribute(name: "graphs", value: .graphs([smallGraph("g1"), smallGraph("g2")])),
            Attribute(name: "sparse_tensors", value: .sparseTensors([sparseW])),
            Attribute(name: "type_protos", value: .types([.tensor(.float, [1]), .sequence(.tensor(.int64, Shape([.unknown])))])),
        ]
        let nodes = [
            Node(name: "clip", opType: "Clip", inputs: ["X", "", "clip_max"], outputs: ["clipped"], docString: "clamp",
                 metadata: [MetadataEntry(key: "origin", value: "test")]),
            Node(name: "id", opType: "Identity", inputs: ["clipped"], outputs: ["Y"]),
            Node(name: "branch", opType: "If", inputs: ["cond"], outputs: ["y_if"],
                 attributes: [Attribute(name: "then_branch", value: .graph(thenBranch)),
                              Attribute(name: "else_branch", value: .graph(elseBranch))]),
            Node(name: "every_attr", opType: "Custom", domain: "custom.domain", inputs: ["X"], outputs: ["out_custom"],
                 attributes: every),
            Node(name: "call", opType: "AddScaled", domain: "custom.fn", overload: "v2", inputs: ["X", "X"], outputs: ["fn_out"],
                 attributes: [Attribute(name: "alpha", value: .float(2))]),
        ]
        let graph = Graph(
            name: "everything", nodes: nodes, initializers: initializers, sparseInitializers: [sparseW],
            inputs: inputs, outputs: outputs,
            valueInfo: valueInfo,
            docString: "all fields",
            quantizationAnnotations: [TensorAnnotation(tensorName: "W", quantParameterTensorNames: [
                MetadataEntry(key: "SCALE_TENSOR", value: "w_scale"), MetadataEntry(key: "ZERO_POINT_TENSOR", value: "w_zp"),
            ])],
            metadata: [MetadataEntry(key: "stage", value: "test")])
        // ModelCore has no typed pure reference (`.undefined` loses the type the
        // checker requires), so the reference carries a value as well.
        let function = Function(
            name: "AddScaled", domain: "custom.fn", overload: "v2", inputs: ["a", "b"], outputs: ["c"],
            attributeNames: ["alpha"], attributeDefaults: [Attribute(name: "beta", value: .float(1))],
            nodes: [
                Node(opType: "Constant", outputs: ["alpha_t"],
                     attributes: [Attribute(name: "value_float", value: .float(1), refAttrName: "alpha")]),
                Node(opType: "Mul", inputs: ["b", "alpha_t"], outputs: ["scaled"]),
                Node(opType: "Add", inputs: ["a", "scaled"], outputs: ["c"]),
            ],
            docString: "a + alpha * b", opsets: [OpsetID(domain: "", version: 21)],
            valueInfo: [ValueInfo(name: "scaled", type: .tensor(.float, nil))],
            metadata: [MetadataEntry(key: "kind", value: "function")])
        let training = TrainingInfo(
            initialization: Graph(name: "init", initializers: [try floats("seed", [1], [42])]),
            algorithm: Graph(name: "algo", nodes: [Node(opType: "Identity", inputs: ["W"], outputs: ["W_next"])],
                             outputs: [ValueInfo(name: "W_next", type: .tensor(.float, [2, 3]))]),
            initializationBinding: [], updateBinding: [MetadataEntry(key: "W", value: "W_next")])
        return Model(
            irVersion: 10,
            opsets: [OpsetID(domain: "", version: 21), OpsetID(domain: "custom.domain", version: 1),
                     OpsetID(domain: "custom.fn", version: 1)],
            producerName: "modelinfo-tests", producerVersion: "1.0", domain: "org.example", modelVersion: 3,
            docString: "every field",
            metadata: [MetadataEntry(key: "author", value: "tests"), MetadataEntry(key: "purpose", value: "writer")],
            graph: graph, functions: [function], trainingInfo: [training])
    }

    /// Two initializers and a Constant's tensor over 1 KB, one small initializer.
    static func withLargeTensors() throws -> Model {
        let bigFloat = try floats("big_float", [10, 100], (0..<1000).map { Float($0) * 0.5 })
        let bigInt = try raw("big_int", .int64, [200], int64Bytes((0..<200).map { Int64($0) - 100 }))
        let small = try floats("small", [3], [1, 2, 3])
        let constant = try floats("const_value", [512], [Float](repeating: 3, count: 512))
        let graph = Graph(
            name: "large",
            nodes: [
                Node(name: "const", opType: "Constant", outputs: ["c"], attributes: [Attribute(name: "value", value: .tensor(constant))]),
                Node(name: "add", opType: "Add", inputs: ["x", "small"], outputs: ["y"]),
            ],
            initializers: [bigFloat, small, bigInt],
            inputs: [ValueInfo(name: "x", type: .tensor(.float, [3]))],
            outputs: [ValueInfo(name: "y", type: .tensor(.float, [3])), ValueInfo(name: "c", type: .tensor(.float, [512]))])
        return Model(irVersion: 10, opsets: [OpsetID(domain: "", version: 21)], producerName: "modelinfo-tests", graph: graph)
    }

    static func raw(_ name: String, _ dtype: DType, _ dims: [Int], _ bytes: [UInt8], docString: String = "") throws -> Tensor {
        try Tensor(name: name, dtype: dtype, dims: dims, storage: .bytes(ByteRegion(copying: bytes)), docString: docString)
    }

    static func floats(_ name: String, _ dims: [Int], _ values: [Float], docString: String = "") throws -> Tensor {
        try raw(name, .float, dims, values.flatMap { littleEndianBytes($0.bitPattern) }, docString: docString)
    }

    static func int64Bytes(_ values: [Int64]) -> [UInt8] {
        values.flatMap { littleEndianBytes(UInt64(bitPattern: $0)) }
    }

    static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}

/// A fresh folder under the system's temporary folder, removed when dropped.
private final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Names of the entries, sorted; temporary files would show up here too.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}
