"""Writes the ONNX test-data layout that `modelinfo verify` and the engine's
tests read: FOLDER/model.onnx beside FOLDER/test_data_set_0/input_K.pb and
output_K.pb, serialized TensorProtos named after the model's inputs and
outputs. Shared by the scripts under Tools/ that make reference outputs."""

import onnx
import onnxruntime as ort
from onnx import numpy_helper


def write_test_data(folder, feeds, outputs):
    """FEEDS: input name → array, in the model's order; OUTPUTS: (name, array) pairs in the model's order."""
    data = folder / "test_data_set_0"
    data.mkdir(parents=True, exist_ok=True)
    for k, (name, array) in enumerate(feeds.items()):
        (data / f"input_{k}.pb").write_bytes(numpy_helper.from_array(array, name).SerializeToString())
    for k, (name, array) in enumerate(outputs):
        (data / f"output_{k}.pb").write_bytes(numpy_helper.from_array(array, name).SerializeToString())


def write_case(folder, model, feeds):
    """Saves MODEL as FOLDER/model.onnx with onnxruntime's outputs on FEEDS (graph
    optimisations off, so the reference is the plain evaluation); returns the outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, folder / "model.onnx")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
    feeds = {value.name: feeds[value.name] for value in session.get_inputs()}
    outputs = session.run(None, feeds)
    write_test_data(folder, feeds, [(value.name, array) for value, array in zip(session.get_outputs(), outputs)])
    return outputs
