"""File transfers a station makes: firmware download and log upload over http(s) or ftp."""

from __future__ import annotations

import ftplib
import os
import urllib.request
import uuid
from urllib.parse import unquote, urlsplit

import trio

__all__ = ["TransferError", "download", "upload"]

MAX_FIRMWARE_BYTES = 64 * 1024 * 1024


class TransferError(Exception):
    """A download or upload that did not work (bad URL, refused, server error)."""


def _ftp(location: str, timeout: float) -> tuple[ftplib.FTP, str]:
    parts = urlsplit(location)
    ftp = ftplib.FTP(timeout=timeout)
    ftp.connect(parts.hostname or "127.0.0.1", parts.port or 21)
    ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or "anonymous@"))
    ftp.set_pasv(True)
    return ftp, unquote(parts.path or "/")


def _download_sync(url: str, timeout: float) -> bytes:
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read(MAX_FIRMWARE_BYTES + 1)[:MAX_FIRMWARE_BYTES]
    if scheme == "ftp":
        ftp, path = _ftp(url, timeout)
        chunks: list[bytes] = []
        try:
            ftp.retrbinary(f"RETR {path}", chunks.append)
        finally:
            ftp.close()
        return b"".join(chunks)
    raise TransferError(f"unsupported scheme {scheme!r}")


def _upload_sync(location: str, name: str, data: bytes, timeout: float) -> None:
    scheme = urlsplit(location).scheme.lower()
    if scheme == "ftp":
        ftp, path = _ftp(location, timeout)
        try:
            if path and path != "/":
                ftp.cwd(path)
            from io import BytesIO

            ftp.storbinary(f"STOR {name}", BytesIO(data))
            ftp.quit()
        finally:
            ftp.close()
        return
    if scheme in ("http", "https"):
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="{name}"\r\nContent-Type: text/plain\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            location,
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status >= 300:
                raise TransferError(f"HTTP {response.status}")
        return
    raise TransferError(f"unsupported scheme {scheme!r}")


async def download(url: str, *, timeout: float = 30.0) -> bytes:
    """Fetch ``url`` (http, https, ftp) in a worker thread."""
    try:
        return await trio.to_thread.run_sync(_download_sync, url, timeout, abandon_on_cancel=True)
    except (OSError, ftplib.Error, ValueError) as exc:
        raise TransferError(f"download {url}: {exc}") from exc


async def upload(location: str, name: str, data: bytes, *, timeout: float = 30.0) -> None:
    """Store ``data`` as ``name`` under ``location`` (ftp directory, or http POST multipart)."""
    try:
        await trio.to_thread.run_sync(
            _upload_sync, location, os.path.basename(name), data, timeout, abandon_on_cancel=True
        )
    except (OSError, ftplib.Error, ValueError) as exc:
        raise TransferError(f"upload to {location}: {exc}") from exc
