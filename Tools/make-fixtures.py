"""(Re)write the small committed test fixtures under <repo>/Fixtures/.

Usage: Tools/make-fixtures

Fixtures/valid/ gets real models built with onnx.helper (each passes
onnx.checker) and reference outputs computed with onnxruntime;
Fixtures/malformed/ gets files that must be rejected, some written byte by
byte. Both folders are deleted and rewritten; Fixtures/README.md (written by
hand) describes every file. All random data comes from fixed seeds, so running
the script twice gives identical bytes.
"""

import json
import math
import shutil
import struct
import zlib
from pathlib import Path

import ml_dtypes
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, external_data_helper, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "Fixtures" / "valid"
MALFORMED = ROOT / "Fixtures" / "malformed"

PRODUCER = "modelinfo-fixtures"
FLOAT = TensorProto.FLOAT


def opset(version, domain=""):
    return helper.make_opsetid(domain, version)


def make_model(graph, version=17, extra_opsets=()):
    """A model for `version` of the default domain, with the IR version that opset needs."""
    return helper.make_model(
        graph,
        ir_version=helper.find_min_ir_version_for([opset(version)]),
        opset_imports=[opset(version), *extra_opsets],
        producer_name=PRODUCER,
    )


def save_checked(model, path):
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())


def write_test_data(model_path, data_dir, inputs):
    """Run the saved model with onnxruntime and store inputs/outputs in the ONNX test layout."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    names = [value.name for value in session.get_inputs()]
    outputs = session.run(None, dict(zip(names, inputs, strict=True)))
    data_dir.mkdir(parents=True)
    for prefix, values, infos in (("input", inputs, session.get_inputs()), ("output", outputs, session.get_outputs())):
        for k, (value, info) in enumerate(zip(values, infos, strict=True)):
            tensor = numpy_helper.from_array(value, info.name)
            (data_dir / f"{prefix}_{k}.pb").write_bytes(tensor.SerializeToString())


# --- valid models -----------------------------------------------------------


def tiny_cnn():
    rng = np.random.default_rng(1)

    def weight(name, *shape, scale=0.3):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    initializers = [
        weight("conv.weight", 4, 3, 3, 3),
        weight("conv.bias", 4),
        numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), "bn.scale"),
        weight("bn.bias", 4),
        weight("bn.mean", 4, scale=0.1),
        numpy_helper.from_array(rng.uniform(0.5, 2.0, 4).astype(np.float32), "bn.var"),
        weight("fc.weight", 10, 64),
        weight("fc.bias", 10),
    ]
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["conv", "bn.scale", "bn.bias", "bn.mean", "bn.var"], ["bn"], epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["relu"]),
        helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["output"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny-cnn",
        [helper.make_tensor_value_info("input", FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("output", FLOAT, ["N", 10])],
        initializers,
    )
    model = make_model(graph)
    model.doc_string = "Tiny CNN: Conv, BatchNormalization, Relu, MaxPool, Flatten, Gemm, Softmax."
    helper.set_model_props(model, {"purpose": "modelinfo test fixture"})
    path = VALID / "tiny-cnn.onnx"
    save_checked(model, path)
    sample = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    write_test_data(path, VALID / "tiny-cnn" / "test_data_set_0", [sample])


# Small known values per data type: negatives, extremes, NaN/Inf where the type
# has them, and element counts that leave 4-, 2- and 6-bit packing incomplete.
TYPED_VALUES = {
    "FLOAT": [1.5, -2.25, 0.0, -0.0, 1e-45, np.nan, np.inf, -np.inf],
    "UINT8": [0, 1, 127, 200, 255],
    "INT8": [-128, -1, 0, 1, 127],
    "UINT16": [0, 1, 32768, 65535, 300],
    "INT16": [-32768, -1, 0, 1, 32767],
    "INT32": [-2147483648, -1, 0, 1, 2147483647],
    "INT64": [-9223372036854775808, -1, 0, 1, 9223372036854775807],
    "STRING": ["", "hello", "with space", "ünïcödé ✓"],
    "BOOL": [True, False, True],
    "FLOAT16": [1.5, -2.0, 65504.0, 6e-08, -0.0, np.nan, np.inf, -np.inf],
    "DOUBLE": [1 / 3, -1e300, 5e-324, -0.0, np.nan, np.inf, -np.inf],
    "UINT32": [0, 1, 2147483648, 4294967295],
    "UINT64": [0, 1, 9223372036854775808, 18446744073709551615],
    "COMPLEX64": [1 + 2j, -3.5 + 0j, complex(np.nan, np.inf)],
    "COMPLEX128": [1 / 3 - 0.25j, complex(-1e300, 1e-300), complex(np.inf, np.nan)],
    "BFLOAT16": [1.5, -2.0, 3.3895314e38, 1e-40, np.nan, np.inf, -np.inf],
    "FLOAT8E4M3FN": [1.5, -2.0, 448.0, 0.001953125, -0.0, np.nan],
    "FLOAT8E4M3FNUZ": [1.5, -2.0, 240.0, 0.0009765625, np.nan],
    "FLOAT8E5M2": [1.5, -2.0, 57344.0, 1.52587890625e-05, np.nan, np.inf, -np.inf],
    "FLOAT8E5M2FNUZ": [1.5, -2.0, 57344.0, 7.62939453125e-06, np.nan],
    "UINT4": [0, 1, 7, 15, 9],
    "INT4": [-8, -1, 0, 7, 3],
    "FLOAT4E2M1": [0.0, 0.5, -1.5, 6.0, -6.0],
    "FLOAT8E8M0": [1.0, 2.0, 0.5, 2.0**-127, 2.0**127, np.nan],
    "UINT2": [0, 1, 2, 3, 1],
    "INT2": [-2, -1, 0, 1, -1],
    "FLOAT6E2M3": [0.0, 1.5, -7.5, 0.125, -1.0],
    "FLOAT6E3M2": [0.0, 28.0, -0.25, 3.0, 0.0625],
}
FLOAT_BIT_PATTERNS = {"FLOAT16", "BFLOAT16", "FLOAT6E2M3", "FLOAT6E3M2"} | {
    name for name in TYPED_VALUES if name.startswith("FLOAT8")
}
PACKED_IN_BYTES = {"UINT4", "INT4", "FLOAT4E2M1", "UINT2", "INT2"}


def typed_field_tensor(name, type_name, array):
    """The tensor with its values in the type-specific field the ONNX spec prescribes."""
    data_type = TensorProto.DataType.Value(type_name)
    tensor = TensorProto(name=name, data_type=data_type, dims=array.shape)
    if type_name == "STRING":
        values = [s.encode() for s in array.flat]
    elif type_name in PACKED_IN_BYTES:  # int32_data holds the packed bytes, one per entry
        values = list(numpy_helper.from_array(array).raw_data)
    elif type_name in FLOAT_BIT_PATTERNS:  # int32_data holds each element's bits
        values = array.ravel().view(f"u{array.itemsize}").tolist()
    elif type_name in ("FLOAT", "DOUBLE", "COMPLEX64", "COMPLEX128"):  # complex: re, im interleaved
        values = array.ravel().view(array.real.dtype).tolist()
    else:  # integers and bools: the value itself
        values = [int(v) for v in array.ravel().tolist()]
    getattr(tensor, helper.tensor_dtype_to_field(data_type)).extend(values)
    return tensor


def json_value(value):
    if isinstance(value, complex):
        return [json_value(value.real), json_value(value.imag)]
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def decoded_values(array):
    """to_array's result as JSON-ready Python values (ints stay exact)."""
    if array.dtype == object:
        return array.ravel().tolist()
    if array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer) or array.dtype in (
        ml_dtypes.int4, ml_dtypes.uint4, ml_dtypes.int2, ml_dtypes.uint2
    ):
        return [int(x) for x in array.ravel()]
    if np.issubdtype(array.dtype, np.complexfloating):
        return [json_value(complex(x)) for x in array.ravel()]
    return [json_value(float(x)) for x in array.ravel().astype(np.float64)]


