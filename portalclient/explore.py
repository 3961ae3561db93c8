"""Views of what a support user investigates: a readable message timeline, a key diff,
one outlet's sessions, status history and last meter values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portalclient.frames import (
    METER_COLUMNS,
    _frame,
    _pandas,
    messages_frame,
    meter_values_frame,
)

if TYPE_CHECKING:
    import pandas as pd

    from portalclient.client import PortalClient

__all__ = [
    "config_diff",
    "connectors_frame",
    "message_timeline",
    "outlet_view",
    "status_history",
    "summarize",
]

_ARROWS = {"in": "station → portal", "out": "portal → station"}


def summarize(action: str, payload: Any, width: int = 90) -> str:
    """One line saying what a message carried (its main fields, no JSON noise)."""
    if not isinstance(payload, dict):
        return str(payload)[:width]
    if action == "MeterValues":
        values = [
            f"{v.get('measurand', 'Energy.Active.Import.Register')}={v.get('value')}"
            f"{v.get('unit', '')}"
            for mv in payload.get("meterValue", [])
            for v in mv.get("sampledValue", [])
        ]
        head = f"connector {payload.get('connectorId')}"
        text = f"{head}: {', '.join(values[:3])}" + (" …" if len(values) > 3 else "")
    else:
        parts = [f"{k}={v}" for k, v in payload.items() if not isinstance(v, dict | list)]
        parts += [f"{k}=…" for k, v in payload.items() if isinstance(v, dict | list)]
        text = ", ".join(parts)
    return text if len(text) <= width else text[: width - 1] + "…"


def message_timeline(messages: pd.DataFrame) -> pd.DataFrame:
    """The messages as a timeline: when, which way, what (``type``: Call, CallResult,
    CallError, Malformed, where the log says), and a one-line summary."""
    pd = _pandas()
    if messages.empty:
        return pd.DataFrame(columns=["time", "direction", "type", "action", "summary"])
    kinds = messages["messageType"] if "messageType" in messages.columns else [""] * len(messages)
    return pd.DataFrame(
        {
            "time": messages["receivedAt"],
            "direction": [_ARROWS.get(d, d) for d in messages["direction"]],
            "type": list(kinds),
            "action": messages["action"],
            "summary": [
                summarize(a, p)
                for a, p in zip(messages["action"], messages["payload"], strict=True)
            ],
        }
    )


def connectors_frame(station: dict[str, Any]) -> pd.DataFrame:
    """The live connectors of a station read with ``PortalClient.station`` (none offline)."""
    pd = _pandas()
    live = station.get("live") or {}
    rows = [{"connector": int(cid), **state} for cid, state in live.get("connectors", {}).items()]
    columns = ["connector", "status", "errorCode", "transactionId", "meterWh", "powerW"]
    return pd.DataFrame.from_records(rows, columns=columns if not rows else None)


def config_diff(keys: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Key by key: this station's value beside the reference station's, differences first."""
    pd = _pandas()
    mine = keys.set_index("key")["value"] if not keys.empty else pd.Series(dtype=object)
    theirs = reference.set_index("key")["value"] if not reference.empty else pd.Series(dtype=object)
    both = pd.DataFrame({"value": mine, "reference": theirs})
    both["differs"] = both["value"].fillna("∅") != both["reference"].fillna("∅")
    both = both.reset_index(names="key")
    return both.sort_values(["differs", "key"], ascending=[False, True]).reset_index(drop=True)


_STATUS_COLUMNS = ["time", "status", "errorCode", "info", "vendorErrorCode"]


def status_history(messages: pd.DataFrame, connector_id: int) -> pd.DataFrame:
    """One connector's StatusNotifications, oldest first, from a station's messages
    (``messages_frame``; the station's own time where it sent one)."""
    pd = _pandas()
    if messages.empty:
        return pd.DataFrame(columns=_STATUS_COLUMNS)
    mine = messages[
        (messages["action"] == "StatusNotification")
        & (messages.get("messageType", "Call") == "Call")
        & (messages["direction"] == "in")
    ]
    rows = [
        {
            "time": pd.to_datetime(p.get("timestamp") or at, utc=True, format="ISO8601"),
            "status": p.get("status"),
            "errorCode": p.get("errorCode"),
            "info": p.get("info", ""),
            "vendorErrorCode": p.get("vendorErrorCode", ""),
        }
        for at, p in zip(mine["receivedAt"], mine["payload"], strict=True)
        if isinstance(p, dict) and p.get("connectorId") == connector_id
    ]
    return pd.DataFrame.from_records(rows, columns=_STATUS_COLUMNS)


def outlet_view(
    client: PortalClient, charge_box_id: str, connector_id: int, *, sessions: int = 20
) -> dict[str, pd.DataFrame]:
    """One outlet as support looks at it: its ``sessions`` newest sessions, its status
    history (from the station's kept StatusNotifications) and the ``meter`` values of its
    last session."""
    rows = []
    for row in client.iter_sessions(
        station=charge_box_id, outlet=connector_id, sort="-start", page_size=sessions
    ):
        if row.get("station") == charge_box_id:  # ``station`` filters by substring
            rows.append(row)
        if len(rows) == sessions:
            break
    columns = ["id", "start", "end", "energy", "id_tag", "state"]
    table = _frame(rows)
    table = table.reindex(columns=columns) if len(table) else _frame([], columns)
    notifications = messages_frame(client, charge_box_id, limit=1000, action="StatusNotification")
    meter = meter_values_frame(client, int(table["id"].iloc[0])) if len(table) else _frame([])
    if meter.empty:
        meter = _frame([], METER_COLUMNS)
    return {
        "sessions": table,
        "status": status_history(notifications, connector_id),
        "meter": meter,
    }
