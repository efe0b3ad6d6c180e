#!/usr/bin/python3
"""Checkpoint fixtures for gcam's loaders: every positive case of WEIGHT-FORMATS.md §10.2 and every
negative case of §10.3, written with Debian's torch (or assembled byte by byte where torch 1.13 cannot
write the form: the Python-2-era legacy file). Also writes what a correct loader must find:

  expected.json    {fixture: [[name, dtype, [shape]], …]}  names in the order the file holds them
  values.gcamtest  "<fixture>/<name>" → the tensor's values as float32
  tiny.gcamtest    input and logits of the tiny ResNet, for the end-to-end cases

  /usr/bin/python3 tests/oracle/weights_fixtures.py --out DIR
"""
import argparse
import collections
import io
import json
import os
import struct
import sys
import zipfile

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from archive import Archive  # noqa: E402
from models_reference import write_safetensors  # noqa: E402

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.float16: "float16",
               torch.bfloat16: "bfloat16", torch.int64: "int64", torch.int32: "int32", torch.int16: "int16",
               torch.int8: "int8", torch.uint8: "uint8", torch.bool: "bool"}


class Expectations:
    def __init__(self):
        self.names, self.values = {}, Archive()

    def add(self, fixture, state):
        self.names[fixture] = [[k, DTYPE_NAMES[v.dtype], list(v.shape)] for k, v in state.items()]
        for k, v in state.items():
            if v.dim() <= 4:
                self.values.put(f"{fixture}/{k}", v.to(torch.float32))


