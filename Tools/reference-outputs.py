"""Runs onnxruntime on FOLDER/model.onnx with a seeded input and writes the
ONNX test-data layout next to it: FOLDER/test_data_set_0/input_K.pb and
output_K.pb. Float inputs are uniform in [-1, 1) and integer inputs (token
ids) uniform in [0, 1000), from numpy's generator seeded with 0; a named
dimension takes the value given for it (a language model's batch, seq and
past), else 1. onnxruntime runs with graph optimisations off, so the
reference is the plain evaluation of the graph.

Usage: .venv/bin/python Tools/reference-outputs.py FOLDER [NAME=VALUE ...]
"""

import sys
from pathlib import Path

import onnx
import onnxruntime as ort

from testdata import seeded_feeds, write_test_data


def main():
    folder = Path(sys.argv[1])
    symbols = {name: int(value) for name, value in (a.split("=", 1) for a in sys.argv[2:])}
    model = onnx.load(folder / "model.onnx", load_external_data=False)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    feeds = seeded_feeds(model, symbols)
    outputs = session.run(None, feeds)
    write_test_data(folder, feeds, [(value.name, array) for value, array in zip(session.get_outputs(), outputs)])
    print(f"{folder}: reference outputs {[a.shape for a in outputs]}")


if __name__ == "__main__":
    main()
