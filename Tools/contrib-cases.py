"""Writes small models of onnxruntime's contrib operators that its own tools
produce, with onnxruntime's outputs on seeded inputs, in the ONNX test-data
layout: OUTPUT_DIR/<case>/model.onnx and test_data_set_0/input_K.pb, output_K.pb.

- GroupQueryAttention nodes as onnxruntime-genai writes decoder layers: a
  prompt and a decoding step with a past cache and sequences of different
  lengths, Q/K/V packed or apart, rotary embedding (plain and interleaved),
  a local window with a softcap, and float16.
- A 2-layer MLP quantised by onnxruntime.quantization.quantize_dynamic
  (DynamicQuantizeLinear, MatMulInteger), and the same model after
  onnxruntime's graph optimiser fused it into DynamicQuantizeMatMul.

Usage: .venv/bin/python Tools/contrib-cases.py OUTPUT_DIR
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from testdata import write_case

FLOAT = TensorProto.FLOAT


def write(folder, model, feeds):
    """The case: the model and onnxruntime's outputs."""
    outputs = write_case(folder, model, feeds)
    print(f"{folder}: {[o.name for o in model.graph.output]} {[a.shape for a in outputs]}")


def gqa(folder, rng, batch, length, heads, kv_heads, head_size, past=0, lengths=None, packed=False, rotary=False,
        interleaved=False, window=-1, softcap=0.0, scale=0.0, dtype=np.float32):
    """One GroupQueryAttention node; LENGTHS are each sequence's total keys (default: past + length)."""
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    lengths = lengths or [past + length] * batch
    total = max(lengths) if past else length
    names, inputs, feeds = [], [], {}

    def feed(name, array, elem_type):
        names.append(name)
        inputs.append(helper.make_tensor_value_info(name, elem_type, list(array.shape)))
        feeds[name] = array

    def uniform(*shape):
        return rng.uniform(-1, 1, size=shape).astype(dtype)

    if packed:
        feed("qkv", uniform(batch, length, (heads + 2 * kv_heads) * head_size), elem)
        names += ["", ""]
    else:
        feed("query", uniform(batch, length, heads * head_size), elem)
        feed("key", uniform(batch, length, kv_heads * head_size), elem)
        feed("value", uniform(batch, length, kv_heads * head_size), elem)
    if past:
        feed("past_key", uniform(batch, kv_heads, past, head_size), elem)
        feed("past_value", uniform(batch, kv_heads, past, head_size), elem)
    else:
        names += ["", ""]
    feed("seqlens_k", np.array([n - 1 for n in lengths], dtype=np.int32), TensorProto.INT32)
    feed("total_sequence_length", np.array(total, dtype=np.int32), TensorProto.INT32)
    initializers = []
    if rotary:
        angles = np.outer(np.arange(32), 1.0 / 10000 ** (np.arange(0, head_size, 2) / head_size))
        initializers = [numpy_helper.from_array(np.cos(angles).astype(dtype), "cos_cache"),
                        numpy_helper.from_array(np.sin(angles).astype(dtype), "sin_cache")]
        names += ["cos_cache", "sin_cache"]
    attributes = dict(num_heads=heads, kv_num_heads=kv_heads, do_rotary=int(rotary), rotary_interleaved=int(interleaved),
                      local_window_size=window, softcap=softcap, scale=scale)
    node = helper.make_node("GroupQueryAttention", names, ["output", "present_key", "present_value"],
                            domain="com.microsoft", **attributes)
    outputs = [helper.make_tensor_value_info(n, elem, None) for n in ["output", "present_key", "present_value"]]
    graph = helper.make_graph([node], "gqa", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21), helper.make_opsetid("com.microsoft", 1)])
    write(folder, model, feeds)


def dynamic_mlp(folder, rng):
    """A float MLP, quantised by quantize_dynamic, then fused by onnxruntime's optimiser."""
    w1 = rng.normal(0, 0.2, size=(32, 64)).astype(np.float32)
    w2 = rng.normal(0, 0.2, size=(64, 10)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["y"])]
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", FLOAT, [4, 32])],
                              [helper.make_tensor_value_info("y", FLOAT, [4, 10])],
                              [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2"),
                               numpy_helper.from_array(rng.normal(0, 0.1, size=64).astype(np.float32), "b1")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    feeds = {"x": rng.uniform(-1, 1, size=(4, 32)).astype(np.float32)}
    with tempfile.TemporaryDirectory() as scratch:
        source, quantized, fused = (Path(scratch) / n for n in ["mlp.onnx", "mlp.quant.onnx", "mlp.fused.onnx"])
        onnx.save(model, source)
        for weights, suffix in [(QuantType.QInt8, "int8"), (QuantType.QUInt8, "uint8")]:
            quantize_dynamic(source, quantized, weight_type=weights, extra_options={"MatMulConstBOnly": True})
            write(folder / f"mlp_dynamic_{suffix}", onnx.load(quantized), feeds)
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            options.optimized_model_filepath = str(fused)
            ort.InferenceSession(str(quantized), options, providers=["CPUExecutionProvider"])
            optimized = onnx.load(fused)
            ops = {n.op_type for n in optimized.graph.node}
            assert "DynamicQuantizeMatMul" in ops or "MatMulIntegerToFloat" in ops, f"not fused: {ops}"
            write(folder / f"mlp_dynamic_{suffix}_fused", optimized, feeds)


def main():
    out = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    gqa(out / "gqa_prompt", rng, batch=2, length=5, heads=4, kv_heads=2, head_size=8)
    gqa(out / "gqa_prompt_packed_rotary", rng, batch=1, length=6, heads=4, kv_heads=1, head_size=16, packed=True, rotary=True)
    gqa(out / "gqa_decode", rng, batch=2, length=1, heads=6, kv_heads=2, head_size=8, past=7, lengths=[8, 4])
    gqa(out / "gqa_decode_rotary_interleaved", rng, batch=2, length=1, heads=4, kv_heads=2, head_size=16, past=5,
        lengths=[6, 3], rotary=True, interleaved=True)
    gqa(out / "gqa_window_softcap", rng, batch=1, length=7, heads=2, kv_heads=2, head_size=8, window=2, softcap=3.0, scale=0.5)
    gqa(out / "gqa_float16", rng, batch=1, length=4, heads=4, kv_heads=2, head_size=16, rotary=True, dtype=np.float16)
    dynamic_mlp(out, rng)


if __name__ == "__main__":
    main()
