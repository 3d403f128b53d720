"""(Re)write the tensor-file fixtures under <repo>/Fixtures/tensors/.

Usage: Tools/make-tensor-fixtures

Every .npy and .npz is written by numpy itself (np.save, np.savez,
np.savez_compressed, np.lib.format.write_array for the 2.0 and 3.0 headers)
and tensor.pb by onnx's numpy_helper, so the tests read what the reference
implementations write. tensors.json is the oracle: one object per tensor, in
file order (archive order inside an .npz), with `file`, `name` (an .npy is
named after its file), `dtype` (the ONNX element type name modelinfo prints),
`dims` and `values` flattened in C order. Floats are exact float64 values,
NaN and infinities the strings "nan", "inf", "-inf"; integers exact; bool
0/1; complex [re, im]; strings JSON strings (`S` arrays are ASCII here).

The folder is deleted and rewritten; the values are fixed and numpy writes
.npz members with a fixed timestamp, so running the script twice gives
identical bytes.
"""

import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Fixtures" / "tensors"

# numpy dtype -> the ONNX element type name that modelinfo uses.
ONNX_NAMES = {
    "bool": "bool", "int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16",
    "int32": "int32", "uint32": "uint32", "int64": "int64", "uint64": "uint64",
    "float16": "float16", "float32": "float32", "float64": "float64",
    "complex64": "complex64", "complex128": "complex128",
}

SPECIAL_FLOATS = [1.5, -2.25, 0.0, -0.0, float("nan"), float("inf"), float("-inf")]


def integers(dtype):
    info = np.iinfo(dtype)
    return np.array([info.min, -1 if info.min < 0 else 1, 0, 7, info.max], dtype=dtype)


def arrays_by_dtype():
    """One small array per numpy dtype that maps to an ONNX type."""
    result = {
        "bool": np.array([[True, False, True], [False, False, True]]),
        "float16": np.array(SPECIAL_FLOATS + [65504.0, 2.0 ** -24], dtype=np.float16),
        "float32": np.array(SPECIAL_FLOATS + [3.4028234663852886e38, 1.401298464324817e-45, 0.1],
                            dtype=np.float32).reshape(2, 5),
        "float64": np.array(SPECIAL_FLOATS + [1.7976931348623157e308, 5e-324, 0.1], dtype=np.float64),
        "complex64": np.array([1 + 2j, -0.5 - 0.25j, complex(float("nan"), float("inf"))], dtype=np.complex64),
        "complex128": np.array([[1 + 2j, 0.1 - 3e300j]], dtype=np.complex128),
    }
    for name in ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]:
        result[name] = integers(name)
    return result


def element(value, kind):
    if kind == "c":
        return [element(value.real, "f"), element(value.imag, "f")]
    if kind == "f":
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if kind == "b":
        return int(bool(value))
    if kind in "iu":
        return int(value)
    if kind == "U":
        return str(value)
    if kind == "S":
        return bytes(value).decode("ascii")
    raise ValueError(kind)


def oracle_entry(file, name, array):
    kind = array.dtype.kind
    dtype = "string" if kind in "US" else ONNX_NAMES[array.dtype.newbyteorder("<").name]
    values = [element(v, kind) for v in np.ravel(array, order="C")]
    return {"file": file, "name": name, "dtype": dtype, "dims": list(array.shape), "values": values}


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    oracle = []

    def save(file, array, version=None):
        with open(OUT / file, "wb") as handle:
            np.lib.format.write_array(handle, array, version=version)
        assert np.array_equal(np.load(OUT / file), array, equal_nan=array.dtype.kind in "fc")
        oracle.append(oracle_entry(file, file.removesuffix(".npy"), array))

    for name, array in arrays_by_dtype().items():
        save(f"{name}.npy", array)
    save("scalar.npy", np.array(3.25))
    save("empty.npy", np.zeros((0, 3), dtype=np.float32))
    save("header-v2.npy", np.arange(6, dtype=np.int16).reshape(3, 2), version=(2, 0))
    save("header-v3.npy", np.array(["v3", "ü"]), version=(3, 0))
    save("fortran.npy", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
    save("big-endian.npy", np.array([[1.5, -2.0], [1e300, float("nan")]], dtype=">f8"))
    save("big-endian-fortran.npy", np.asfortranarray(np.arange(-3, 3, dtype=">i2").reshape(2, 3)))
    save("big-endian-complex.npy", np.array([1 - 1j, 0.5j], dtype=">c8"))
    save("strings.npy", np.array([["", "a", "héllo"], ["日本", "🙂", "a\x00b"]]))
    save("bytes.npy", np.array([b"", b"ab", b"x\x00y"]))
    save("fortran-strings.npy", np.asfortranarray(np.array([["a", "bb", "c"], ["dd", "", "ü"]])))
    save("big-endian-strings.npy", np.array(["ab", "ü", "🙂"], dtype=">U2"))

    archive = {
        "weights": np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3),
        "labels": np.array([3, 1, 4], dtype=np.int64),
        "flag": np.array(True),
        "names": np.array(["cat", "dog"]),
        "empty": np.zeros((2, 0), dtype=np.float64),
    }
    for file, save_archive in [("stored.npz", np.savez), ("compressed.npz", np.savez_compressed)]:
        save_archive(OUT / file, **archive)
        with np.load(OUT / file) as loaded:
            assert list(loaded.keys()) == list(archive)
        oracle += [oracle_entry(file, name, array) for name, array in archive.items()]
    np.savez(OUT / "empty.npz")

    proto = numpy_helper.from_array(np.array([[0.5, -1.0], [2.0, 1e-3]], dtype=np.float32), name="weights")
    (OUT / "tensor.pb").write_bytes(proto.SerializeToString())
    oracle.append(oracle_entry("tensor.pb", "weights", numpy_helper.to_array(proto)))

    with open(OUT / "tensors.json", "w", encoding="utf-8") as handle:
        handle.write("[\n" + ",\n".join(json.dumps(entry, ensure_ascii=False) for entry in oracle) + "\n]\n")
    total = sum(path.stat().st_size for path in OUT.iterdir())
    assert total < 50_000, f"fixtures take {total} bytes"
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
