"""PNG files of every colour type, bit depth and interlacing, written by hand (zlib and struct: PIL cannot
write 16-bit colour, sub-byte greys or Adam7), for the test that gcam's PNG reader gives the pixels PIL's
convert("RGB") gives (what torchvision's loader sees). Each file is the same small picture, of odd size so
that Adam7's passes have ragged edges; rows use filter 0 (PIL's own PNGs, with adaptive filters, are
tested elsewhere).

PNG, as the specification lays it out: the 8-byte signature, then chunks (u32 length, 4-byte type, data,
CRC-32 of type and data): IHDR (width, height, bit depth, colour type, compression 0, filter 0,
interlace), PLTE and tRNS where used, IDAT (the zlib stream of the filtered rows), IEND. A row is a filter
byte and the samples, big-endian, packed most significant bit first below 8 bits. Adam7 sends seven
sub-images, pass p the pixels (x0 + i·dx, y0 + j·dy); an empty pass sends nothing.
"""
import struct
import zlib

import numpy as np

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # grey, RGB, palette, grey + alpha, RGBA


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def packed_row(samples, depth):
    """One row's samples (a flat int array) as bytes, after the filter byte 0."""
    if depth == 16:
        return b"\x00" + samples.astype(">u2").tobytes()
    if depth == 8:
        return b"\x00" + samples.astype(np.uint8).tobytes()
    bits = np.unpackbits(samples.astype(np.uint8)[:, None], axis=1)[:, 8 - depth:].ravel()
    return b"\x00" + np.packbits(bits).tobytes()  # packbits pads the last byte with zeros


def png(samples, colour, depth, palette=None, transparency=None, interlace=False):
    """samples: (H, W, channels) ints of the colour type's channels."""
    h, w = samples.shape[:2]
    if interlace:
        raw = b"".join(packed_row(samples[y, x0::dx].ravel(), depth)
                       for x0, y0, dx, dy in ADAM7 if x0 < w for y in range(y0, h, dy))
    else:
        raw = b"".join(packed_row(samples[y].ravel(), depth) for y in range(h))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, int(interlace)))
    if palette is not None:
        out += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    if transparency is not None:
        out += chunk(b"tRNS", transparency)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def variants(rgb):
    """name → PNG bytes, from an (H, W, 3) uint8 picture."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    grey = (r * 299 + g * 587 + b * 114) // 1000
    noise = (np.arange(rgb.size).reshape(rgb.shape) * 37) % 256  # low bytes for the 16-bit files
    index = (r >> 5 << 5) | (g >> 5 << 2) | (b >> 6)             # 3-3-2 bits: a 256-colour palette
    levels = np.arange(256)
    palette = np.stack([(levels >> 5 & 7) * 255 // 7, (levels >> 2 & 7) * 255 // 7, (levels & 3) * 255 // 3], 1)
    alpha = (np.arange(grey.size).reshape(grey.shape) * 11) % 256
    out = {
        "rgb8": png(rgb, 2, 8),
        "rgb16": png(rgb.astype(np.int64) * 256 + noise, 2, 16),
        "rgb8_trns": png(rgb, 2, 8, transparency=struct.pack(">HHH", *rgb[0, 0].tolist())),
        "rgba8": png(np.dstack([rgb, alpha]), 6, 8),
        "rgba16": png(np.dstack([rgb, alpha]).astype(np.int64) * 256 + 255, 6, 16),
        "grey8": png(grey[..., None], 0, 8),
        "grey_alpha8": png(np.dstack([grey, alpha]), 4, 8),
        "grey4": png((grey >> 4)[..., None], 0, 4),
        "grey2": png((grey >> 6)[..., None], 0, 2),
        "grey1": png((grey >> 7)[..., None], 0, 1),
        "palette8": png(index[..., None], 3, 8, palette=palette),
        "palette8_trns": png(index[..., None], 3, 8, palette=palette, transparency=bytes(range(0, 256, 2))),
        "palette4": png((index >> 4)[..., None], 3, 4, palette=palette[::16]),
        "rgb8_adam7": png(rgb, 2, 8, interlace=True),
        "rgb16_adam7": png(rgb.astype(np.int64) * 256 + noise, 2, 16, interlace=True),
        "grey2_adam7": png((grey >> 6)[..., None], 0, 2, interlace=True),
        "palette4_adam7": png((index >> 4)[..., None], 3, 4, palette=palette[::16], interlace=True),
    }
    return out
