"""Writes named float32 arrays in the tiny container the C++ tests read (tests/support/archive.h).

Layout, little-endian:  b"GCAMTEST" | u32 count | count × ( u32 name_len | name (UTF-8) | u32 ndim |
ndim × i64 extent | float32 data in C order ).  One idea, no dependency but torch.
"""
import struct

import torch


class Archive:
    def __init__(self):
        self.entries = []

    def put(self, name, value):
        t = torch.as_tensor(value).detach().to(torch.float32).contiguous().cpu()
        self.entries.append((name, t))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(b"GCAMTEST")
            f.write(struct.pack("<I", len(self.entries)))
            for name, t in self.entries:
                raw = name.encode()
                f.write(struct.pack("<I", len(raw)))
                f.write(raw)
                f.write(struct.pack("<I", t.dim()))
                f.write(struct.pack("<%dq" % t.dim(), *t.shape))
                f.write(t.numpy().tobytes())
