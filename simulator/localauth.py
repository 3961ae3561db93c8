"""Offline authorization: the local authorization list (SendLocalList) and the auth cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.profiles import parse_time

__all__ = ["LocalAuth"]


class LocalAuth:
    """Local list (versioned, Full / Differential updates) plus an authorization cache."""

    __slots__ = ("cache", "local_list", "max_length", "version")

    def __init__(self, max_length: int = 1000) -> None:
        self.version = 0
        self.local_list: dict[str, dict[str, Any]] = {}
        self.cache: dict[str, dict[str, Any]] = {}
        self.max_length = max_length

    def send_local_list(
        self, version: int, update_type: str, entries: list[dict[str, Any]] | None
    ) -> str:
        """SendLocalList: Accepted, Failed or VersionMismatch."""
        entries = entries or []
        if update_type == "Differential" and version <= self.version and version != 0:
            return "VersionMismatch"
        if update_type == "Full":
            new: dict[str, dict[str, Any]] = {}
        else:
            new = dict(self.local_list)
        for entry in entries:
            tag = entry.get("idTag")
            if not isinstance(tag, str):
                return "Failed"
            info = entry.get("idTagInfo")
            if info is None:
                new.pop(tag, None)
            else:
                new[tag] = info
        if len(new) > self.max_length:
            return "Failed"
        self.local_list = new
        self.version = version
        return "Accepted"

    def remember(self, id_tag: str, info: dict[str, Any]) -> None:
        """Cache the central system's answer for an id tag."""
        self.cache[id_tag] = info

    def clear_cache(self) -> None:
        self.cache.clear()

    def lookup(
        self, id_tag: str, now: datetime, *, use_list: bool = True, use_cache: bool = True
    ) -> dict[str, Any] | None:
        """The idTagInfo known locally (list first, then cache), expired tags marked so."""
        info = None
        if use_list:
            info = self.local_list.get(id_tag)
        if info is None and use_cache:
            info = self.cache.get(id_tag)
        if info is None:
            return None
        expiry = parse_time(info.get("expiryDate"))
        if info.get("status") == "Accepted" and expiry is not None and expiry <= now:
            return {**info, "status": "Expired"}
        return info