def typed_fields():
    initializers = []
    for type_name, values in TYPED_VALUES.items():
        data_type = TensorProto.DataType.Value(type_name)
        array = np.array(values, dtype=helper.tensor_dtype_to_np_dtype(data_type))
        if type_name == "FLOAT":
            array = array.reshape(2, 4)
        initializers.append(numpy_helper.from_array(array, f"raw_{type_name}"))
        initializers.append(typed_field_tensor(f"typed_{type_name}", type_name, array))
    graph = helper.make_graph(
        [helper.make_node("Identity", ["raw_FLOAT"], ["output"])],
        "typed-fields",
        [],
        [helper.make_tensor_value_info("output", FLOAT, [2, 4])],
        initializers,
    )
    path = VALID / "typed-fields.onnx"
    save_checked(make_model(graph, onnx.defs.onnx_opset_version()), path)

    oracle = []
    for tensor in onnx.load(path).graph.initializer:
        array = numpy_helper.to_array(tensor)
        oracle.append({
            "name": tensor.name,
            "dtype": TensorProto.DataType.Name(tensor.data_type),
            "field": "raw_data" if tensor.HasField("raw_data") else helper.tensor_dtype_to_field(tensor.data_type),
            "dims": list(tensor.dims),
            "values": decoded_values(array),
        })
    for raw, typed in zip(oracle[0::2], oracle[1::2], strict=True):  # json.dumps tells -0.0 from 0.0
        assert json.dumps(raw["values"]) == json.dumps(typed["values"]), (raw, typed)
    lines = [json.dumps(entry, ensure_ascii=False) for entry in oracle]
    (VALID / "typed-fields.json").write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")


