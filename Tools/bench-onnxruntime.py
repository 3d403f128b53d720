"""Times onnxruntime alone on a model: two warm-up runs, then RUNS timed runs
on a seeded input; prints {"minMs", "medianMs"} as JSON.

Usage: .venv/bin/python Tools/bench-onnxruntime.py MODEL RUNS THREADS
"""

import json
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort


def main():
    path, runs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.uniform(-1, 1, size=[d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)
             for i in session.get_inputs()}
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
