"""Loading benchmark: `modelinfo MODEL` against Python's onnx.load(MODEL).

Usage: Tools/bench-load [MODEL]

Without MODEL, a VGG-16 with random weights (≈ 553 MB) is built once with
Tools/make-vgg16-onnx into <repo>/.generated/vgg16.onnx and reused afterwards.

The modelinfo binary is <repo>/.build/release/modelinfo; it is built with
`swift build -c release --product modelinfo` when missing. Setting the
environment variable MODELINFO to a command (split like a shell would) runs
that command instead, e.g. MODELINFO=cat to try the script without the binary.

After one untimed read of MODEL (so the page cache is warm), each command runs
5 times as a fresh process under /usr/bin/time (Debian package `time`): the
table shows the median wall time (measured around /usr/bin/time, about 1 ms
more than the command alone) and the largest peak RSS (GNU time's %M). For
Python it also shows the time of the onnx.load call alone, without interpreter
start-up and `import onnx`.
The last line checks the bar for modelinfo (64 MB meaning 64 MiB); the exit
status is 1 when it fails.
"""

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
TIME = "/usr/bin/time"  # GNU time: reports the peak RSS of exactly the command it runs
BAR_SECONDS, BAR_MIB = 0.25, 64
PYTHON_LOAD = "import sys, time, onnx; t = time.perf_counter(); onnx.load(sys.argv[1]); print(time.perf_counter() - t)"


def default_model():
    model = ROOT / ".generated" / "vgg16.onnx"
    if not model.exists():
        model.parent.mkdir(exist_ok=True)
        partial = model.with_name(model.name + ".partial")
        subprocess.run([ROOT / "Tools" / "make-vgg16-onnx", partial], check=True)
        partial.replace(model)
    return model


def modelinfo_command():
    if "MODELINFO" in os.environ:
        return shlex.split(os.environ["MODELINFO"])
    binary = ROOT / ".build" / "release" / "modelinfo"
    if not binary.exists():
        print(f"{binary} missing; building it", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "modelinfo"], cwd=ROOT, check=True)
    return [str(binary)]


def run_once(argv, stdout):
    """Run argv once as a fresh process; return (wall seconds, peak RSS in MiB, stdout)."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        result = subprocess.run([TIME, "-f", "%M", "-o", report.name, *argv], stdout=stdout)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"error: {shlex.join(argv)} exited with status {result.returncode}")
        return wall, int(report.read()) / 1024, result.stdout


def measure(argv, stdout=subprocess.DEVNULL):
    """Median wall time, largest peak RSS, and the stdout of each run (with stdout=subprocess.PIPE)."""
    walls, peaks, outputs = zip(*(run_once(argv, stdout) for _ in range(RUNS)), strict=True)
    return statistics.median(walls), max(peaks), outputs


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit(__doc__)
    if not os.access(TIME, os.X_OK):
        sys.exit(f"error: {TIME} missing (Debian package `time`)")
    model = Path(sys.argv[1]) if len(sys.argv) == 2 else default_model()
    modelinfo = modelinfo_command()
    with open(model, "rb") as warm_up:
        while warm_up.read(16 << 20):
            pass

    info_wall, info_peak, _ = measure([*modelinfo, str(model)])
    py_wall, py_peak, outputs = measure([sys.executable, "-c", PYTHON_LOAD, str(model)], subprocess.PIPE)
    load_wall = statistics.median(float(text) for text in outputs)

    print(f"model: {model} ({model.stat().st_size / 1e6:.1f} MB), {RUNS} runs each, warm page cache")
    print(f"{'':34} {'wall (median)':>14} {'peak RSS':>12}")
    label = shlex.join([Path(modelinfo[0]).name, *modelinfo[1:], "MODEL"])
    print(f"{label:34} {info_wall:12.3f} s {info_peak:8.1f} MiB")
    print(f"{'python -c onnx.load(MODEL)':34} {py_wall:12.3f} s {py_peak:8.1f} MiB")
    print(f"{'  onnx.load() call alone':34} {load_wall:12.3f} s")
    print(f"{'python / modelinfo':34} {py_wall / info_wall:12.1f} x {py_peak / info_peak:8.1f} x"
          f"   (onnx.load() alone: {load_wall / info_wall:.1f} x)")
    passed = info_wall <= BAR_SECONDS and info_peak <= BAR_MIB
    print(f"bar: modelinfo <= {BAR_SECONDS} s and <= {BAR_MIB} MB: {'PASS' if passed else 'FAIL'}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
