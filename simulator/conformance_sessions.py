"""Conformance checks of how a central system treats sessions real stations leave behind:
a transaction whose StopTransaction was lost, and a start it refused."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from simulator.conformance_base import CheckFailedError, ConformanceOptions

__all__ = ["CheckSkippedError", "refused_start", "stale_transaction"]

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Now = Callable[[], str]


class CheckSkippedError(Exception):
    """The check cannot say anything with these options (e.g. no accepted id tag)."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailedError(message)


def _start(tag: str, meter: int, now: Now) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": tag, "meterStart": meter, "timestamp": now()}


def _stop(tx_id: int, meter: int, now: Now, reason: str, tag: str = "") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "transactionId": tx_id,
        "meterStop": meter,
        "timestamp": now(),
        "reason": reason,
    }
    if tag:
        payload["idTag"] = tag
    return payload


async def stale_transaction(o: ConformanceOptions, call: Call, now: Now) -> str:
    """The StopTransaction of a session is lost; the driver badges again on the same
    connector. Authorize and the new StartTransaction must both accept the tag (a stale
    session on this station is not a concurrent one), with a new transaction id; the
    lost StopTransaction, when it comes after all, is still answered."""
    if not o.id_tag:
        raise CheckSkippedError("needs --id-tag (a badge the central system accepts)")
    first = await call("StartTransaction", _start(o.id_tag, 30_000, now))
    _expect(first["idTagInfo"]["status"] == "Accepted", f"first start {first['idTagInfo']}")
    old = first["transactionId"]
    sample = {"value": "30400", "unit": "Wh", "measurand": "Energy.Active.Import.Register"}
    await call(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": old,
            "meterValue": [{"timestamp": now(), "sampledValue": [sample]}],
        },
    )
    # ... the StopTransaction is lost; the car leaves, the next driver is the same badge
    authorized = await call("Authorize", {"idTag": o.id_tag})
    again = await call("StartTransaction", _start(o.id_tag, 30_400, now))
    status = again["idTagInfo"]["status"]
    _expect(
        authorized["idTagInfo"]["status"] == "Accepted",
        f"Authorize said {authorized['idTagInfo']['status']} with a stale session open",
    )
    _expect(status == "Accepted", f"new start on the connector answered {status}")
    _expect(again["transactionId"] != old, "the new start got the stale transaction's id")
    await call("StopTransaction", _stop(again["transactionId"], 30_900, now, "EVDisconnected"))
    await call("StopTransaction", _stop(old, 30_400, now, "PowerLoss"))  # late, but answered
    return f"stale {old} did not block: new transaction {again['transactionId']} Accepted"


async def refused_start(o: ConformanceOptions, call: Call, now: Now) -> str:
    """A StartTransaction with an unknown badge is refused; the station stops it
    (DeAuthorized). The refused start must not block the connector: the next start
    with an accepted badge is Accepted."""
    unknown = f"R{uuid.uuid4().hex[:12].upper()}"
    start = await call("StartTransaction", _start(unknown, 40_000, now))
    status = start["idTagInfo"]["status"]
    if status == "Accepted":
        raise CheckSkippedError("the outlet accepts any badge (open mode): nothing is refused")
    tx_id = start["transactionId"]
    await call("StopTransaction", _stop(tx_id, 40_000, now, "DeAuthorized", unknown))
    detail = f"unknown badge {status}, stopped DeAuthorized"
    if not o.id_tag:
        return detail
    after = await call("StartTransaction", _start(o.id_tag, 40_000, now))
    _expect(
        after["idTagInfo"]["status"] == "Accepted",
        f"after a refused start the connector refused {o.id_tag}: {after['idTagInfo']}",
    )
    await call("StopTransaction", _stop(after["transactionId"], 40_100, now, "EVDisconnected"))
    return f"{detail}; {o.id_tag} then Accepted on the same connector"
