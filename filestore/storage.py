"""Where files live on disk: ``var/files/firmware/`` and ``var/files/diagnostics/<station>/``."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ROOT = Path("var") / "files"
MAX_FIRMWARE_BYTES = 256 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FileNameError(ValueError):
    """A file name that cannot be stored or served."""


def safe_name(name: str) -> str:
    """A plain file name (no directories, no leading dot), at most 128 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    cleaned = _UNSAFE.sub("_", base).lstrip("._")[:128]
    if not cleaned:
        raise FileNameError(f"{name!r} is not a usable file name.")
    return cleaned


@dataclass(frozen=True)
class StoredFile:
    name: str
    path: Path
    size: int
    sha256: str


class FileStore:
    """The folders for firmware images (served to stations) and diagnostics (from stations)."""

    def __init__(self, root: Path | str = DEFAULT_ROOT) -> None:
        self.root = Path(root).absolute()
        self.firmware_dir = self.root / "firmware"
        self.diagnostics_root = self.root / "diagnostics"
        self.firmware_dir.mkdir(parents=True, exist_ok=True)
        self.diagnostics_root.mkdir(parents=True, exist_ok=True)

    def firmware_path(self, name: str) -> Path:
        """The path of an image by its (already safe) name, or FileNameError."""
        if safe_name(name) != name:
            raise FileNameError(f"{name!r} is not a stored file name.")
        return self.firmware_dir / name

    def save_firmware(self, name: str, data: bytes) -> StoredFile:
        if not data:
            raise FileNameError("The firmware image is empty.")
        if len(data) > MAX_FIRMWARE_BYTES:
            raise FileNameError("A firmware image is at most 256 MB.")
        name = safe_name(name)
        path = self.firmware_dir / name
        temp = path.with_name(f".{name}.part")
        temp.write_bytes(data)
        os.replace(temp, path)
        return StoredFile(name, path, len(data), hashlib.sha256(data).hexdigest())

    def remove_firmware(self, name: str) -> None:
        self.firmware_path(name).unlink(missing_ok=True)

    def diagnostics_dir(self, charge_box_id: str) -> Path:
        folder = self.diagnostics_root / safe_name(charge_box_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def diagnostics_path(self, stored_path: str) -> Path:
        """A stored diagnostics path, refused when it points outside the diagnostics folder."""
        path = (self.diagnostics_root / stored_path).resolve()
        if not path.is_relative_to(self.diagnostics_root.resolve()):
            raise FileNameError("Not a diagnostics file.")
        return path
