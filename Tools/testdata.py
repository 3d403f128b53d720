"""Writes the ONNX test-data layout that `modelinfo verify` and the engine's
tests read: FOLDER/model.onnx beside FOLDER/test_data_set_0/input_K.pb and
output_K.pb, serialized TensorProtos named after the model's inputs and
outputs. Shared by the scripts under Tools/ that make reference outputs."""

import numpy as np
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


def seeded_feeds(model, symbols, given=None):
    """Inputs for MODEL's graph inputs that are not initializers: GIVEN's arrays
    where named, else float inputs uniform in [-1, 1) and integer inputs (token
    ids) uniform in [0, 1000) from numpy's generator seeded with 0; a named
    dimension takes its value from SYMBOLS, else 1."""
    rng = np.random.default_rng(0)
    initializers = {t.name for t in model.graph.initializer}
    feeds = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        if given and value.name in given:
            feeds[value.name] = given[value.name]
            continue
        dims = [d.dim_value if d.HasField("dim_value") else symbols.get(d.dim_param, 1)
                for d in value.type.tensor_type.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)
        if np.issubdtype(dtype, np.integer):
            feeds[value.name] = rng.integers(0, 1000, size=dims).astype(dtype)
        else:
            feeds[value.name] = rng.uniform(-1, 1, size=dims).astype(dtype)
    return feeds