def control_flow():
    two = numpy_helper.from_array(np.full(3, 2.0, np.float32), "two")
    loop_cond = numpy_helper.from_array(np.array(True), "loop_cond")

    def value(name, elem_type=FLOAT, shape=(3,)):
        return helper.make_tensor_value_info(name, elem_type, shape)

    # If: both branches read the outer-scope graph input `x` and initializer `two`.
    then_branch = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["then_out"])], "then_branch", [], [value("then_out")]
    )
    else_branch = helper.make_graph(
        [helper.make_node("Sub", ["x", "two"], ["else_out"])], "else_branch", [], [value("else_out")]
    )
    # Loop: acc += if_out (outer scope), `trip` times; also emits acc after each step.
    loop_body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["acc_in", "if_out"], ["acc_out"]),
            helper.make_node("Identity", ["acc_out"], ["acc_step"]),
        ],
        "loop_body",
        [value("iteration", TensorProto.INT64, []), value("cond_in", TensorProto.BOOL, []), value("acc_in")],
        [value("cond_out", TensorProto.BOOL, []), value("acc_out"), value("acc_step")],
    )
    # Scan: running sum of the rows of `rows`, starting from the loop result.
    scan_body = helper.make_graph(
        [
            helper.make_node("Add", ["sum_in", "row"], ["sum_out"]),
            helper.make_node("Identity", ["sum_out"], ["partial"]),
        ],
        "scan_body",
        [value("sum_in"), value("row")],
        [value("sum_out"), value("partial")],
    )
    nodes = [
        helper.make_node("If", ["cond"], ["if_out"], then_branch=then_branch, else_branch=else_branch),
        helper.make_node("Loop", ["trip", "loop_cond", "x"], ["loop_out", "loop_steps"], body=loop_body),
        helper.make_node("Scan", ["loop_out", "rows"], ["scan_sum", "scan_partials"], body=scan_body, num_scan_inputs=1),
    ]
    graph = helper.make_graph(
        nodes,
        "control-flow",
        [value("x"), value("cond", TensorProto.BOOL, []), value("trip", TensorProto.INT64, []), value("rows", FLOAT, [4, 3])],
        [value("if_out"), value("loop_out"), value("loop_steps", FLOAT, ["steps", 3]), value("scan_sum"), value("scan_partials", FLOAT, [4, 3])],
        [two, loop_cond],
    )
    path = VALID / "control-flow.onnx"
    save_checked(make_model(graph), path)
    rng = np.random.default_rng(2)
    inputs = [
        rng.standard_normal(3).astype(np.float32),
        np.array(True),
        np.array(3, np.int64),
        rng.standard_normal((4, 3)).astype(np.float32),
    ]
    write_test_data(path, VALID / "control-flow" / "test_data_set_0", inputs)


def external_tensor(array, name, location, offset):
    tensor = numpy_helper.from_array(array, name)
    external_data_helper.set_external_data(tensor, location, offset, array.nbytes)
    tensor.ClearField("raw_data")
    return tensor


PAGE = 4096
EXTERNAL_WEIGHT = np.arange(12, dtype=np.float32).reshape(4, 3) / 4 - 1
EXTERNAL_BIAS = np.array([0.5, -0.5, 2.0], np.float32)


