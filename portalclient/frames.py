"""pandas DataFrames of what ``PortalClient`` reads (needs the ``[notebooks]`` extra)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from portalclient.client import SESSION_PAGE_SIZE, PortalClient

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SESSION_COLUMNS",
    "alarms_frame",
    "configuration_frame",
    "connections_frame",
    "events_frame",
    "iter_session_frames",
    "messages_frame",
    "meter_values_frame",
    "outlets_frame",
    "session_messages_frame",
    "sessions_frame",
    "stations_frame",
]

#: The session columns a frame holds (the Statistics table's keys; ``duration`` in seconds).
SESSION_COLUMNS = [
    "id",
    "start",
    "end",
    "energy",
    "meter",
    "station",
    "outlet",
    "site",
    "node",
    "auth",
    "id_tag",
    "email",
    "state",
]
_TIMES = ("start", "end", "server_date", "timestamp", "time", "at")


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "DataFrames need pandas: pip install -e '.[notebooks]' (or 'just notebooks')"
        ) from None
    return pandas


def _frame(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    pd = _pandas()
    frame = pd.DataFrame.from_records(list(rows), columns=columns)
    for name in frame.columns:
        if name in _TIMES or name.endswith(("At", "_at")):
            frame[name] = pd.to_datetime(frame[name], utc=True, errors="coerce", format="ISO8601")
    return frame


def stations_frame(client: PortalClient, **filters: Any) -> pd.DataFrame:
    """One row per station (outlets counted, live ``online``/``colour``)."""
    rows = []
    for station in client.stations(**filters):
        row = {k: v for k, v in station.items() if k != "outlets"}
        row["outletCount"] = len(station.get("outlets") or [])
        rows.append(row)
    return _frame(rows)


def outlets_frame(client: PortalClient, **filters: Any) -> pd.DataFrame:
    return _frame(client.outlets(**filters))


def configuration_frame(client: PortalClient, charge_box_id: str) -> pd.DataFrame:
    return _frame(client.configuration(charge_box_id))


def _with_payload(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = _frame(rows)
    if "payload" in frame.columns:
        frame["payload"] = [_decoded(p) for p in frame["payload"]]
    return frame


def _decoded(payload: Any) -> Any:
    """The message's payload: JSON decoded, and out of its OCPP-J frame when kept framed."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return payload
    if isinstance(payload, list) and len(payload) >= 3 and payload[0] in (2, 3):
        return payload[-1]  # [2, id, action, payload] or [3, id, payload]
    if isinstance(payload, list) and len(payload) == 5 and payload[0] == 4:
        return dict(
            zip(("errorCode", "errorDescription", "errorDetails"), payload[2:], strict=True)
        )
    return payload


def messages_frame(
    client: PortalClient, charge_box_id: str, *, limit: int = 200, **filters: Any
) -> pd.DataFrame:
    """The station's newest OCPP-J frames both ways, oldest first, payloads decoded (a
    CallError's: ``errorCode``, ``errorDescription``, ``errorDetails``); ``before``, ``action``."""
    return _with_payload(client.messages(charge_box_id, limit=limit, **filters))


def connections_frame(
    client: PortalClient, charge_box_id: str | None = None, **filters: Any
) -> pd.DataFrame:
    """Connection events (``at``, ``chargeBoxId``, ``kind``, ``reason``, ``remote``), in order."""
    columns = ["id", "at", "chargeBoxId", "kind", "reason", "remote"]
    return _frame(client.connections(charge_box_id, **filters), columns)


def session_messages_frame(client: PortalClient, session_id: int) -> pd.DataFrame:
    return _with_payload(client.session_messages(session_id))


def _keeping(rows: Iterable[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """The rows' own columns; ``columns`` when there is none (filters work on empty too)."""
    rows = list(rows)
    return _frame(rows, None if rows else columns)


METER_COLUMNS = ["timestamp", "measurand", "value", "unit", "phase", "context"]


def meter_values_frame(client: PortalClient, session_id: int) -> pd.DataFrame:
    """One session's samples; ``value`` as a number where it is one."""
    pd = _pandas()
    frame = _keeping(client.meter_values(session_id), METER_COLUMNS)
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


ALARM_COLUMNS = [
    "id",
    "kind",
    "charge_box_id",
    "site",
    "connector_id",
    "message",
    "raised_at",
    "cleared_at",
    "count",
    "acknowledged_at",
    "acknowledged_by",
    "ack_comment",
    "clearable",
]
EVENT_COLUMNS = ["id", "time", "kind", "charge_box_id", "site", "severity", "message"]


def alarms_frame(client: PortalClient, state: str = "active", **filters: Any) -> pd.DataFrame:
    """Active alarms (``state="active"``) or the history (``"cleared"``)."""
    return _keeping(client.alarms(state, **filters), ALARM_COLUMNS)


def events_frame(client: PortalClient, **filters: Any) -> pd.DataFrame:
    return _keeping(client.events(**filters), EVENT_COLUMNS)


def iter_session_frames(
    client: PortalClient, *, page_size: int = SESSION_PAGE_SIZE, **filters: Any
) -> Iterator[pd.DataFrame]:
    """Sessions one keyset page at a time (aggregate a page, drop it, read the next)."""
    params = {**filters, "limit": page_size}
    while True:
        page = client.get("/sessions", **params)
        if page["items"]:
            yield _frame(page["items"])
        if not page.get("next"):
            return
        params["after"] = page["next"]


class _BodyReader(io.RawIOBase):
    """A streamed HTTP body as a file pandas reads from, a chunk at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.iter_bytes()
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = chunk
        size = min(len(buffer), len(self._left))
        buffer[:size] = self._left[:size]
        self._left = self._left[size:]
        return size


def sessions_frame(
    client: PortalClient, columns: list[str] | None = None, **filters: Any
) -> pd.DataFrame:
    """Every session matching the Statistics filters, read from the streamed CSV export
    straight into the frame (neither side holds the rows twice); ``duration`` in seconds."""
    pd = _pandas()
    columns = list(columns or SESSION_COLUMNS)
    with client.sessions_csv(columns, **filters) as response:
        reader = io.BufferedReader(_BodyReader(response), buffer_size=1 << 16)
        text = io.TextIOWrapper(reader, encoding="utf-8-sig", newline="")
        frame = pd.read_csv(text, header=0, names=columns, low_memory=True)
    for name in ("start", "end", "server_date"):
        if name in frame.columns:
            frame[name] = pd.to_datetime(frame[name], errors="coerce").dt.tz_localize("UTC")
    if "start" in frame.columns and "end" in frame.columns:
        frame["duration"] = (frame["end"] - frame["start"]).dt.total_seconds()
    return frame
