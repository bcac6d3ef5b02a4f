"""Builds the PyTorch test fixtures without torch. Run `python3 make_fixtures.py` in this directory
(Python 3 + numpy); it rewrites the *.pt files and expected.json, byte-identically on every run.

torch.save's zip format is a pickle (<prefix>/data.pkl) naming torch globals, plus one raw little-endian
file per storage (<prefix>/data/<key>) and <prefix>/byteorder. The stand-in classes and functions below are
registered under the real module names (torch, torch._utils), so the standard pickle module writes exactly
the GLOBAL / STACK_GLOBAL opcodes a real torch.save writes (torch.FloatStorage, torch._utils._rebuild_tensor_v2,
torch._utils._rebuild_parameter, collections.OrderedDict). Tensor values are recorded in expected.json
(per file: name -> shape, dtype, row-major values) for PyTorchReaderTest.

Malicious files: they name os.system / posix.system / builtins.eval the way poisoned checkpoints do. They are
only written here, never loaded by anything.
"""
import collections
import io
import json
import os
import pickle
import sys
import tarfile
import types
import zipfile

import numpy as np

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils
torch._utils = torch_utils

STORAGE_OF = {"float32": "FloatStorage", "float16": "HalfStorage", "float64": "DoubleStorage", "int64": "LongStorage",
              "int32": "IntStorage", "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage",
              "bool": "BoolStorage", "bfloat16": "BFloat16Storage"}
for cls_name in STORAGE_OF.values():
    cls = type(cls_name, (), {})
    cls.__module__ = "torch"
    setattr(torch, cls_name, cls)


def _stand_in(name, module):
    def f(*args):
        raise RuntimeError("stand-in only")
    f.__name__ = f.__qualname__ = name
    f.__module__ = module
    return f


torch_utils._rebuild_tensor_v2 = _stand_in("_rebuild_tensor_v2", "torch._utils")
torch_utils._rebuild_parameter = _stand_in("_rebuild_parameter", "torch._utils")


class Storage:
    """A storage: raw element bits (bfloat16 is carried as uint16 bits) and its torch dtype name."""

    def __init__(self, key, array, dtype=None):
        self.key, self.array, self.dtype = key, array, dtype or str(array.dtype)

    def floats(self):
        if self.dtype == "bfloat16":
            return (self.array.astype(np.uint32) << 16).view(np.float32)
        return self.array


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce_ex__(self, proto):
        return (torch_utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))

    def values(self):
        src = self.storage.floats()
        item = src.itemsize
        view = np.lib.stride_tricks.as_strided(src[self.offset:], shape=self.size,
                                               strides=tuple(s * item for s in self.stride))
        return view


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, proto):
        return (torch_utils._rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", getattr(torch, STORAGE_OF[obj.dtype]), obj.key, "cpu", obj.array.size)
        return None


def save(path, obj, storages, protocol=2, prefix="archive", byteorder="little"):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=protocol).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        def put(name, data):
            info = zipfile.ZipInfo(prefix + "/" + name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: reproducible bytes
            z.writestr(info, data)
        put("data.pkl", buf.getvalue())
        put("byteorder", byteorder)
        for s in storages:
            put("data/" + s.key, s.array.astype(s.array.dtype.newbyteorder("<")).tobytes())
        put("version", "3\n")


def record(state, prefix=""):
    out = {}
    for k, v in state.items():
        name = prefix + k
        if isinstance(v, Parameter):
            v = v.tensor
        if isinstance(v, Tensor):
            vals = v.values()
            out[name] = {"shape": list(v.size), "dtype": v.storage.dtype,
                         "values": [bool(x) if v.storage.dtype == "bool" else (int(x) if vals.dtype.kind in "iu" else float(x))
                                    for x in vals.flatten()]}
        elif isinstance(v, dict):
            out.update(record(v, name + "."))
    return out


w = Storage("0", np.arange(12, dtype=np.float32) * 0.5 - 2.0)
b = Storage("1", np.array([0.25, -1.5, 3.0], dtype=np.float16))
steps = Storage("2", np.array([7, -9000000000], dtype=np.int64))
bf = Storage("3", np.array([0x3FC0, 0xC040, 0x0000, 0x4049], dtype=np.uint16), dtype="bfloat16")  # 1.5, -3, 0, 3.140625
mask = Storage("4", np.array([True, False, True], dtype=np.bool_))
codes = Storage("5", np.array([-128, 127, 0, -1], dtype=np.int8))
dbl = Storage("6", np.array([1e-300, -2.5], dtype=np.float64))
ints = Storage("7", np.array([1 << 30, -5, 3], dtype=np.int32))
shorts = Storage("8", np.array([-32768, 12], dtype=np.int16))
bytes_ = Storage("9", np.array([0, 255, 17], dtype=np.uint8))
storages = [w, b, steps, bf, mask, codes, dbl, ints, shorts, bytes_]

state = collections.OrderedDict()
state["layer.weight"] = Parameter(Tensor(w, 0, [3, 4], [4, 1]))
state["layer.bias"] = Tensor(b, 0, [3], [1])
state["steps"] = Tensor(steps, 0, [2], [1])
state["layer.weight_t"] = Tensor(w, 0, [4, 3], [1, 4])  # a transposed view sharing the storage
state["tail"] = Tensor(w, 8, [2, 2], [2, 1])             # an offset view
state["scalar"] = Tensor(w, 3, [], [])                   # a 0-d tensor
state["bf16"] = Tensor(bf, 0, [2, 2], [2, 1])
state["mask"] = Tensor(mask, 0, [3], [1])
state["codes"] = Tensor(codes, 0, [4], [1])
state["f64"] = Tensor(dbl, 0, [2], [1])
state["i32"] = Tensor(ints, 0, [3], [1])
state["i16"] = Tensor(shorts, 0, [2], [1])
state["u8"] = Tensor(bytes_, 0, [3], [1])

expected = {}
save("small.pt", state, storages)
expected["small.pt"] = record(state)
save("proto4.pt", state, storages, protocol=4, prefix="my_model")
expected["proto4.pt"] = record(state)
save("nested.pt", {"epoch": 5, "state_dict": state, "optimizer": {"lr": 0.1}}, storages)
expected["nested.pt"] = record(state)
plain = {"encoder": {"w": Tensor(w, 0, [12], [1])}, "decoder": collections.OrderedDict(w=Tensor(b, 1, [2], [1]))}
save("nested_plain.pt", plain, [w, b])
expected["nested_plain.pt"] = record(plain)
save("bigendian.pt", {"w": Tensor(w, 0, [12], [1])}, [w], byteorder="big")

with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")


def save_pickle(path, data):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, content in (("archive/data.pkl", data), ("archive/byteorder", "little")):
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)


