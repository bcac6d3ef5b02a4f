"""Builds the PyTorch test fixtures without torch: run `python3 make_fixtures.py` in this directory.

torch.save's zip format is a pickle (data.pkl) naming torch's globals plus one raw little-endian file per
storage. We define stand-ins registered under the real module names (torch, torch._utils), so the standard
pickle module writes exactly the GLOBAL opcodes a real torch.save writes; values are recorded in
expected.json for the Java test. evil.pt names os.system the way malicious checkpoints do (never loaded).
"""
import collections
import io
import json
import pickle
import sys
import types
import zipfile

import numpy as np

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils
torch._utils = torch_utils

STORAGES = {np.float32: "FloatStorage", np.float16: "HalfStorage", np.int64: "LongStorage", np.int8: "CharStorage"}
for cls_name in STORAGES.values():
    cls = type(cls_name, (), {})
    cls.__module__ = "torch"
    setattr(torch, cls_name, cls)


def _rebuild_tensor_v2(*args):
    raise RuntimeError("stand-in only")


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, array):
        self.key, self.array = key, array


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, (self.storage, self.offset, tuple(self.size), tuple(self.stride), False,
                                     collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            cls = getattr(torch, STORAGES[obj.array.dtype.type])
            return ("storage", cls, obj.key, "cpu", obj.array.size)
        return None


def save(path, obj, storages):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", "little")
        for s in storages:
            z.writestr("archive/data/" + s.key, s.array.astype(s.array.dtype.newbyteorder("<")).tobytes())
        z.writestr("archive/version", "3\n")


w = Storage("0", (np.arange(12, dtype=np.float32) * 0.5 - 2.0))
b = Storage("1", np.array([0.25, -1.5, 3.0], dtype=np.float16))
steps = Storage("2", np.array([7, -9000000000], dtype=np.int64))
state = collections.OrderedDict()
state["layer.weight"] = Tensor(w, 0, [3, 4], [4, 1])
state["layer.bias"] = Tensor(b, 0, [3], [1])
state["steps"] = Tensor(steps, 0, [2], [1])
state["layer.weight_t"] = Tensor(w, 0, [4, 3], [1, 4])  # a transposed view sharing the storage
state["tail"] = Tensor(w, 8, [2, 2], [2, 1])             # an offset view
save("small.pt", state, [w, b, steps])
save("nested.pt", {"epoch": 5, "state_dict": state}, [w, b, steps])

wt = w.array.reshape(3, 4)
expected = {
    "layer.weight": {"shape": [3, 4], "values": wt.flatten().tolist()},
    "layer.bias": {"shape": [3], "values": b.array.astype(np.float32).tolist()},
    "steps": {"shape": [2], "values": steps.array.tolist()},
    "layer.weight_t": {"shape": [4, 3], "values": wt.T.flatten().tolist()},
    "tail": {"shape": [2, 2], "values": w.array[8:12].tolist()},
}
with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)

# evil.pt: a pickle that would call os.system("echo pwned") if a loader resolved the global.
evil = b"\x80\x02cos\nsystem\nq\x00X\n\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03."
with zipfile.ZipFile("evil.pt", "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", evil)
    z.writestr("archive/byteorder", "little")
print("wrote small.pt nested.pt evil.pt expected.json")