def external():
    """y = x @ weight + bias; weights.bin: zeros, the weight at offset 4096, the bias at offset 8192."""
    folder = VALID / "external"
    folder.mkdir(parents=True)
    blob = bytearray(2 * PAGE)
    blob[PAGE:PAGE + EXTERNAL_WEIGHT.nbytes] = EXTERNAL_WEIGHT.tobytes()
    blob += EXTERNAL_BIAS.tobytes()
    (folder / "weights.bin").write_bytes(blob)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "weight"], ["xw"]), helper.make_node("Add", ["xw", "bias"], ["y"])],
        "external",
        [helper.make_tensor_value_info("x", FLOAT, [2, 4])],
        [helper.make_tensor_value_info("y", FLOAT, [2, 3])],
        [
            external_tensor(EXTERNAL_WEIGHT, "weight", "weights.bin", PAGE),
            external_tensor(EXTERNAL_BIAS, "bias", "weights.bin", 2 * PAGE),
        ],
    )
    (folder / "model.onnx").write_bytes(make_model(graph).SerializeToString())
    onnx.checker.check_model(folder / "model.onnx", full_check=True)  # resolves external data via the path
    sample = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    write_test_data(folder / "model.onnx", folder / "test_data_set_0", [sample])


def symbolic():
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["tokens"], ["tokens_float"], to=FLOAT),
            helper.make_node("Mul", ["tokens_float", "mask"], ["masked"]),
            helper.make_node("Gelu", ["masked"], ["output"], domain="com.microsoft"),
        ],
        "symbolic",
        [
            helper.make_tensor_value_info("tokens", TensorProto.INT64, ["N", "seq"]),
            helper.make_tensor_value_info("mask", FLOAT, ["N", "seq"]),
        ],
        [helper.make_tensor_value_info("output", FLOAT, ["N", "seq"])],
        value_info=[helper.make_tensor_value_info("tokens_float", FLOAT, ["N", "seq"])],
    )
    save_checked(make_model(graph, extra_opsets=[opset(1, "com.microsoft")]), VALID / "symbolic.onnx")


