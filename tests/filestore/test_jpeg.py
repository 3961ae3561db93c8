"""Floor plans are JPEGs by content, at most 2 MB (SPEC §9.3)."""

from __future__ import annotations

import zlib

import pytest

from filestore.jpeg import InvalidImageError, check_floor_plan, demo_floor_plan, encode_blocks


def _png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    ihdr = (8).to_bytes(4, "big") * 2 + bytes((8, 0, 0, 0, 0))
    raw = b"".join(b"\x00" + b"\x80" * 8 for _ in range(8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_a_real_jpeg_is_accepted_with_its_size() -> None:
    info = check_floor_plan(demo_floor_plan(cols=20, rows=10))
    assert (info.width, info.height) == (160, 80)


def test_a_png_renamed_to_jpg_is_refused_as_a_png() -> None:
    with pytest.raises(InvalidImageError, match=r"PNG image.*must be a JPEG"):
        check_floor_plan(_png())


def test_a_3_mb_jpeg_is_refused_for_its_size() -> None:
    big = encode_blocks([[128] * 4] * 4, comment=b"x" * (3 * 1024 * 1024))
    assert check_floor_plan(big, max_bytes=10 * 1024 * 1024).width == 32  # a real JPEG
    with pytest.raises(InvalidImageError, match=r"3\.0 MB; at most 2 MB"):
        check_floor_plan(big)


def test_a_truncated_jpeg_is_refused() -> None:
    data = demo_floor_plan(cols=20, rows=10)
    with pytest.raises(InvalidImageError, match="truncated"):
        check_floor_plan(data[:-2])
    with pytest.raises(InvalidImageError, match=r"damaged|ends before"):
        check_floor_plan(data[:40])


def test_a_jpeg_header_with_nothing_behind_it_is_refused() -> None:
    with pytest.raises(InvalidImageError):
        check_floor_plan(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 6 + b"\xff\xd9")
    with pytest.raises(InvalidImageError, match="empty"):
        check_floor_plan(b"")


def declaring(width: int, height: int) -> bytes:
    """A small valid JPEG whose frame header claims ``width`` × ``height`` pixels."""
    data = encode_blocks([[128] * 4] * 4)
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + height.to_bytes(2, "big") + width.to_bytes(2, "big") + data[sof + 9 :]


def test_a_jpeg_declaring_65535_by_65535_pixels_is_refused_for_its_pixels() -> None:
    bomb = declaring(65535, 65535)
    assert len(bomb) < 1024  # tiny on disk: only the declared size gives it away
    with pytest.raises(InvalidImageError, match=r"65535 × 65535 pixels .*at most 40 megapixels"):
        check_floor_plan(bomb)


def test_the_pixel_cap_counts_width_times_height() -> None:
    assert check_floor_plan(declaring(8000, 5000)).width == 8000  # exactly 40 MP
    with pytest.raises(InvalidImageError, match="megapixels"):
        check_floor_plan(declaring(8001, 5000))
    with pytest.raises(InvalidImageError, match="megapixels"):
        check_floor_plan(declaring(40, 10), max_pixels=399)
