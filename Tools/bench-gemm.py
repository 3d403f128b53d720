"""The Python half of Tools/bench-gemm (run it through that script).

Times CKernels' ck_sgemm_with_kernel for every available variant and numpy's
matmul on convolution-shaped and square products. Each timed run repeats one
call for a CPU-time budget; contenders alternate run by run and the best of
five runs counts, so that other processes on the shared cores distort the
comparison as little as possible. Thread CPU time, not wall time, is used
for the same reason.
"""
import ctypes
import glob
import os
import sys
import time

import numpy as np

# Convolutions at batch 1 as [out channels] × [pixels] × [in channels·kh·kw],
# fully connected layers, and squares: (label, transA, transB, M, N, K).
SHAPES = [
    ("resnet50 conv1 7x7/2", 0, 0, 64, 12544, 147),
    ("resnet50 2.x 1x1 64>64", 0, 0, 64, 3136, 64),
    ("resnet50 2.x 3x3 64", 0, 0, 64, 3136, 576),
    ("resnet50 2.x 1x1 64>256", 0, 0, 256, 3136, 64),
    ("resnet50 2.x 1x1 256>64", 0, 0, 64, 3136, 256),
    ("resnet50 3.x 3x3 128", 0, 0, 128, 784, 1152),
    ("resnet50 4.x 3x3 256", 0, 0, 256, 196, 2304),
    ("resnet50 4.x 1x1 256>1024", 0, 0, 1024, 196, 256),
    ("resnet50 5.x 3x3 512", 0, 0, 512, 49, 4608),
    ("resnet50 5.x 1x1 2048>512", 0, 0, 512, 49, 2048),
    ("vgg16 conv1_1", 0, 0, 64, 50176, 27),
    ("vgg16 conv1_2", 0, 0, 64, 50176, 576),
    ("vgg16 conv2_2", 0, 0, 128, 12544, 1152),
    ("vgg16 conv3_2", 0, 0, 256, 3136, 2304),
    ("vgg16 conv4_2", 0, 0, 512, 784, 4608),
    ("vgg16 conv5_2", 0, 0, 512, 196, 4608),
    ("fc 2048>1000, Gemm transB", 0, 1, 1, 1000, 2048),
    ("fc batch 8, Gemm transB", 0, 1, 8, 1000, 2048),
    ("square 256", 0, 0, 256, 256, 256),
    ("square 512", 0, 0, 512, 512, 512),
    ("square 1024", 0, 0, 1024, 1024, 1024),
    ("square 1024 transA transB", 1, 1, 1024, 1024, 1024),
]
VARIANTS = ["portable", "avx2", "avx512"]


def openblas_core():
    """The core type numpy's OpenBLAS chose, through OpenBLAS's own C API
    (threadpoolctl is not installed in the venv)."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "libscipy_openblas*.so")
    for path in glob.glob(libs):
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_corename64_", "openblas_get_corename"):
            if hasattr(lib, symbol):
                function = getattr(lib, symbol)
                function.restype = ctypes.c_char_p
                return function().decode()
    return "unknown"


def timed_run(call, flops, budget):
    """A function that repeats `call` for `budget` CPU seconds and returns GFLOP/s."""
    def run():
        calls, start = 0, time.thread_time()
        while True:
            call()
            calls += 1
            elapsed = time.thread_time() - start
            if elapsed >= budget:
                return flops * calls / elapsed / 1e9
    return run


def main():
    library_path, budget = sys.argv[1], float(sys.argv[2])
    ck = ctypes.CDLL(library_path)
    size, pointer, f32 = ctypes.c_size_t, ctypes.c_void_p, ctypes.c_float
    ck.ck_sgemm_with_kernel.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, size, size, size,
                                        f32, pointer, size, pointer, size, f32, pointer, size,
                                        pointer, ctypes.c_int, f32, f32]
    ck.ck_sgemm_with_kernel.restype = None
    variants = [(index, name) for index, name in enumerate(VARIANTS) if ck.ck_kernel_available(index)]

    print(f"numpy {np.__version__}, OpenBLAS core {openblas_core()}, 1 thread")
    print("GFLOP/s per thread CPU second, best of 5 alternating runs")
    print(f"{'shape':27} {'M':>5} {'N':>6} {'K':>5}" + "".join(f" {name:>8}" for _, name in variants)
          + f" {'numpy':>8} {'best/numpy':>10}")
    rng = np.random.default_rng(1)
    for label, trans_a, trans_b, m, n, k in SHAPES:
        a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
        flops = 2.0 * m * n * k

        def ours(kernel):
            args = (kernel, trans_a, trans_b, m, n, k, 1.0, a.ctypes.data, a.shape[1], b.ctypes.data,
                    b.shape[1], 0.0, c.ctypes.data, n, None, 0, 0.0, 0.0)
            return lambda: ck.ck_sgemm_with_kernel(*args)

        contenders = [timed_run(ours(index), flops, budget) for index, _ in variants]
        contenders.append(timed_run(lambda: np.matmul(op_a, op_b, out=c), flops, budget))
        rates = [0.0] * len(contenders)
        for _ in range(5):
            for index, run in enumerate(contenders):
                rates[index] = max(rates[index], run())
        print(f"{label:27} {m:5} {n:6} {k:5}" + "".join(f" {rate:8.1f}" for rate in rates)
              + f" {max(rates[:-1]) / rates[-1]:10.2f}", flush=True)


main()