def encoder(layers=6, hidden=16, heads=2, ffn=32, vocab=50, positions=64):
    """A BERT-style encoder laid out as PyTorch's exporter writes one: hierarchical
    node names, LayerNorm and exact GELU decomposed into primitive ops, scalar
    constants as Constant nodes, attention as MatMul/Reshape/Transpose/Softmax,
    positions sliced to the symbolic sequence length. About 300 nodes."""
    rng = np.random.default_rng(11)
    nodes, initializers = [], []
    counter = [0]

    def weight(name, *shape):
        initializers.append(numpy_helper.from_array((rng.standard_normal(shape) * 0.2).astype(np.float32), name))
        return name

    def constant(scope, value, dtype=np.float32):
        counter[0] += 1
        out = f"{scope}/Constant_{counter[0]}_output_0"
        nodes.append(helper.make_node("Constant", [], [out], name=f"{scope}/Constant_{counter[0]}",
                                      value=numpy_helper.from_array(np.array(value, dtype=dtype))))
        return out

    def node(scope, op, inputs, **attributes):
        out = f"{scope}/{op}_output_0"
        nodes.append(helper.make_node(op, inputs, [out], name=f"{scope}/{op}", **attributes))
        return out

    def linear(scope, x, name, n_in, n_out):
        y = node(scope, "MatMul", [x, weight(f"onnx::MatMul_{name}", n_in, n_out)])
        return node(scope, "Add", [weight(f"{name}.bias", n_out), y])

    def layer_norm(scope, x, name):
        mean = node(scope, "ReduceMean", [x], axes=[-1])
        centered = node(scope, "Sub", [x, mean])
        square = node(scope, "Pow", [centered, constant(scope, 2.0)])
        variance = node(f"{scope}/var", "ReduceMean", [square], axes=[-1])
        shifted = node(scope, "Add", [variance, constant(scope, 1e-12)])
        deviation = node(scope, "Sqrt", [shifted])
        normed = node(scope, "Div", [centered, deviation])
        scaled = node(scope, "Mul", [normed, weight(f"{name}.weight", hidden)])
        return node(f"{scope}/shift", "Add", [scaled, weight(f"{name}.bias", hidden)])

    head = hidden // heads
    initializers.append(numpy_helper.from_array(np.array([0, 0, heads, head], np.int64), "split_heads_shape"))
    initializers.append(numpy_helper.from_array(np.array([0, 0, hidden], np.int64), "merge_heads_shape"))
    initializers.append(numpy_helper.from_array(np.arange(positions, dtype=np.int64)[None, :], "embeddings.position_ids"))

    scope = "/embeddings"
    words = node(f"{scope}/word_embeddings", "Gather", [weight("embeddings.word_embeddings.weight", vocab, hidden), "input_ids"])
    shape = node(scope, "Shape", ["input_ids"])
    length = node(scope, "Gather", [shape, constant(scope, 1, np.int64)], axis=0)
    ends = node(scope, "Unsqueeze", [length, constant(f"{scope}/ends", [0], np.int64)])
    ids = node(scope, "Slice", ["embeddings.position_ids", constant(f"{scope}/starts", [0], np.int64), ends,
                                constant(f"{scope}/axes", [1], np.int64)])
    places = node(f"{scope}/position_embeddings", "Gather", [weight("embeddings.position_embeddings.weight", positions, hidden), ids])
    x = layer_norm(f"{scope}/LayerNorm", node(scope, "Add", [words, places]), "embeddings.LayerNorm")

    for i in range(layers):
        base, prefix = f"/encoder/layer.{i}", f"encoder.layer.{i}"
        attention = f"{base}/attention/self"
        q, k, v = (linear(f"{attention}/{part}", x, f"{prefix}.attention.self.{part}", hidden, hidden)
                   for part in ("query", "key", "value"))
        q = node(f"{attention}/q", "Transpose", [node(f"{attention}/q", "Reshape", [q, "split_heads_shape"])], perm=[0, 2, 1, 3])
        k = node(f"{attention}/k", "Transpose", [node(f"{attention}/k", "Reshape", [k, "split_heads_shape"])], perm=[0, 2, 3, 1])
        v = node(f"{attention}/v", "Transpose", [node(f"{attention}/v", "Reshape", [v, "split_heads_shape"])], perm=[0, 2, 1, 3])
        scores = node(f"{attention}/scores", "MatMul", [q, k])
        scores = node(attention, "Div", [scores, constant(attention, math.sqrt(head))])
        probabilities = node(attention, "Softmax", [scores], axis=-1)
        context = node(f"{attention}/context", "MatMul", [probabilities, v])
        context = node(f"{attention}/context", "Transpose", [context], perm=[0, 2, 1, 3])
        context = node(f"{attention}/context", "Reshape", [context, "merge_heads_shape"])
        output = f"{base}/attention/output"
        attended = linear(f"{output}/dense", context, f"{prefix}.attention.output.dense", hidden, hidden)
        x = layer_norm(f"{output}/LayerNorm", node(output, "Add", [attended, x]), f"{prefix}.attention.output.LayerNorm")

        inner = linear(f"{base}/intermediate/dense", x, f"{prefix}.intermediate.dense", hidden, ffn)
        gelu = f"{base}/intermediate/intermediate_act_fn"
        erf = node(gelu, "Erf", [node(gelu, "Div", [inner, constant(gelu, 1.4142135)])])
        half = node(f"{gelu}/half", "Mul", [node(gelu, "Mul", [inner, node(gelu, "Add", [erf, constant(gelu, 1.0)])]),
                                            constant(gelu, 0.5)])
        output = f"{base}/output"
        dense = linear(f"{output}/dense", half, f"{prefix}.output.dense", ffn, hidden)
        x = layer_norm(f"{output}/LayerNorm", node(output, "Add", [dense, x]), f"{prefix}.output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="/Identity"))
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"])],
        [helper.make_tensor_value_info("last_hidden_state", FLOAT, ["batch", "sequence", hidden])],
        initializers,
    )
    path = VALID / "encoder.onnx"
    save_checked(make_model(graph), path)
    tokens = np.random.default_rng(12).integers(0, vocab, size=(1, 8)).astype(np.int64)
    write_test_data(path, VALID / "encoder" / "test_data_set_0", [tokens])


# --- malformed files --------------------------------------------------------


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def length_delimited(field, payload, length=None):
    return varint(field << 3 | 2) + varint(len(payload) if length is None else length) + payload


def small_model(*initializers, nodes=None, name="small"):
    """Unchecked model from x float[6] to y float[6]: x + the first initializer, or the given nodes."""
    graph = helper.make_graph(
        nodes or [helper.make_node("Add", ["x", initializers[0].name], ["y"])],
        name,
        [helper.make_tensor_value_info("x", FLOAT, [6])],
        [helper.make_tensor_value_info("y", FLOAT, [6])],
        list(initializers),
    )
    return make_model(graph)


def six_floats():
    return np.linspace(-1, 1, 6, dtype=np.float32)