class Pwn:
    """What a poisoned checkpoint embeds: unpickling would call os.system("echo pwned")."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


class PwnEval:
    def __reduce__(self):
        return (eval, ("print('pwned')",))


# evil.pt: the classic hand-written GLOBAL 'os system' (what pickle writes on platforms where os.system lives in os)
save_pickle("evil.pt", b"\x80\x02cos\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.")
# evil_posix.pt: the real pickle of Pwn on Linux names posix.system
save_pickle("evil_posix.pt", pickle.dumps(Pwn(), protocol=2))
# evil_eval.pt: protocol 4 (STACK_GLOBAL) naming builtins.eval
save_pickle("evil_eval.pt", pickle.dumps(PwnEval(), protocol=4))
# evil_in_state.pt: a genuine state dict with the payload hidden after a valid tensor
buf = io.BytesIO()
TorchPickler(buf, protocol=2).dump(collections.OrderedDict([("w", Tensor(w, 0, [12], [1])), ("x", Pwn())]))
save_pickle("evil_in_state.pt", buf.getvalue())

# legacy.pt: torch < 1.6 wrote a bare pickle stream starting with the magic number 0x1950a86a20f9469cfc6c
with open("legacy.pt", "wb") as f:
    p = pickle.Pickler(f, protocol=2)
    p.dump(0x1950a86a20f9469cfc6c)
    p.dump(1001)
    p.dump({"protocol_version": 1001, "little_endian": True})
# legacy_tar.pt: the even older tar layout (sys_info, pickle, storages, tensors members)
with tarfile.open("legacy_tar.pt", "w", format=tarfile.USTAR_FORMAT) as t:
    for name in ("sys_info", "pickle", "storages", "tensors"):
        data = pickle.dumps({}, protocol=2)
        info = tarfile.TarInfo(name)
        info.size, info.mtime = len(data), 0
        t.addfile(info, io.BytesIO(data))
print("wrote", ", ".join(sorted(expected)), "+ bigendian.pt evil*.pt legacy*.pt expected.json")
