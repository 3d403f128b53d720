"""Write a VGG-16 ONNX model with random weights (≈ 553 MB), for the loading benchmark.

Usage: Tools/make-vgg16-onnx OUT.onnx

The layout is torchvision's VGG-16 without dropout: 13 Conv 3x3 (pad 1, with
bias) each followed by Relu, a MaxPool 2x2 after each of the 5 blocks,
Flatten, and Gemm 25088→4096→4096→1000 (transB=1, with bias) with Relu between.
Input `input` float[1,3,224,224], output `output` float[1,1000], opset 17,
138,357,544 float32 parameters drawn from numpy's generator with a fixed seed.

Each weight is stored in its initializer's raw_data. To keep memory low the
file is streamed instead of going through onnx.save: the graph's other fields
are serialized with onnx, and each initializer's header and raw bytes are
written directly, with the weights generated a slab at a time. The bytes are
laid out in the order onnx.save would use.
"""

import math
import sys
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
CLASSIFIER = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
SEED = 16
SLAB_BYTES = 32 << 20

# Protobuf field numbers (onnx.proto) and wire types.
MODEL_GRAPH, GRAPH_INITIALIZER, TENSOR_RAW_DATA = 7, 5, 9
LENGTH_DELIMITED = 2


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def key(field):
    return varint(field << 3 | LENGTH_DELIMITED)


def split_fields(message, number):
    """The serialized fields of `message` numbered below `number`, and those above it."""
    parts = []
    for keep in (lambda n: n < number, lambda n: n > number):
        part = type(message)()
        part.CopyFrom(message)
        for field, _ in message.ListFields():
            if not keep(field.number):
                part.ClearField(field.name)
        parts.append(part.SerializeToString())
    return parts


def layers():
    """Nodes and (name, shape, fan_in) of the weights, in graph order."""
    nodes, weights = [], []
    x, channels = "input", 3
    for b, widths in enumerate(BLOCKS, 1):
        for c, width in enumerate(widths, 1):
            name = f"conv{b}_{c}"
            weights += [(f"{name}.weight", [width, channels, 3, 3], channels * 9), (f"{name}.bias", [width], channels * 9)]
            nodes.append(helper.make_node("Conv", [x, f"{name}.weight", f"{name}.bias"], [name], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
            nodes.append(helper.make_node("Relu", [name], [f"{name}.relu"]))
            x, channels = f"{name}.relu", width
        nodes.append(helper.make_node("MaxPool", [x], [f"pool{b}"], kernel_shape=[2, 2], strides=[2, 2]))
        x = f"pool{b}"
    nodes.append(helper.make_node("Flatten", [x], ["flatten"], axis=1))
    x = "flatten"
    for i, (inputs, outputs) in enumerate(CLASSIFIER, 1):
        name = f"fc{i}"
        weights += [(f"{name}.weight", [outputs, inputs], inputs), (f"{name}.bias", [outputs], inputs)]
        last = i == len(CLASSIFIER)
        nodes.append(helper.make_node("Gemm", [x, f"{name}.weight", f"{name}.bias"], ["output" if last else name], transB=1))
        if not last:
            nodes.append(helper.make_node("Relu", [name], [f"{name}.relu"]))
            x = f"{name}.relu"
    return nodes, weights


def write_weight(out, rng, shape, fan_in):
    """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) float32 values, a slab at a time."""
    bound = np.float32(1 / math.sqrt(fan_in))
    count = math.prod(shape)
    slab = SLAB_BYTES // 4
    for start in range(0, count, slab):
        values = rng.random(min(slab, count - start), dtype=np.float32)
        values *= 2 * bound
        values -= bound
        out.write(values.tobytes())


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    nodes, weights = layers()
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "vgg16",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 1000])],
        ),
        ir_version=helper.find_min_ir_version_for([helper.make_opsetid("", 17)]),
        opset_imports=[helper.make_opsetid("", 17)],
        producer_name="modelinfo-bench",
    )
    model_head, model_tail = split_fields(model, MODEL_GRAPH)
    graph_head, graph_tail = split_fields(model.graph, GRAPH_INITIALIZER)

    tensors = []  # (TensorProto bytes without raw_data, raw_data length, shape, fan_in)
    for name, shape, fan_in in weights:
        header = TensorProto(name=name, dims=shape, data_type=TensorProto.FLOAT).SerializeToString()
        tensors.append((header, 4 * math.prod(shape), shape, fan_in))

    def tensor_size(header, nbytes):
        return len(header) + len(key(TENSOR_RAW_DATA)) + len(varint(nbytes)) + nbytes

    graph_size = len(graph_head) + len(graph_tail) + sum(
        len(key(GRAPH_INITIALIZER)) + len(varint(size)) + size
        for size in (tensor_size(header, nbytes) for header, nbytes, _, _ in tensors)
    )
    rng = np.random.default_rng(SEED)
    Path(sys.argv[1]).parent.mkdir(parents=True, exist_ok=True)
    with open(sys.argv[1], "wb") as out:
        out.write(model_head + key(MODEL_GRAPH) + varint(graph_size) + graph_head)
        for header, nbytes, shape, fan_in in tensors:
            out.write(key(GRAPH_INITIALIZER) + varint(tensor_size(header, nbytes)) + header)
            out.write(key(TENSOR_RAW_DATA) + varint(nbytes))
            write_weight(out, rng, shape, fan_in)
        out.write(graph_tail + model_tail)
    parameters = sum(math.prod(shape) for _, _, shape, _ in tensors)
    print(f"{sys.argv[1]}: VGG-16, {parameters:,} parameters, {Path(sys.argv[1]).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