def mixed_state():
    """Every storage type, 0-d and empty tensors, views sharing one storage, a transposed tensor."""
    g = torch.Generator().manual_seed(3)
    base = torch.arange(30, dtype=torch.float32)
    s = collections.OrderedDict()
    s["f32"] = torch.randn(2, 3, generator=g)
    s["f64"] = torch.randn(4, generator=g, dtype=torch.float64)
    s["f16"] = torch.tensor([0.5, -2.0, 65504.0, 6e-8], dtype=torch.float16)
    s["bf16"] = torch.tensor([1.5, -3.25, 1e30], dtype=torch.bfloat16)
    s["i64"] = torch.tensor([-5, 7, 1 << 40])
    s["i32"] = torch.tensor([[-1, 2], [3, -4]], dtype=torch.int32)
    s["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    s["i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    s["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    s["bool"] = torch.tensor([True, False, True])
    s["scalar"] = torch.tensor(3.5)
    s["empty"] = torch.zeros(0, 3)
    s["view_a"] = base[0:10]
    s["view_b"] = base[10:20].view(2, 5)
    s["view_c"] = base[5:25]
    s["transposed"] = torch.arange(18, dtype=torch.float32).reshape(3, 6).t()
    return s


def tiny_resnet():
    torch.manual_seed(5)
    model = torchvision.models.resnet.ResNet(torchvision.models.resnet.BasicBlock, [1, 1, 1, 1], num_classes=10)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.75, 1.25)
                m.weight.uniform_(0.75, 1.25)
                m.bias.normal_(0, 0.1)
    return model.eval()


def legacy_with_rebuild_tensor(state, path):
    """A pre-0.4-style legacy file: tensors pickled through _rebuild_tensor (4 arguments)."""
    original = torch.Tensor.__reduce_ex__

    def reduce_ex(self, protocol):
        return (torch._utils._rebuild_tensor, (self.storage(), self.storage_offset(), tuple(self.size()), self.stride()))

    torch.Tensor.__reduce_ex__ = reduce_ex
    try:
        torch.save(state, path, _use_new_zipfile_serialization=False)
    finally:
        torch.Tensor.__reduce_ex__ = original


def repack(src, dst, folder=None, compression=zipfile.ZIP_STORED, edit=None):
    """The same archive re-written by Python's zipfile: no alignment, no descriptors, no zip64."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=compression) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            name = info.filename
            if folder:
                name = folder + "/" + name.split("/", 1)[1]
            if edit:
                data = edit(name, data)
            zout.writestr(name, data)


# --- A Python-2-era legacy file, assembled opcode by opcode (torch 1.13 cannot write one) -----------

def p_str(s):  # SHORT_BINSTRING / BINSTRING
    b = s.encode()
    return (b"U" + bytes([len(b)]) + b) if len(b) < 256 else (b"T" + struct.pack("<i", len(b)) + b)


def p_int(i):  # text INT, as Python 2 wrote large or plain ints
    return b"I" + str(i).encode() + b"\n"


def p_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def p_pid(key, numel, view=None):
    v = b"N" if view is None else (b"(" + p_str(view[0]) + p_int(view[1]) + p_int(view[2]) + b"t")
    return b"(" + p_str("storage") + p_global("torch", "FloatStorage") + p_str(key) + p_str("cpu") + p_int(numel) + v + b"tQ"


def p_tuple(ints):
    return b"(" + b"".join(p_int(i) for i in ints) + b"t"


def py2_legacy(path):
    """Two root storages; tensors through _rebuild_tensor with views, a transposed tensor, and one in
    the PyTorch 0.1.10 form (torch.FloatTensor() + BUILD). Returns the state it encodes."""
    root1 = torch.arange(12, dtype=torch.float32) * 0.5
    root2 = torch.arange(6, dtype=torch.float32) - 2.0
    rebuild = p_global("torch._utils", "_rebuild_tensor")
    entries = [
        # name, pickled value, expected tensor
        ("conv.weight", rebuild + b"(" + p_pid("1001", 12) + p_int(0) + p_tuple([2, 3, 2]) + p_tuple([6, 2, 1]) + b"tR",
         root1.view(2, 3, 2)),
        ("view.second_half", rebuild + b"(" + p_pid("1001", 12, ("1002", 6, 6)) + p_int(1) + p_tuple([4]) + p_tuple([1]) + b"tR",
         root1[7:11]),
        ("transposed", rebuild + b"(" + p_pid("2001", 6) + p_int(0) + p_tuple([3, 2]) + p_tuple([1, 3]) + b"tR",
         root2.view(2, 3).t()),
        ("old_style", p_global("torch", "FloatTensor") + b")R" + b"(" + p_pid("2001", 6) + p_int(2) + p_tuple([2, 2]) +
         p_tuple([2, 1]) + b"tb", root2[2:6].view(2, 2)),
    ]
    pairs = b"".join(b"(" + p_str(name) + value + b"l" for name, value, _ in entries)
    main = b"\x80\x02" + p_global("collections", "OrderedDict") + b"(]q\x00(" + pairs + b"etR."
    magic = b"\x80\x02\x8a\x0a" + (0x1950a86a20f9469cfc6c).to_bytes(10, "little") + b"."
    protocol = b"\x80\x02M\xe9\x03."
    sys_info = (b"\x80\x02}(" + p_str("protocol_version") + b"M\xe9\x03" + p_str("little_endian") + b"\x88" +
                p_str("type_sizes") + b"}(" + p_str("short") + b"K\x02" + p_str("int") + b"K\x04" + p_str("long") +
                b"K\x04uu.")
    keys = b"\x80\x02](" + p_str("1001") + p_str("2001") + b"e."
    storages = struct.pack("<q", 12) + root1.numpy().tobytes() + struct.pack("<q", 6) + root2.numpy().tobytes()
    with open(path, "wb") as f:
        f.write(magic + protocol + sys_info + main + keys + storages)
    return collections.OrderedDict((name, t.contiguous()) for name, _, t in entries)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo gcam must never run this",))


class Vocabulary(object):
    """The captioning tutorial's word list (its build_vocab.py), pickled as that script pickles it: an object
    of a class in __main__. gcam reads it as data, never running the class."""

    def __init__(self):
        self.word2idx = {}
        self.idx2word = {}
        self.idx = 0

    def add_word(self, word):
        if word not in self.word2idx:
            self.word2idx[word] = self.idx
            self.idx2word[self.idx] = word
            self.idx += 1


class Evil(object):
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def vocabulary_fixtures(path):
    vocab = Vocabulary()
    words = ["<pad>", "<start>", "<end>", "<unk>", "a", "red", "sneaker", "left", "of", "blue", "bag", "caf\u00e9"]
    for w in words:
        vocab.add_word(w)
    import pickle
    for name, protocol in [("vocab.pkl", pickle.DEFAULT_PROTOCOL), ("vocab_p2.pkl", 2)]:
        with open(path(name), "wb") as f:
            pickle.dump(vocab, f, protocol=protocol)
    with open(path("vocab_words.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(words) + "\n")
    with open(path("bad_evil_vocab.pkl"), "wb") as f:
        pickle.dump(Evil(), f, protocol=2)
    vocab.idx2word[3] = "a"  # a word twice
    with open(path("bad_twice_vocab.pkl"), "wb") as f:
        pickle.dump(vocab, f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    path = lambda name: os.path.join(out, name)  # noqa: E731
    expect = Expectations()

    # Positive cases.
    mixed = mixed_state()
    torch.save(mixed, path("mixed_zip.pth"))
    torch.save(mixed, path("mixed_legacy.pth"), _use_new_zipfile_serialization=False)
    write_safetensors(path("mixed.safetensors"), {k: v.contiguous() for k, v in mixed.items()}, {"note": "mixed dtypes"})
    expect.add("mixed_zip.pth", mixed)
    expect.add("mixed_legacy.pth", mixed)
    expect.add("mixed.safetensors", collections.OrderedDict(sorted(mixed.items())))

    shared = torch.arange(1100, dtype=torch.float32)
    many = collections.OrderedDict((f"k{i:04d}", shared[i:i + 1]) for i in range(1100))
    torch.save(many, path("many_keys_zip.pth"))
    expect.add("many_keys_zip.pth", many)

    torch.save(mixed, path("proto4_zip.pth"), pickle_protocol=4)
    expect.add("proto4_zip.pth", mixed)

    model = tiny_resnet()
    state = model.state_dict()
    without_counts = collections.OrderedDict((k, v) for k, v in state.items() if not k.endswith("num_batches_tracked"))
    torch.save(state, path("tiny_zip.pth"))
    torch.save(state, path("tiny_legacy.pth"), _use_new_zipfile_serialization=False)
    write_safetensors(path("tiny.safetensors"), dict(state))
    # Names and metadata that would drive a terminal (ESC [ 2 J clears the screen): printed escaped.
    vocabulary_fixtures(path)
    write_safetensors(path("escape_names.safetensors"), {"fc\x1b[2J.weight": torch.zeros(2)}, {"note\x07": "\x1b]0;title\x07"})
    repack(path("tiny_zip.pth"), path("tiny_repacked_zip.pth"), folder="resnet18-f37072fd")
    torch.save({"epoch": 3, "state_dict": state, "optimizer": {"lr": 0.1}}, path("tiny_wrapped_zip.pth"))
    torch.save(collections.OrderedDict(("module." + k, v) for k, v in state.items()), path("tiny_dataparallel_zip.pth"))
    legacy_with_rebuild_tensor(without_counts, path("tiny_pre04_legacy.pth"))
    for name in ("tiny_zip.pth", "tiny_legacy.pth", "tiny_repacked_zip.pth"):
        expect.add(name, state)
    expect.add("tiny.safetensors", collections.OrderedDict(sorted(state.items())))
    expect.add("tiny_pre04_legacy.pth", without_counts)
    torch.manual_seed(2)
    x = torch.randn(2, 3, 32, 32)
    tiny = Archive()
    tiny.put("input", x)
    with torch.no_grad():
        tiny.put("logits", model(x))
    tiny.write(path("tiny.gcamtest"))

    expect.add("py2style_legacy.pth", py2_legacy(path("py2style_legacy.pth")))

    # Negative cases: each must be refused with one clear line.
    raw_zip = open(path("tiny_zip.pth"), "rb").read()
    raw_legacy = open(path("tiny_legacy.pth"), "rb").read()
    open(path("bad_truncated_zip.pth"), "wb").write(raw_zip[: len(raw_zip) * 6 // 10])
    open(path("bad_truncated_legacy.pth"), "wb").write(raw_legacy[:-100])
    open(path("bad_magic_legacy.pth"), "wb").write(raw_legacy[:5] + bytes([raw_legacy[5] ^ 0xFF]) + raw_legacy[6:])
    open(path("bad_empty.pth"), "wb").write(b"")
    torch.save({"weight": torch.zeros(2), "payload": Evil()}, path("bad_evil_global_zip.pth"))
    repack(path("tiny_zip.pth"), path("bad_deflated_zip.pth"), compression=zipfile.ZIP_DEFLATED)
    repack(path("tiny_zip.pth"), path("bad_short_member_zip.pth"),
           edit=lambda name, data: data[:-4] if name.endswith("/data/0") else data)
    repack(path("tiny_zip.pth"), path("bad_big_endian_zip.pth"),
           edit=lambda name, data: b"big" if name.endswith("/byteorder") else data)
    if not any(n.endswith("/byteorder") for n in zipfile.ZipFile(path("tiny_zip.pth")).namelist()):
        with zipfile.ZipFile(path("bad_big_endian_zip.pth"), "a") as z:
            z.writestr(z.namelist()[0].split("/")[0] + "/byteorder", b"big")
    open(path("bad_trailing_legacy.pth"), "wb").write(raw_legacy + b"\0" * 16)

    def safetensors_bytes(header, body):
        text = json.dumps(header).encode()
        return struct.pack("<Q", len(text)) + text + body

    ok_header = {"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}
    open(path("bad_st_header_too_large.safetensors"), "wb").write(struct.pack("<Q", 200_000_000) + b"{" + b" " * 64)
    open(path("bad_st_header_past_end.safetensors"), "wb").write(struct.pack("<Q", 5000) + b'{"a": 1}')
    open(path("bad_st_not_object.safetensors"), "wb").write(struct.pack("<Q", 4) + b"[1] " + b"\0" * 8)
    open(path("bad_st_size_mismatch.safetensors"), "wb").write(
        safetensors_bytes({"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}, b"\0" * 20))
    open(path("bad_st_trailing.safetensors"), "wb").write(safetensors_bytes(ok_header, b"\0" * 28))
    open(path("bad_st_unknown_dtype.safetensors"), "wb").write(
        safetensors_bytes({"a": {"dtype": "Q7", "shape": [2, 3], "data_offsets": [0, 24]}}, b"\0" * 24))
    open(path("bad_st_overflow.safetensors"), "wb").write(
        safetensors_bytes({"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 24]}}, b"\0" * 24))
    open(path("bad_st_hole.safetensors"), "wb").write(
        safetensors_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                           "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}}, b"\0" * 20))
    open(path("bad_not_a_checkpoint.pth"), "wb").write(b"hello, this is plain text and no checkpoint at all\n")

    with open(path("expected.json"), "w") as f:
        json.dump(expect.names, f)
    expect.values.write(path("values.gcamtest"))
    print("wrote", len(expect.names), "positive fixtures and the negative ones to", out)


if __name__ == "__main__":
    main()
