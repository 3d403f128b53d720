"""Generate the ONNX node conformance suite from the installed onnx package.

Usage: Tools/onnx-suite [OUTDIR]        (default OUTDIR: <repo>/.generated/onnx-node)

Every node test case that the pinned onnx wheel defines in
onnx.backend.test.case.node is written in the standard backend-test layout:

    OUTDIR/<case>/model.onnx
    OUTDIR/<case>/test_data_set_0/input_K.pb, output_K.pb

Values are serialized the way `python -m onnx.backend.test.cmd_tools
generate-data` does (TensorProto, or SequenceProto / MapProto / OptionalProto
for non-tensor graph inputs and outputs).

The test definitions run when their modules are imported, so the modules are
spread over worker processes (one per core). Each definition seeds numpy's
global generator itself, which makes the output deterministic.

A marker file OUTDIR/.complete naming every installed package and its version
is written last (the expected outputs depend on onnx's helpers such as
ml_dtypes, not only on onnx); when it is present and matches, the script does
nothing. Cases that fail to generate
are listed on stderr and the exit status is 1, the other cases are still written.
"""

import importlib
import importlib.metadata
import multiprocessing
import os
import pkgutil
import shutil
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = ".complete"
NODE_PACKAGE = "onnx.backend.test.case.node"
# onnx itself is imported only where needed, so that the up-to-date check stays fast.


def to_proto(value, value_info):
    """Serialize one test value the way onnx's generate-data tool does."""
    from onnx import TensorProto, numpy_helper

    kind = value_info.type.WhichOneof("value")
    if kind == "map_type":
        return numpy_helper.from_dict(value, value_info.name)
    if kind == "sequence_type":
        return numpy_helper.from_list(value, value_info.name)
    if kind == "optional_type":
        return numpy_helper.from_optional(value, value_info.name)
    if isinstance(value, TensorProto):
        return value
    return numpy_helper.from_array(value, value_info.name)


def write_case(case, outdir):
    case_dir = outdir / case.name
    case_dir.mkdir()
    (case_dir / "model.onnx").write_bytes(case.model.SerializeToString())
    graph = case.model.graph
    for i, (inputs, outputs) in enumerate(case.data_sets):
        data_dir = case_dir / f"test_data_set_{i}"
        data_dir.mkdir()
        for prefix, values, infos in (("input", inputs, graph.input), ("output", outputs, graph.output)):
            for k, value in enumerate(values):
                proto = to_proto(value, infos[k])
                (data_dir / f"{prefix}_{k}.pb").write_bytes(proto.SerializeToString())


def generate_module(job):
    """Import one test-definition module (which defines its cases) and write its cases.

    Returns (written case names, [(case or module name, error message)]).
    """
    module, outdir = job
    node = importlib.import_module(NODE_PACKAGE)
    before = len(node._NodeTestCases)  # where onnx's `expect` collects the cases
    try:
        importlib.import_module(module)
    except Exception as error:  # a definition that raises loses the rest of its module
        return [], [(module, f"{type(error).__name__}: {error}")]
    written, failures = [], []
    for case in node._NodeTestCases[before:]:
        try:
            write_case(case, outdir)
            written.append(case.name)
        except Exception as error:
            failures.append((case.name, f"{type(error).__name__}: {error}"))
    return written, failures


def definition_modules():
    import onnx

    node = importlib.import_module(NODE_PACKAGE)
    modules = []
    for info in pkgutil.walk_packages(node.__path__, NODE_PACKAGE + "."):
        if info.ispkg or (".ai_onnx_ml" in info.name and not onnx.ONNX_ML):
            continue
        modules.append(info.name)
    return modules


def init_worker():
    # The definitions compute references with numpy and trip over inf/nan on purpose.
    warnings.simplefilter("ignore")


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit(__doc__)
    outdir = Path(sys.argv[1]) if len(sys.argv) == 2 else ROOT / ".generated" / "onnx-node"
    packages = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    stamp = " ".join(packages) + "\n"
    marker = outdir / MARKER
    if marker.is_file() and marker.read_text().startswith(stamp):
        summary = marker.read_text().splitlines()
        print(f"{outdir}: up to date ({', '.join(summary)})")
        sys.exit(0 if summary[-1] == "0 failures" else 1)

    start = time.monotonic()
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)

    jobs = [(module, outdir) for module in definition_modules()]
    written, failures = 0, []
    with multiprocessing.get_context("fork").Pool(os.cpu_count(), init_worker) as pool:
        for names, errors in pool.imap_unordered(generate_module, jobs):
            written += len(names)
            failures += errors

    for name, error in sorted(failures):
        print(f"FAILED {name}: {error}", file=sys.stderr)
    marker.write_text(f"{stamp}{written} cases\n{len(failures)} failures\n")
    print(f"{outdir}: wrote {written} cases in {time.monotonic() - start:.1f} s"
          + (f", {len(failures)} FAILED" if failures else ""))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
