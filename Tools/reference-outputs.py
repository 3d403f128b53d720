"""Runs onnxruntime on FOLDER/model.onnx with a seeded input and writes the
ONNX test-data layout next to it: FOLDER/test_data_set_0/input_K.pb and
output_K.pb. The input is uniform in [-1, 1) from numpy's generator seeded
with 0; onnxruntime runs with graph optimisations off, so the reference is
the plain evaluation of the graph.

Usage: .venv/bin/python Tools/reference-outputs.py FOLDER
"""

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from testdata import write_test_data


def main():
    folder = Path(sys.argv[1])
    model = onnx.load(folder / "model.onnx", load_external_data=False)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    initializers = {t.name for t in model.graph.initializer}
    feeds = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = [d.dim_value or 1 for d in value.type.tensor_type.shape.dim]
        feeds[value.name] = rng.uniform(-1, 1, size=dims).astype(np.float32)
    outputs = session.run(None, feeds)
    write_test_data(folder, feeds, [(value.name, array) for value, array in zip(session.get_outputs(), outputs)])
    print(f"{folder}: reference outputs {[a.shape for a in outputs]}")


if __name__ == "__main__":
    main()
