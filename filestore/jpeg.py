"""JPEG floor plans: checked by content (SOI, segments, a frame header, EOI), at most 2 MB
and 40 megapixels.

Also a tiny baseline encoder of blocky grayscale pictures, used for demo floor plans and
tests (the project has no imaging library).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PLAN_BYTES = 2 * 1024 * 1024
#: A browser decodes a plan into width × height × 4 bytes: a 2 MB file may declare
#: 65535 × 65535 px (16 GiB decoded). 40 MP (e.g. 8000 × 5000) is plenty for a floor.
MAX_PLAN_PIXELS = 40_000_000
_PNG = b"\x89PNG\r\n\x1a\n"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class InvalidImageError(ValueError):
    """The upload is not an acceptable floor plan; the message says why, for a person."""


@dataclass(frozen=True)
class JpegInfo:
    width: int
    height: int
    components: int
    size: int


def _sniff(data: bytes) -> str:
    if data.startswith(_PNG):
        return "a PNG image"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "a GIF image"
    if data.startswith(b"%PDF"):
        return "a PDF document"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image"
    if data.startswith(b"BM"):
        return "a BMP image"
    return "not a JPEG image"


def check_floor_plan(
    data: bytes, *, max_bytes: int = MAX_PLAN_BYTES, max_pixels: int = MAX_PLAN_PIXELS
) -> JpegInfo:
    """Return the picture's size when ``data`` is a whole JPEG of at most ``max_bytes``
    whose frame header declares at most ``max_pixels`` (a decompression bomb otherwise)."""
    if not data:
        raise InvalidImageError("The file is empty; choose a JPEG floor plan.")
    if len(data) > max_bytes:
        raise InvalidImageError(
            f"The floor plan is {len(data) / 1024 / 1024:.1f} MB; "
            f"at most {max_bytes / 1024 / 1024:.0f} MB is accepted."
        )
    if not data.startswith(b"\xff\xd8\xff"):
        kind = _sniff(data)
        raise InvalidImageError(
            f"This file is {kind} (whatever its name says); the floor plan must be a JPEG."
        )
    frame: JpegInfo | None = None
    pos = 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise InvalidImageError("The JPEG is damaged (a segment is broken).")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            raise InvalidImageError("The JPEG ends before its picture data.")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            raise InvalidImageError("The JPEG is damaged (a segment runs past the end).")
        if marker in _SOF:
            if length < 8:
                raise InvalidImageError("The JPEG is damaged (short frame header).")
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            components = data[pos + 9]
            if width == 0 or height == 0 or components not in (1, 3, 4):
                raise InvalidImageError("The JPEG has no usable picture size.")
            if width * height > max_pixels:
                raise InvalidImageError(
                    f"The floor plan is {width} × {height} pixels "
                    f"({width * height / 1e6:.1f} megapixels); at most "
                    f"{max_pixels / 1e6:g} megapixels are accepted. Scale it down."
                )
            frame = JpegInfo(width, height, components, len(data))
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        pos += 2 + length
    if frame is None:
        raise InvalidImageError("The JPEG has no frame header (picture size).")
    if not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        raise InvalidImageError("The JPEG is truncated (no end-of-image marker).")
    return frame


# --- a tiny encoder ------------------------------------------------------------------

_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)  # ITU T.81 Annex K.3
_DC_VALUES = tuple(range(12))


def _huffman_codes(bits: tuple[int, ...], values: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    index = 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[values[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body


def encode_blocks(shades: list[list[int]], *, comment: bytes = b"") -> bytes:
    """A baseline grayscale JPEG whose 8×8 blocks have the given shades (0..255).

    ``shades[row][column]``; the picture is 8× as wide and high. ``comment`` lands in
    COM segments (use it to make files of a chosen size).
    """
    rows, cols = len(shades), len(shades[0])
    dc_codes = _huffman_codes(_DC_BITS, _DC_VALUES)
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    for start in range(0, len(comment), 65000):
        out += _segment(0xFE, comment[start : start + 65000])
    out += _segment(0xDB, b"\x00" + b"\x01" * 64)
    out += _segment(
        0xC0,
        b"\x08"
        + (rows * 8).to_bytes(2, "big")
        + (cols * 8).to_bytes(2, "big")
        + b"\x01\x01\x11\x00",
    )
    out += _segment(0xC4, b"\x00" + bytes(_DC_BITS) + bytes(_DC_VALUES))
    out += _segment(0xC4, b"\x10" + bytes((1,) + (0,) * 15) + b"\x00")  # AC: only EOB, code '0'
    out += _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    bits: list[int] = []
    previous = 0
    for row in shades:
        for shade in row:
            dc = 8 * (max(0, min(255, shade)) - 128)
            diff = dc - previous
            previous = dc
            size = abs(diff).bit_length()
            code, length = dc_codes[size]
            bits.extend((code >> i) & 1 for i in range(length - 1, -1, -1))
            if size:
                value = diff if diff > 0 else diff + (1 << size) - 1
                bits.extend((value >> i) & 1 for i in range(size - 1, -1, -1))
            bits.append(0)  # EOB
    bits.extend([1] * (-len(bits) % 8))
    for i in range(0, len(bits), 8):
        byte = int("".join(map(str, bits[i : i + 8])), 2)
        out.append(byte)
        if byte == 0xFF:
            out.append(0x00)
    out += b"\xff\xd9"
    return bytes(out)


def demo_floor_plan(cols: int = 80, rows: int = 50) -> bytes:
    """A floor-plan-like picture: light floor, dark walls, three parking rows."""
    shades = [[235] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            wall = r in (0, rows - 1) or c in (0, cols - 1)
            bay = (r in (rows // 3, 2 * rows // 3)) and c % 8 != 0
            lane = c % 8 == 0 and r not in range(rows // 3 + 1, 2 * rows // 3)
            if wall:
                shades[r][c] = 60
            elif lane:
                shades[r][c] = 170
            elif bay:
                shades[r][c] = 200
    return encode_blocks(shades)
