"""Times onnxruntime alone on a model: two warm-up runs, then RUNS timed runs
on a seeded input; prints {"minMs", "medianMs"} as JSON.

Inputs are made as the engine's `bench` makes them: floats uniform in
[-1, 1), integers in [0, 10); an open dimension takes its value from
SYMBOLS (a JSON object of symbol → size) and is 1 otherwise.

Usage: .venv/bin/python Tools/bench-onnxruntime.py MODEL RUNS THREADS [SYMBOLS]
"""

import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64, "tensor(int32)": np.int32}


def main():
    path, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    symbols = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for value in session.get_inputs():
        shape = [d if isinstance(d, int) else symbols.get(d, 1) for d in value.shape]
        dtype = TYPES[value.type]
        if np.issubdtype(dtype, np.integer):
            feeds[value.name] = rng.integers(0, 10, size=shape).astype(dtype)
        else:
            feeds[value.name] = rng.uniform(-1, 1, size=shape).astype(dtype)
    for _ in range(2):
        session.run(None, feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"minMs": min(times), "medianMs": statistics.median(times)}))


if __name__ == "__main__":
    main()
