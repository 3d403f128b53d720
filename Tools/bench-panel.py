"""Times the engine (`modelinfo bench`) and onnxruntime on the same files in one
run, alternating the two sides over several rounds, batch 1, 2 threads; prints
each model's best time on each side, their ratio, and the geometric mean of
the ratios, as a Markdown table.

Usage: .venv/bin/python Tools/bench-panel.py [--rounds N] [--runs N] [--write FILE] ENTRY ...
  where ENTRY is LABEL=PATH[:SYMBOL=N,...]. With --write, the table replaces
  the part of FILE between the lines "<!-- panel -->" and "<!-- /panel -->".
"""

import argparse
import json
import math
import subprocess
import sys


def engine(path, symbols, runs):
    command = [".build/release/modelinfo", "bench", path, "--runs", str(runs), "--warmup", "1", "--threads", "2", "--json"]
    for name, value in symbols.items():
        command += ["--symbol", f"{name}={value}"]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)["minMs"]


def onnxruntime(path, symbols, runs):
    command = [sys.executable, "Tools/bench-onnxruntime.py", path, str(runs), "2", json.dumps(symbols)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)["minMs"]


def parse(entry):
    label, rest = entry.split("=", 1)
    path, _, settings = rest.partition(":")
    symbols = {k: int(v) for k, v in (s.split("=") for s in settings.split(",") if s)}
    return label, path, symbols


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write")
    parser.add_argument("entries", nargs="+")
    arguments = parser.parse_args()
    rows, ratios = [], []
    for entry in arguments.entries:
        label, path, symbols = parse(entry)
        ours, theirs = math.inf, math.inf
        for _ in range(arguments.rounds):
            ours = min(ours, engine(path, symbols, arguments.runs))
            theirs = min(theirs, onnxruntime(path, symbols, arguments.runs))
        ratios.append(ours / theirs)
        rows.append(f"| {label} | {ours:.1f} ms | {theirs:.1f} ms | {ours / theirs:.2f}× |")
        print(rows[-1], flush=True)
    mean = math.exp(sum(map(math.log, ratios)) / len(ratios))
    table = "\n".join(["| model | engine | onnxruntime | ratio |", "|---|---:|---:|---:|", *rows,
                       f"| **geometric mean** | | | **{mean:.2f}×** |"])
    print(f"geometric mean {mean:.2f}×")
    if arguments.write:
        with open(arguments.write) as file:
            text = file.read()
        start, end = text.index("<!-- panel -->\n") + len("<!-- panel -->\n"), text.index("<!-- /panel -->")
        with open(arguments.write, "w") as file:
            file.write(text[:start] + table + "\n" + text[end:])


if __name__ == "__main__":
    main()
