"""The operator's log: one structured INFO line per station happening, station id first."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["OPLOG", "oplog"]

#: ``chargeportal.stations``: follow one station with ``grep '^CP001 '`` on the message.
OPLOG = logging.getLogger("chargeportal.stations")


def _value(value: Any) -> str:
    text = str(value)
    if text == "" or any(ch.isspace() or ch in '="' for ch in text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def oplog(charge_box_id: str, what: str, level: int = logging.INFO, **fields: Any) -> None:
    """``CP001 transaction.started connector=1 transactionId=7 idTag=ABC status=Accepted``."""
    if not OPLOG.isEnabledFor(level):
        return
    parts = [_value(charge_box_id or "-"), what]
    parts.extend(f"{key}={_value(value)}" for key, value in fields.items() if value is not None)
    OPLOG.log(level, " ".join(parts))
