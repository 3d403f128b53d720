"""Saves onnxruntime's value of every intermediate of MODEL into DIR, for
`modelinfo verify MODEL --intermediates DIR`: DIR/<name>.npy per value, where
every character of the name other than a letter, digit, '.', '-' or '_' is
written as '_', and the inputs it ran on in DIR/inputs/<name>.npy.

It works in chunks of values (--chunk, default 64): each chunk is one session
whose graph outputs are those values, so that no more than a chunk's values
are ever held. Graph optimisations are off, so each value is the plain
evaluation of its node. Values that are not tensors (sequences, optionals)
are skipped.

Inputs: --input NAME=FILE.npy, else seeded (Tools/testdata.py: uniform in
[-1, 1) for floats, [0, 1000) for integers, seed 0), named dimensions from
--symbol NAME=VALUE (default 1).

Usage: Tools/dump-intermediates MODEL DIR [--input NAME=FILE ...] [--symbol NAME=VALUE ...] [--chunk N]
"""

import argparse
import os
import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from testdata import seeded_feeds


def sanitized(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("folder")
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--symbol", action="append", default=[])
    parser.add_argument("--chunk", type=int, default=64)
    arguments = parser.parse_args()
    model_path = Path(arguments.model)
    folder = Path(arguments.folder)
    (folder / "inputs").mkdir(parents=True, exist_ok=True)

    # The graph alone: external data stays where it is, read by each session from the model's folder.
    model = onnx.load(model_path, load_external_data=False)
    given = {name: np.load(file) for name, file in (a.split("=", 1) for a in arguments.input)}
    symbols = {name: int(value) for name, value in (a.split("=", 1) for a in arguments.symbol)}
    feeds = seeded_feeds(model, symbols, given)
    for name, array in feeds.items():
        np.save(folder / "inputs" / (sanitized(name) + ".npy"), array)

    values = [name for node in model.graph.node for name in node.output if name]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    # Beside the model, so that its external data's relative paths resolve.
    chunk_path = model_path.parent / f".dump-intermediates-{os.getpid()}.onnx"
    saved = 0
    try:
        for start in range(0, len(values), arguments.chunk):
            names = values[start:start + arguments.chunk]
            del model.graph.output[:]
            model.graph.output.extend(onnx.ValueInfoProto(name=name) for name in names)
            onnx.save(model, chunk_path)
            session = ort.InferenceSession(str(chunk_path), options, providers=["CPUExecutionProvider"])
            for name, array in zip(names, session.run(names, feeds)):
                if isinstance(array, np.ndarray):
                    np.save(folder / (sanitized(name) + ".npy"), array)
                    saved += 1
            del session
    finally:
        chunk_path.unlink(missing_ok=True)
    print(f"{folder}: {saved} of {len(values)} values, {len(feeds)} inputs")


if __name__ == "__main__":
    main()