def tiny_png():
    """A valid 1x1 RGB PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def deep_nesting(levels=10_000):
    """graph.input[0].type is sequence_type(elem_type=...) nested `levels` deep around a float tensor."""
    tensor_type = length_delimited(1, varint(1 << 3 | 0) + varint(FLOAT))  # TypeProto.tensor_type{elem_type}
    type_proto = tensor_type
    for _ in range(levels):
        sequence = length_delimited(1, type_proto)  # TypeProto.Sequence.elem_type
        type_proto = length_delimited(4, sequence)  # TypeProto.sequence_type
    value_info = length_delimited(1, b"x") + length_delimited(2, type_proto)
    graph = length_delimited(2, b"deep") + length_delimited(11, value_info)
    opset_import = varint(2 << 3 | 0) + varint(17)
    return varint(1 << 3 | 0) + varint(8) + length_delimited(8, opset_import) + length_delimited(7, graph)


def model_without_graph(model):
    """The model's bytes minus its graph field, and the graph's bytes."""
    head = onnx.ModelProto()
    head.CopyFrom(model)
    head.ClearField("graph")
    return head.SerializeToString(), model.graph.SerializeToString()


def truncated_in_raw_data(model, raw):
    data = model.SerializeToString()
    start = data.index(raw)
    return data[: start + len(raw) // 2]


def malformed():
    files = {}
    files["empty.onnx"] = b""
    files["png.onnx"] = tiny_png()
    files["text.onnx"] = b"This is a plain text file, not an ONNX model.\n"
    files["deep-nesting.onnx"] = deep_nesting()

    head, graph = model_without_graph(small_model(numpy_helper.from_array(six_floats(), "b")))
    valid = head + length_delimited(7, graph)  # ModelProto.graph is field 7
    files["length-past-end.onnx"] = head + length_delimited(7, graph, length=len(graph) + 1000)
    files["bad-varint.onnx"] = varint(1 << 3 | 0) + b"\xff" * 11 + b"\x01" + valid  # ir_version
    files["bad-wiretype.onnx"] = valid + varint(20 << 3 | 7) + b"\x00" * 8

    big = np.random.default_rng(4).standard_normal(256).astype(np.float32)
    fc = numpy_helper.from_array(big.reshape(16, 16), "fc.weight")
    matmul = helper.make_node("MatMul", ["x", "fc.weight"], ["y"])
    files["truncated.onnx"] = truncated_in_raw_data(small_model(fc, nodes=[matmul]), big.tobytes())

    huge = TensorProto(name="huge", data_type=FLOAT, dims=[2**32, 2**32, 16], raw_data=bytes(16))
    files["dims-overflow.onnx"] = small_model(huge, nodes=[helper.make_node("Identity", ["x"], ["y"])]).SerializeToString()
    short = TensorProto(name="b", data_type=FLOAT, dims=[6], raw_data=six_floats().tobytes()[:20])
    files["raw-size-mismatch.onnx"] = small_model(short).SerializeToString()

    def external_model(location, offset=0):
        return small_model(external_tensor(six_floats(), "b", location, offset)).SerializeToString()

    files["external-absolute.onnx"] = external_model("/etc/passwd")
    files["external-dotdot.onnx"] = external_model("../outside.bin")
    files["external-symlink/model.onnx"] = external_model("link.bin", PAGE)
    files["external-past-end/model.onnx"] = external_model("weights.bin", 8)
    files["external-past-end/weights.bin"] = six_floats().tobytes()[:16]
    files["external-missing/model.onnx"] = external_model("missing.bin")

    invalid_graphs = {
        "cycle": [helper.make_node("Add", ["x", "y"], ["a"]), helper.make_node("Relu", ["a"], ["y"])],
        "missing-value": [helper.make_node("Add", ["x", "ghost"], ["y"])],
        "duplicate-output": [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Neg", ["x"], ["y"])],
    }
    for name, nodes in invalid_graphs.items():
        files[f"{name}.onnx"] = small_model(nodes=nodes, name=name).SerializeToString()

    for name, data in files.items():
        path = MALFORMED / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (MALFORMED / "external-symlink" / "link.bin").symlink_to("../../valid/external/weights.bin")


def main():
    for folder in (VALID, MALFORMED):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    tiny_cnn()
    typed_fields()
    control_flow()
    external()
    symbolic()
    encoder()
    malformed()
    total = 0
    for path in sorted(p for p in (ROOT / "Fixtures").rglob("*") if p.is_file() or p.is_symlink()):
        size = path.lstat().st_size
        total += size
        print(f"{size:8d}  {path.relative_to(ROOT)}" + (f" -> {path.readlink()}" if path.is_symlink() else ""))
    print(f"{total:8d}  total")


if __name__ == "__main__":
    main()
