"""Writes the ONNX test-data layout that `modelinfo verify` and the engine's
tests read: FOLDER/test_data_set_0/input_K.pb and output_K.pb, as
serialized TensorProtos named after the model's inputs and outputs.
Shared by the scripts under Tools/ that make reference outputs."""

from onnx import numpy_helper


def write_test_data(folder, feeds, outputs):
    """FEEDS: input name → array, in the model's order; OUTPUTS: (name, array) pairs in the model's order."""
    data = folder / "test_data_set_0"
    data.mkdir(parents=True, exist_ok=True)
    for k, (name, array) in enumerate(feeds.items()):
        (data / f"input_{k}.pb").write_bytes(numpy_helper.from_array(array, name).SerializeToString())
    for k, (name, array) in enumerate(outputs):
        (data / f"output_{k}.pb").write_bytes(numpy_helper.from_array(array, name).SerializeToString())
