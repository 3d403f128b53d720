"""Hostile-model campaign: real models rewritten to extreme but well-formed values.

Usage: .venv/bin/python Tools/hostile-models.py [--filter TEXT] [--list] [--jobs N]
       (normally through Tools/hostile-models, which builds the binary first)

Each case starts from a model of the ONNX node suite (.generated/onnx-node,
written by Tools/onnx-suite), a file of Fixtures/valid, or a few nodes built
here, and sets some of its numbers to values a user's file may carry: dims of
2^40, axes of -99 or 2^40, Resize scales of 1e6 or NaN, Loop trip counts of
2^62, Tile repeats and Pad amounts past any memory, Range with a tiny delta,
gather indices out of range, zero-sized dims, contradictory Reshape shapes,
huge ConstantOfShape shapes, If nested 500 deep, Conv attributes of 0, -1 and
2^40, NaN and inf weights, INT64_MIN and INT64_MAX attributes. The files stay
valid protobuf; graph inputs that hold the hostile value (a shape, scales,
indices, a trip count) are made initializers so that `run` cannot replace them
with random data. The cases are written to .generated/hostile/cases/NAME.onnx
(all of them, whatever --filter says) so that a failure can be replayed.

Every case goes through four commands, each in its own process limited to
8 GiB of address space and 20 s (then its process group is killed):

    modelinfo CASE --json
    modelinfo run CASE -o TEMPDIR
    modelinfo convert CASE -o TEMPDIR/out.swm
    modelinfo check CASE

A run passes when it exits 0, or exits 1 with exactly one non-empty line on
stderr: the tool's own one-line error. It fails on a signal (a trap, a crash,
the kernel's OOM kill), the timeout, any other exit status, or exit 1 with an
empty or multi-line stderr. Failures are printed one per run with the start of
stderr, then "hostile-models: N cases × 4 commands = M runs, F failures, in
S s"; every run is written to .generated/hostile/report.json. Exit status 1
when anything failed.

MODELINFO names the binary (default .build/release/modelinfo).
"""

import argparse
import concurrent.futures
import functools
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / ".generated" / "onnx-node"
FIXTURES = ROOT / "Fixtures" / "valid"
OUT = ROOT / ".generated" / "hostile"
ADDRESS_SPACE = 8 << 30
TIMEOUT = 20  # seconds per command

T40, T31, T62 = 2**40, 2**31, 2**62
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NAN, INF = math.nan, math.inf


# --- Building blocks -------------------------------------------------------

@functools.cache
def _source_bytes(source):
    path = FIXTURES / source if source.endswith(".onnx") else SUITE / source / "model.onnx"
    return path.read_bytes()


def load(source):
    """A fresh copy of a suite case (test_…) or of a Fixtures/valid file (….onnx)."""
    return onnx.load_from_string(_source_bytes(source))


def short(source):
    """test_reshape_negative_dim → reshape-negative-dim"""
    return source.removeprefix("test_").removesuffix(".onnx").replace("_", "-")


