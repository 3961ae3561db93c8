"""Views of what a support user investigates: a readable message timeline, a key diff."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portalclient.frames import _pandas

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["config_diff", "connectors_frame", "message_timeline", "summarize"]

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
    """The messages as a timeline: when, which way, what, and a one-line summary."""
    pd = _pandas()
    if messages.empty:
        return pd.DataFrame(columns=["time", "direction", "action", "summary"])
    return pd.DataFrame(
        {
            "time": messages["receivedAt"],
            "direction": [_ARROWS.get(d, d) for d in messages["direction"]],
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
