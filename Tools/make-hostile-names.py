"""Write a tiny ONNX model whose names are hostile to HTML, SVG and XML, for Tools/check-report.

Usage: .venv/bin/python Tools/make-hostile-names.py OUT.onnx

The model is Conv 3x3 (pad 1) → Relu → MatMul, opset 17: input float[1,3,8,8],
output float[1,4,8,5]. Its graph name, node names, value names and
initializer names carry markup that a report must show as text and never
interpret: a script element, an entity, both kinds of quotes, an SVG end tag
and a CDATA end. Each node name is short, so that a report can show it whole,
and has letters around its markup, so that a double escape (`&amp;amp;`) or a
missing one (`&`) shows as a different text. The names are listed in NAMES,
which Tools/check-report.py imports to look for them in the page.
"""

import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper

SCRIPT = "<script>alert(1)</script>"

# The name of each part of the model, keyed by its role.
NAMES = {
    "graph": f"graph{SCRIPT}&amp;\"quoted\"'single'</svg>]]>",
    "conv": f"conv{SCRIPT}",
    "relu": "relu&amp;\"quoted\"",
    "matmul": "matmul'single'</svg>]]>",
    "input": f"x{SCRIPT}",
    "conv_weight": "w&amp;</svg>",
    "conv_out": "conv_out\"quoted\"",
    "relu_out": "relu_out]]>",
    "matmul_weight": "b'single'",
    "output": f"y{SCRIPT}]]>",
}


def make_model():
    rng = np.random.default_rng(17)
    conv_weight = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3), dtype=np.float32), NAMES["conv_weight"])
    matmul_weight = numpy_helper.from_array(rng.standard_normal((8, 5), dtype=np.float32), NAMES["matmul_weight"])
    nodes = [
        helper.make_node("Conv", [NAMES["input"], NAMES["conv_weight"]], [NAMES["conv_out"]],
                         name=NAMES["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [NAMES["conv_out"]], [NAMES["relu_out"]], name=NAMES["relu"]),
        helper.make_node("MatMul", [NAMES["relu_out"], NAMES["matmul_weight"]], [NAMES["output"]],
                         name=NAMES["matmul"]),
    ]
    graph = helper.make_graph(
        nodes, NAMES["graph"],
        [helper.make_tensor_value_info(NAMES["input"], TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info(NAMES["output"], TensorProto.FLOAT, [1, 4, 8, 5])],
        initializer=[conv_weight, matmul_weight],
        value_info=[helper.make_tensor_value_info(NAMES["conv_out"], TensorProto.FLOAT, [1, 4, 8, 8]),
                    helper.make_tensor_value_info(NAMES["relu_out"], TensorProto.FLOAT, [1, 4, 8, 8])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="modelinfo-tools")
    # IR version 8 is the one opset 17 came with; onnx's default (the newest)
    # would say nothing more about these three nodes.
    model.ir_version = 8
    checker.check_model(model, full_check=True)
    return model


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    with open(sys.argv[1], "wb") as out:
        out.write(make_model().SerializeToString())


if __name__ == "__main__":
    main()