def label(value):
    """A value as it appears in a case name: -99 → minus99, 2**40 → 2^40."""
    if isinstance(value, (list, tuple)):
        return "x".join(label(v) for v in value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "minus-inf"
        if value != int(value) or 1000 <= abs(value) < 2**20 or int(value) & (int(value) - 1):
            text = re.sub(r"e\+?(-?)0*", r"e\1", f"{abs(value):g}")  # 1e+06 → 1e6
            return ("minus" if value < 0 else "") + text
        value = int(value)
    if value == INT64_MIN:
        return "int64-min"
    if value == INT64_MAX:
        return "int64-max"
    if value < 0:
        return "minus" + label(-value)
    if value >= 2**20 and value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    return str(value)


def freeze(model, **values):
    """Make graph inputs initializers holding the given values, in the inputs' declared types."""
    graph = model.graph
    for name, value in values.items():
        (entry,) = [i for i in graph.input if i.name == name]
        elem_type = entry.type.tensor_type.elem_type
        array = np.array(value, dtype=helper.tensor_dtype_to_np_dtype(elem_type))
        graph.initializer.append(numpy_helper.from_array(array, name))
        if model.ir_version >= 4:
            graph.input.remove(entry)
        else:  # before IR 4 every initializer must also be a graph input
            entry.CopyFrom(helper.make_tensor_value_info(name, elem_type, array.shape))
    return model


def set_attrs(model, op=None, **attrs):
    """Set attributes of the first node (of type op if given)."""
    node = next(n for n in model.graph.node if op is None or n.op_type == op)
    for name, value in attrs.items():
        for old in [a for a in node.attribute if a.name == name]:
            node.attribute.remove(old)
        node.attribute.append(helper.make_attribute(name, value))
    return model


def set_shape(model, name, dims):
    """Declare a graph input's dims."""
    (entry,) = [i for i in model.graph.input if i.name == name]
    shape = entry.type.tensor_type.shape
    shape.ClearField("dim")
    for d in dims:
        shape.dim.add().dim_value = d
    return model


def set_all_dims(model, value):
    """Every dim of every tensor graph input becomes value."""
    for entry in model.graph.input:
        if entry.type.HasField("tensor_type"):
            for dim in entry.type.tensor_type.shape.dim:
                dim.Clear()
                dim.dim_value = value
    return model


def concrete(model, value=8):
    """Every named (symbolic) dim of the graph inputs becomes value, so that `run` needs no --symbol."""
    for entry in model.graph.input:
        for dim in entry.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_value = value
    return model


def initializer(model, name):
    return next(t for t in model.graph.initializer if t.name == name)


def scratch(nodes, inputs, outputs, initializers=(), opset=17):
    """A model built here, at opset 17 and the IR version (8) it came with."""
    graph = helper.make_graph(nodes, "hostile", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="hostile-models")
    model.ir_version = 8
    return model


def tensor(name, value, dtype):
    return numpy_helper.from_array(np.array(value, dtype=dtype), name)


def info(name, elem_type, dims=None):
    return helper.make_tensor_value_info(name, elem_type, dims)


# --- Mutation families: each yields (case name, ModelProto or serialized bytes) ---

def huge_dims():
    # Graph inputs declared 2^40 (and 2^31) in every dim; `run` makes random inputs of that shape.
    for source in ["test_add", "test_relu", "test_softmax_axis_1", "test_maxpool_2d_default",
                   "test_basic_conv_with_padding", "test_concat_2d_axis_0", "test_transpose_all_permutations_0"]:
        yield f"input-dims-2^40-{short(source)}", set_all_dims(load(source), T40)
    for source in ["test_add", "test_softmax_axis_1", "test_basic_conv_with_padding"]:
        yield f"input-dims-2^31-{short(source)}", set_all_dims(load(source), T31)
    for source in ["tiny-cnn.onnx", "encoder.onnx", "symbolic.onnx"]:
        model = load(source)
        model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = T40
        yield f"input-batch-2^40-{short(source)}", concrete(model)

    # An initializer whose declared dims disagree with its (small) data: malformed on purpose.
    for dims, name in [([T40, 3, 3, 3], "2^40"), ([T62, T62, 3, 3], "2^62x2^62"), ([-1, 3, 3, 3], "minus1"),
                       ([0, 3, 3, 3], "0")]:
        model = load("tiny-cnn.onnx")
        weight = initializer(model, "conv.weight")
        weight.ClearField("dims")
        weight.dims.extend(dims)
        yield f"init-dims-{name}-tiny-cnn-conv-weight", model
    model = load("encoder.onnx")
    weight = initializer(model, "embeddings.word_embeddings.weight")
    weight.dims[0] = T40
    yield "init-dims-2^40-encoder-embeddings", model

    # The well-formed way: a shape tensor that asks for 2^40 (Reshape's and
    # ConstantOfShape's are in their own families).
    for shape in ([T40, 3, 6], [2**20, 2**20, 3, 1], [T62, T62, 3, 1], [-1, 3, 1]):
        yield f"expand-shape-{label(shape)}", freeze(load("test_expand_dim_changed"), new_shape=shape)


def bad_axes():
    for value in (-99, 99, T40):
        for source, op in [("test_concat_2d_axis_0", "Concat"), ("test_softmax_axis_1", "Softmax"),
                           ("test_gather_0", "Gather"), ("test_gather_elements_0", "GatherElements"),
                           ("test_flatten_axis1", "Flatten"), ("test_split_equal_parts_2d_opset13", "Split"),
                           ("test_argmax_keepdims_example", "ArgMax"), ("test_hardmax_axis_1", "Hardmax"),
                           ("test_layer_normalization_2d_axis1", "LayerNormalization"),
                           ("test_onehot_with_axis", "OneHot"), ("test_top_k", "TopK"),
                           ("test_compress_0", "Compress")]:
            model = set_attrs(load(source), op, axis=value)
            if op == "TopK":
                freeze(model, k=[2])
            yield f"{op.lower()}-axis-{label(value)}", model
        yield f"logsoftmax-axis-{label(value)}", set_attrs(load("test_logsoftmax_axis_1"), axis=value)
        # Axes given as an input (opset 13 and later).
        yield f"reducesum-axes-{label(value)}", freeze(load("test_reduce_sum_keepdims_random"), axes=[value])
        yield f"squeeze-axes-{label(value)}", freeze(load("test_squeeze"), axes=[value])
        yield f"unsqueeze-axes-{label(value)}", freeze(load("test_unsqueeze_axis_0"), axes=[value])
        if value != T40:  # CumSum's axis is int32 here
            yield f"cumsum-axis-{label(value)}", freeze(load("test_cumsum_1d"), axis=value)
    yield "cumsum-axis-int32-max", freeze(load("test_cumsum_1d"), axis=2**31 - 1)
    yield "reducesum-axes-repeated", freeze(load("test_reduce_sum_keepdims_random"), axes=[1, 1])
    yield "squeeze-axes-not-1", freeze(load("test_squeeze"), axes=[2])
    yield "unsqueeze-axes-repeated", freeze(load("test_unsqueeze_axis_0"), axes=[0, 0])
    for perm, name in [([0, 1, 99], "out-of-range"), ([0, 0, 1], "repeated"), ([-1, 0, 1], "negative"),
                       ([0, 1], "short"), ([0, 1, 2, 3], "long"), ([T40, 0, 1], "2^40")]:
        yield f"transpose-perm-{name}", set_attrs(load("test_transpose_all_permutations_0"), perm=perm)
    slices = dict(starts=[0, 0], ends=[3, 10])
    yield "slice-axes-99", freeze(load("test_slice"), **slices, axes=[99, 1], steps=[1, 1])
    yield "slice-axes-repeated", freeze(load("test_slice"), **slices, axes=[0, 0], steps=[1, 1])
    yield "slice-steps-0", freeze(load("test_slice"), **slices, axes=[0, 1], steps=[0, 1])


def resize():
    for scale in (1e6, 1e30, NAN, INF, 0.0, -1.0, 1e-30):
        yield (f"resize-nearest-scales-{label(scale)}",
               freeze(load("test_resize_upsample_scales_nearest"), scales=[1, 1, scale, scale]))
    for mode in ("linear", "cubic"):
        for scale in (1e6, NAN):
            yield (f"resize-{mode}-scales-{label(scale)}",
                   freeze(load(f"test_resize_upsample_scales_{mode}"), scales=[1, 1, scale, scale]))
    for sizes in ([1, 1, T40, T40], [1, 1, T62, T62], [1, 1, -1, 4], [1, 1, 0, 0]):
        yield f"resize-sizes-{label(sizes[2:])}", freeze(load("test_resize_upsample_sizes_nearest"), sizes=sizes)


def loop_model(trip, scan_elements=0):
    """Loop(trip, true, x): the body adds 1 and, with scan_elements, emits that many floats per iteration."""
    one = helper.make_node("Constant", [], ["one"], value=tensor("one", [1.0], np.float32))
    body_nodes = [helper.make_node("Identity", ["cond_in"], ["cond_out"]), one,
                  helper.make_node("Add", ["y_in", "one"], ["y_out"])]
    body_outputs = [info("cond_out", TensorProto.BOOL, []), info("y_out", TensorProto.FLOAT, [1])]
    loop_outputs = ["y"]
    if scan_elements:
        shape = helper.make_node("Constant", [], ["shape"], value=tensor("shape", [scan_elements], np.int64))
        body_nodes += [shape, helper.make_node("Expand", ["y_out", "shape"], ["scan_out"])]
        body_outputs.append(info("scan_out", TensorProto.FLOAT, [scan_elements]))
        loop_outputs.append("scans")
    body = helper.make_graph(body_nodes, "body", [info("iteration", TensorProto.INT64, []),
                                                  info("cond_in", TensorProto.BOOL, []),
                                                  info("y_in", TensorProto.FLOAT, [1])], body_outputs)
    initializers = [tensor("cond", True, np.bool_)]
    if trip is not None:
        initializers.append(tensor("trip", trip, np.int64))
    loop = helper.make_node("Loop", ["trip" if trip is not None else "", "cond", "x"], loop_outputs, body=body)
    outputs = [info("y", TensorProto.FLOAT, [1])]
    if scan_elements:
        outputs.append(info("scans", TensorProto.FLOAT, ["iterations", scan_elements]))
    return scratch([loop], [info("x", TensorProto.FLOAT, [1])], outputs, initializers)


def loops():
    for trip in (T62, T31):
        yield f"loop-trip-{label(trip)}", loop_model(trip)
        yield f"loop11-trip-{label(trip)}", freeze(load("test_loop11"), trip_count=trip, cond=True)
    yield "loop-trip-int64-max", loop_model(INT64_MAX)
    yield "loop-trip-minus1", loop_model(-1)
    yield "loop-no-trip-cond-true", loop_model(None)
    yield "loop-trip-2^62-scan-4MB", loop_model(T62, scan_elements=2**20)
    # Its sequence input has no random values: made here by SequenceEmpty instead.
    model = freeze(load("test_loop13_seq"), trip_count=T62, cond=True)
    model.graph.input.remove(next(i for i in model.graph.input if i.name == "seq_empty"))
    model.graph.node.insert(0, helper.make_node("SequenceEmpty", [], ["seq_empty"]))
    yield "loop13-seq-trip-2^62", model
    yield "control-flow-trip-2^62", freeze(load("control-flow.onnx"), trip=T62)


def tile_pad():
    # x is 2x3x4x5.
    for repeats in ([T40, 1, 1, 1], [2**20, 2**20, 1, 1], [T62, T62, 1, 1], [-1, 1, 1, 1]):
        yield f"tile-repeats-{label(repeats)}", freeze(load("test_tile"), y=repeats)
    yield "tile-repeats-int64-max", freeze(load("test_tile"), y=[INT64_MAX, 1, 1, 1])
    for pads, name in [([0, 0, T40, 0, 0, 0, 0, 0], "2^40"), ([T40] * 8, "all-2^40"),
                       ([0, 0, -100, 0, 0, 0, 0, 0], "minus100"), ([0, 0, -3, 0, 0, 0, -3, 0], "minus3-both-sides"),
                       ([0, 0, INT64_MAX, 0, 0, 0, INT64_MAX, 0], "int64-max-both-sides"),
                       ([0, 0, INT64_MIN, 0, 0, 0, 0, 0], "int64-min")]:
        yield f"pad-constant-{name}", freeze(load("test_constant_pad"), pads=pads)
    for mode in ("edge", "reflect", "wrap"):
        yield f"pad-{mode}-2^40", freeze(load(f"test_{mode}_pad"), pads=[0, 0, T40, 0, 0, 0, 0, 0])
        yield f"pad-{mode}-minus100", freeze(load(f"test_{mode}_pad"), pads=[0, 0, -100, 0, 0, 0, 0, 0])
        if mode != "edge":  # a reflection or wrap of more than the dim itself
            yield f"pad-{mode}-10-past-dim", freeze(load(f"test_{mode}_pad"), pads=[0, 0, 10, 0, 0, 0, 10, 0])


def ranges():
    for (start, limit, delta), name in [((0, 1e9, 1e-9), "tiny-delta"), ((0, 1, 0), "delta-0"),
                                        ((0, 1, NAN), "delta-nan"), ((0, INF, 1), "limit-inf"),
                                        ((0, 1e30, 1), "limit-1e30"), ((0, T31, 1), "limit-2^31")]:
        yield (f"range-float-{name}",
               freeze(load("test_range_float_type_positive_delta"), start=start, limit=limit, delta=delta))
    for (start, limit, delta), name in [((0, 2**31 - 1, 1), "limit-int32-max"), ((0, 5, 0), "delta-0"),
                                        ((-(2**31), 2**31 - 1, 1), "int32-min-to-max")]:
        yield (f"range-int32-{name}",
               freeze(load("test_range_int32_type_negative_delta"), start=start, limit=limit, delta=delta))
    for (start, limit, delta), name in [((0, T62, 1), "limit-2^62"), ((0, 5, 0), "delta-0"),
                                        ((INT64_MIN, INT64_MAX, 1), "int64-min-to-max"),
                                        ((INT64_MAX, INT64_MIN, -1), "int64-max-to-min")]:
        values = [tensor("start", start, np.int64), tensor("limit", limit, np.int64), tensor("delta", delta, np.int64)]
        yield (f"range-int64-{name}",
               scratch([helper.make_node("Range", ["start", "limit", "delta"], ["y"])], [],
                       [info("y", TensorProto.INT64, ["n"])], values))


def gather_indices():
    # data dims 5x4x3x2, 2x2, 2x2x2, 4x4x4 and 1x5: "dim" is an index equal to the dim size.
    for index, name in [(T40, "2^40"), (-T40, "minus2^40"), (5, "dim"), (-6, "minus-dim-minus1"),
                        (INT64_MIN, "int64-min")]:
        yield f"gather-indices-{name}", freeze(load("test_gather_0"), indices=[index, 0, 1])
    for index, name in [(T40, "2^40"), (2, "dim"), (-3, "minus-dim-minus1")]:
        yield f"gatherelements-indices-{name}", freeze(load("test_gather_elements_0"), indices=[[index, 0], [0, 0]])
        yield f"gathernd-indices-{name}", freeze(load("test_gathernd_example_float32"),
                                                 indices=[[[index, 0]], [[0, 0]]])
    for index, name in [(T40, "2^40"), (4, "dim"), (-5, "minus-dim-minus1"), (INT64_MIN, "int64-min")]:
        yield f"scatternd-indices-{name}", freeze(load("test_scatternd"), indices=[[index], [0]])
    for index, name in [(T40, "2^40"), (5, "dim"), (-6, "minus-dim-minus1")]:
        yield f"scatterelements-indices-{name}", freeze(load("test_scatter_elements_with_axis"),
                                                       indices=[[index, 0]])
    for depth in (float(T40), 1e30, NAN, -1.0):
        yield f"onehot-depth-{label(depth)}", freeze(load("test_onehot_without_axis"), depth=depth)
    yield "onehot-indices-2^40", freeze(load("test_onehot_without_axis"), indices=[T40, -T40, INT64_MIN], depth=10)


def zero_dims():
    for source, name, dims in [
        ("test_basic_conv_with_padding", "x", [0, 1, 5, 5]), ("test_basic_conv_with_padding", "x", [1, 0, 5, 5]),
        ("test_basic_conv_with_padding", "x", [1, 1, 0, 5]), ("test_matmul_2d", "a", [0, 4]),
        ("test_maxpool_2d_default", "x", [1, 3, 0, 32]), ("test_maxpool_2d_default", "x", [0, 3, 32, 32]),
        ("test_averagepool_2d_default", "x", [1, 3, 0, 0]), ("test_softmax_axis_1", "x", [3, 0, 5]),
        ("test_softmax_axis_1", "x", [0, 4, 5]), ("test_argmax_keepdims_example", "data", [2, 0]),
        ("test_batchnorm_example", "x", [2, 3, 0, 5]), ("test_concat_2d_axis_0", "value0", [0, 2]),
        ("test_lrn", "x", [5, 0, 5, 5]), ("test_gemm_default_no_bias", "a", [0, 10]),
    ]:
        yield f"zero-dim-{short(source)}-{name}-{label(dims)}", set_shape(load(source), name, dims)
    yield "zero-dim-matmul-2d-k0", set_shape(set_shape(load("test_matmul_2d"), "a", [3, 0]), "b", [0, 3])
    yield ("zero-dim-reduce-sum-data-3x0x2",
           set_shape(freeze(load("test_reduce_sum_keepdims_random"), axes=[1]), "data", [3, 0, 2]))
    yield ("zero-dim-reduce-max-empty-set", freeze(load("test_reduce_max_empty_set"), axes=[1]))
    yield "zero-dim-layernorm-3x0", set_shape(set_shape(set_shape(
        load("test_layer_normalization_2d_axis1"), "X", [3, 0]), "W", [0]), "B", [0])
    yield "zero-dim-topk-3x0", set_shape(freeze(load("test_top_k"), k=[1]), "x", [3, 0])
    model = load("tiny-cnn.onnx")
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 0
    yield "zero-dim-tiny-cnn-batch", model
    model = load("tiny-cnn.onnx")
    initializer(model, "conv.weight").CopyFrom(
        numpy_helper.from_array(np.zeros((0, 3, 3, 3), np.float32), "conv.weight"))
    initializer(model, "conv.bias").CopyFrom(numpy_helper.from_array(np.zeros(0, np.float32), "conv.bias"))
    yield "zero-dim-tiny-cnn-conv-weight", model


def reshapes():
    # data is 2x3x4 (24 elements).
    for shape, name, allowzero in [
        ([-1, -1, 4], "two-minus1", 0), ([5, 5, 5], "product-mismatch", 0), ([-2, 12], "minus2", 0),
        ([T40, -1], "2^40-minus1", 0), ([T40, T40], "2^40x2^40", 0), ([T62, T62, T62], "2^62-cubed", 0),
        ([INT64_MIN, -1], "int64-min", 0), ([0, 0, 0, 0, 0], "zeros-past-rank", 0),
        ([0, 4, 6], "zero-allowzero", 1), ([0, -1], "zero-minus1-allowzero", 1), ([], "scalar", 0),
    ]:
        model = freeze(load("test_reshape_negative_dim"), shape=np.array(shape, np.int64))
        yield f"reshape-{name}", set_attrs(model, allowzero=allowzero) if allowzero else model
    # data is 0x3x4 (no element): -1 beside a kept 0 would divide 0 by 0.
    for shape, allowzero in [([-1, 0], 1), ([-1, 0], 0), ([0, -1], 1)]:
        model = freeze(load("test_reshape_allowzero_reordered"), shape=shape)
        yield f"reshape-empty-{label(shape)}-allowzero-{allowzero}", set_attrs(model, allowzero=allowzero)


def constant_of_shape():
    for shape in ([T40], [2**20, 2**20], [T62, T62, T62], [T62, 0], [-1], [INT64_MAX], [T31, T31]):
        yield f"constantofshape-{label(shape)}", freeze(load("test_constantofshape_float_ones"), x=shape)
    yield "constantofshape-int32-2^31", freeze(load("test_constantofshape_int_zeros"), x=[T31, 1])
    yield "constantofshape-3x2^30", freeze(load("test_constantofshape_float_ones"), x=[3, 2**30])  # 12 GiB
    # A value attribute that declares 2^40 elements but holds one.
    model = freeze(load("test_constantofshape_float_ones"), x=[4])
    value = model.graph.node[0].attribute[0].t
    value.ClearField("dims")
    value.dims.append(T40)
    yield "constantofshape-value-dims-2^40", model


def _field(number, payload):
    """A length-delimited protobuf field, for nesting deeper than the Python protobuf library allows."""
    def varint(n):
        out = bytearray()
        while n > 0x7F:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        return bytes(out + bytes([n]))
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def nested_if_bytes(depth):
    """If in If's then_branch, depth deep, as bytes (the protobuf library stops at 100 levels; ONNX needs 3 a level)."""
    def constant_graph(name, value):
        node = helper.make_node("Constant", [], [name], value=tensor(name, [value], np.float32))
        return helper.make_graph([node], name, [], [info(name, TensorProto.FLOAT, [1])])

    graph = constant_graph("leaf", 1.0).SerializeToString()
    for level in range(depth):
        out = f"out{level}"
        node = helper.make_node("If", ["cond"], [out], else_branch=constant_graph(f"else{level}", 2.0))
        then = AttributeProto(name="then_branch", type=AttributeProto.GRAPH).SerializeToString() + _field(6, graph)
        node_bytes = node.SerializeToString() + _field(5, then)  # NodeProto.attribute
        top = level == depth - 1
        wrapper = helper.make_graph([], "nested-if" if top else f"then{level}",
                                    [info("cond", TensorProto.BOOL, [])] if top else [],
                                    [info(out, TensorProto.FLOAT, [1])])
        graph = wrapper.SerializeToString() + _field(1, node_bytes)  # GraphProto.node
    model = onnx.ModelProto(ir_version=8, producer_name="hostile-models")
    model.opset_import.append(helper.make_opsetid("", 17))
    return model.SerializeToString() + _field(7, graph)  # ModelProto.graph


def nested_if():
    # The reader rejects nesting beyond 100 protobuf levels: depth 31 stays within, 32 goes past.
    for depth in (10, 31, 32, 50, 500, 5000):
        yield f"if-nested-{depth}", nested_if_bytes(depth)


def conv_attrs():
    for value in (0, -1, T40):
        for attr in ("kernel_shape", "strides", "dilations"):
            yield f"conv-{attr.replace('_', '')}-{label(value)}", set_attrs(load("test_conv_with_strides_padding"),
                                                                            **{attr: [value, value]})
        yield f"conv-pads-{label(value)}", set_attrs(load("test_conv_with_strides_padding"), pads=[value] * 4)
        yield f"maxpool-kernelshape-{label(value)}", set_attrs(load("test_maxpool_2d_default"),
                                                               kernel_shape=[value, value])
        yield f"convtranspose-strides-{label(value)}", set_attrs(load("test_convtranspose"), strides=[value, value])
    yield "conv-pads-minus100", set_attrs(load("test_conv_with_strides_padding"), pads=[-100] * 4)
    yield "maxpool-strides-0", set_attrs(load("test_maxpool_2d_default"), strides=[0, 0])
    yield "averagepool-pads-2^40", set_attrs(load("test_averagepool_2d_default"), pads=[T40] * 4)
    yield "convtranspose-output-padding-2^40", set_attrs(load("test_convtranspose"), output_padding=[T40, T40])
    yield "convtranspose-output-shape-2^40", set_attrs(load("test_convtranspose"), output_shape=[T40, T40])
    # tiny-cnn's Conv has 3 input and 4 output channels.
    for group in (0, 2, 4, -1, T40):
        yield f"conv-group-{label(group)}-tiny-cnn", set_attrs(load("tiny-cnn.onnx"), "Conv", group=group)


def matmul_huge():
    for a, b in [([T40, 4], [4, T40]), ([T31, T31], [T31, T31]), ([T62, 4], [4, 3])]:
        model = set_shape(set_shape(load("test_matmul_2d"), "a", a), "b", b)
        yield f"matmul-{label(a)}-by-{label(b)}", model
    yield "matmul-4d-batch-2^40", set_shape(set_shape(load("test_matmul_4d"), "a", [T40, T40, 3, 4]),
                                            "b", [1, 2, 4, 3])
    yield "gemm-2^40", set_shape(set_shape(load("test_gemm_default_no_bias"), "a", [T40, 10]), "b", [10, T40])
    model = freeze(load("test_matmul_2d"), b=np.ones((4, 3), np.float32))
    initializer(model, "b").dims[1] = T40
    yield "matmul-init-dims-4x2^40", model


def split_sizes():
    # input is [6], two outputs.
    for split, name in [([2, 5], "sum-over"), ([1, 1], "sum-under"), ([-1, 7], "negative"),
                        ([T40, 6 - T40], "2^40-and-back"), ([INT64_MAX, 7], "sum-overflows"),
                        ([1, 2, 3], "three-for-two-outputs")]:
        yield f"split-sizes-{name}", freeze(load("test_split_variable_parts_1d_opset13"), split=split)
    yield "split18-sizes-sum-over", freeze(load("test_split_variable_parts_1d_opset18"), split=[2, 5])
    for count in (0, -1, T40, 4):
        yield f"split18-num-outputs-{label(count)}", set_attrs(load("test_split_equal_parts_1d_opset18"),
                                                               num_outputs=count)


def topk():
    # x is 3x4, along axis 1.
    for k in (T40, -1, 5, INT64_MAX, INT64_MIN):
        yield f"topk-k-{label(k)}", freeze(load("test_top_k"), k=[k])


def nan_inf():
    for value in (NAN, INF, -INF):
        model = load("tiny-cnn.onnx")
        for t in model.graph.initializer:
            if t.data_type == TensorProto.FLOAT:
                t.CopyFrom(numpy_helper.from_array(np.full(tuple(t.dims), value, np.float32), t.name))
        yield f"weights-{label(value)}-tiny-cnn", model
    model = load("encoder.onnx")
    for t in model.graph.initializer:
        if t.data_type == TensorProto.FLOAT:
            t.CopyFrom(numpy_helper.from_array(np.full(tuple(t.dims), NAN, np.float32), t.name))
    yield "weights-nan-encoder", concrete(model)
    extremes = tensor("x", [NAN, INF, -INF, 1e30, -1e30, 3e9], np.float32)
    for to in (TensorProto.INT64, TensorProto.INT32, TensorProto.UINT8, TensorProto.BOOL, TensorProto.FLOAT16):
        name = helper.tensor_dtype_to_string(to).removeprefix("TensorProto.").lower()
        yield f"cast-nan-inf-to-{name}", scratch([helper.make_node("Cast", ["x"], ["y"], to=to)], [],
                                                 [info("y", to, [6])], [extremes])
    for scale in (0.0, NAN, INF, 1e-45):
        yield f"quantizelinear-scale-{label(scale)}", freeze(load("test_quantizelinear"), y_scale=scale)
    values = np.array([[NAN, 1, INF, -INF], [NAN, NAN, NAN, NAN], [0, -0.0, NAN, 1]], np.float32)
    yield "topk-nan-input", freeze(load("test_top_k"), x=values, k=[3])
    yield "argmax-nan-input", freeze(load("test_argmax_keepdims_example"), data=[[NAN, 1], [INF, NAN]])


def int64_extremes():
    """INT64_MIN and INT64_MAX in every int attribute of a node that wants a small int."""
    for source in ["test_concat_2d_axis_0", "test_softmax_axis_1", "test_gather_0", "test_flatten_axis1",
                   "test_transpose_all_permutations_0", "test_conv_with_strides_padding", "test_maxpool_2d_default",
                   "test_depthtospace_example", "test_eyelike_with_dtype", "test_cast_FLOAT_to_INT4", "test_lrn",
                   "test_gemm_all_attributes", "test_split_equal_parts_1d_opset18", "test_argmax_keepdims_example"]:
        model = load(source)
        for attr in model.graph.node[0].attribute:
            for value in (INT64_MIN, INT64_MAX):
                if attr.type == AttributeProto.INT:
                    new = value
                elif attr.type == AttributeProto.INTS:
                    new = [value] * len(attr.ints)
                else:
                    continue
                yield (f"{model.graph.node[0].op_type.lower()}-{attr.name.replace('_', '')}-{label(value)}",
                       set_attrs(load(source), **{attr.name: new}))
    slices = dict(starts=[0, 0], ends=[3, 10], axes=[0, 1])
    yield "slice-steps-int64-min", freeze(load("test_slice"), **slices, steps=[INT64_MIN, 1])
    yield "slice-starts-int64-max-step-minus1", freeze(load("test_slice"), starts=[INT64_MAX, 0],
                                                       ends=[INT64_MIN, 10], axes=[0, 1], steps=[-1, 1])


FAMILIES = [huge_dims, bad_axes, resize, loops, tile_pad, ranges, gather_indices, zero_dims, reshapes,
            constant_of_shape, nested_if, conv_attrs, matmul_huge, split_sizes, topk, nan_inf, int64_extremes]


def cases():
    """(name, serialized model) of every case, in a fixed order."""
    seen = {}
    for family in FAMILIES:
        for name, model in family():
            assert name not in seen, f"two cases named {name}"
            seen[name] = model if isinstance(model, bytes) else model.SerializeToString()
    return seen


# --- Running -----------------------------------------------------------------

COMMANDS = {
    "summary": lambda binary, case, temp: [binary, case, "--json"],
    "run": lambda binary, case, temp: [binary, "run", case, "-o", temp],
    "convert": lambda binary, case, temp: [binary, "convert", case, "-o", os.path.join(temp, "out.swm")],
    "check": lambda binary, case, temp: [binary, "check", case],
}


def limit_child():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash is reported here, not dumped


def verdict(status, stderr):
    """Why a run failed, or None when it passed."""
    if status == "timeout" or status.startswith("SIG"):
        return status
    if status == "exit 0":
        return None
    if status != "exit 1":
        return status
    text = stderr.removesuffix("\n")
    if not text.strip():
        return "exit 1 with nothing on stderr"
    if "\n" in text:
        return f"exit 1 with {text.count(chr(10)) + 1} lines on stderr"
    return None


def run_one(binary, case, path, command):
    with tempfile.TemporaryDirectory(prefix="hostile-") as temp:
        argv = COMMANDS[command](binary, str(path), temp)
        start = time.monotonic()
        process = subprocess.Popen(argv, cwd=temp, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, preexec_fn=limit_child, start_new_session=True)
        try:
            _, stderr = process.communicate(timeout=TIMEOUT)
            code = process.returncode
            status = f"exit {code}" if code >= 0 else signal.Signals(-code).name
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, stderr = process.communicate()
            status = "timeout"
        seconds = time.monotonic() - start
    stderr = stderr.decode("utf-8", "replace")
    return {"case": case, "command": command, "status": status, "seconds": round(seconds, 3),
            "stderr": stderr[:4000], "failure": verdict(status, stderr)}


def main():
    parser = argparse.ArgumentParser(description="Run modelinfo on hostile models.")
    parser.add_argument("--filter", default="", help="only the cases whose name contains this text")
    parser.add_argument("--list", action="store_true", help="list the case names and exit")
    parser.add_argument("--jobs", type=int, default=2, help="commands run at once (default: 2)")
    args = parser.parse_args()

    models = cases()
    selected = [name for name in models if args.filter in name]
    if args.list:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # for `--list | head`
        print("\n".join(selected))
        return
    binary = Path(os.environ.get("MODELINFO", ".build/release/modelinfo"))
    binary = str(binary if binary.is_absolute() else ROOT / binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"hostile-models: {binary} is not an executable; build it with Tools/build-release modelinfo")

    folder = OUT / "cases"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in models.items():
        (folder / f"{name}.onnx").write_bytes(data)

    start = time.monotonic()
    jobs = [(name, command) for name in selected for command in COMMANDS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda job: run_one(binary, job[0], folder / f"{job[0]}.onnx", job[1]), jobs))
    seconds = time.monotonic() - start

    failures = [r for r in results if r["failure"]]
    for r in failures:
        lines = [line for line in r["stderr"].splitlines() if line.strip()]
        # After a crash, also the innermost frame in the project's sources (Swift's backtrace names it).
        frame = next((line.strip() for line in lines if "/Sources/" in line), None)
        print(f"{r['case']}: {r['command']}: {r['failure']} ({r['seconds']:.1f} s)")
        for line in lines[:3] + ([f"… {frame}"] if frame and frame not in lines[:3] else []):
            print(f"    {line[:240]}")
    (OUT / "report.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"hostile-models: {len(selected)} cases × {len(COMMANDS)} commands = {len(results)} runs, "
          f"{len(failures)} failures, in {seconds:.0f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
