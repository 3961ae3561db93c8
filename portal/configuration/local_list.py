"""Download RFID badges: SendLocalList in messages within the station's limits, with progress.

The station's ``SendLocalListMaxLength`` (entries per message) and
``LocalAuthListMaxLength`` (entries it holds) come from its configuration keys as the
gateway stored them, or are asked of it (GetConfiguration of those two keys) when never
read. A Full update longer than one message goes as a Full message followed by
Differential ones (``db.ocpp.local_list.split_plan``); each accepted message is recorded at
once, so a refusal half-way leaves the portal knowing what the station holds. Every
accepted message publishes a ``locallist.progress`` live event (the Control tab shows
it); a refusal is explained in words.
"""

from __future__ import annotations

from typing import Any

from db.config_errors import ConfigurationError
from db.errors import Conflict
from db.ocpp.local_list import (
    LIST_MAX_KEY,
    SEND_MAX_KEY,
    ListPlan,
    list_limits,
    plan_local_list,
    positive_int,
    split_plan,
)
from db.schema.models import utcnow
from gateway.commands import GetConfiguration, SendLocalList
from gateway.events import LiveEvent
from portal.configuration.control import ActionResult, ControlDeps, _choice

__all__ = ["PROGRESS_KIND", "download_local_list", "explain_refusal"]

PROGRESS_KIND = "locallist.progress"


def explain_refusal(status: str, limits: dict[str, int | None], expected_version: int) -> str:
    """What a SendLocalList refusal means, in words."""
    if status == "Failed":
        held = limits.get(LIST_MAX_KEY)
        size = f" (LocalAuthListMaxLength {held})" if held else ""
        return (
            "it could not store the list: it may be longer than the station holds"
            f"{size}, or its memory is full or faulty."
        )
    if status == "VersionMismatch":
        return (
            f"its list version is not {expected_version - 1}, the last one the portal sent "
            "(another system changed or reset its list). Send a Full update: it replaces "
            "the whole list."
        )
    if status == "NotSupported":
        return (
            "it has no local authorization list, or the list is switched off "
            "(LocalAuthListEnabled false): the station checks badges online only."
        )
    return f"an answer OCPP 1.6 does not define for SendLocalList ({status!r})."


def _command(part: ListPlan) -> SendLocalList:
    """One message of the plan (the command records it when the station accepts)."""
    return SendLocalList(
        update_type=part.update_type,
        list_version=part.version,
        entries=part.entries,
        removed=part.removed,
    )


async def _limits(deps: ControlDeps, cbid: str, station_id: int) -> dict[str, int | None]:
    """The two limits, asked of the station when the portal never read them."""
    limits = await deps.store.read(list_limits, station_id)
    missing = [key for key, value in limits.items() if value is None]
    if missing:
        result = await deps.gateway.send(cbid, GetConfiguration(key=tuple(missing)))
        answer = result.answer
        for item in answer.get("configurationKey") or []:
            if item.get("key") in missing:
                limits[item["key"]] = positive_int(item.get("value"))
    return limits


def _publish(deps: ControlDeps, cbid: str, site_id: int | None, data: dict[str, Any]) -> None:
    deps.gateway.events.publish(LiveEvent(PROGRESS_KIND, cbid, data, utcnow(), site_id))


async def download_local_list(deps: ControlDeps, cbid: str, params: dict[str, Any]) -> ActionResult:
    """Bring the station's local list up to date; the result says how far it got."""
    from db.topology.station_settings import station_by_cbid

    update_type = _choice(params, "updateType", ("Full", "Differential"), "Full")
    station = await deps.store.read(station_by_cbid, cbid)
    limits = await _limits(deps, cbid, station.id)
    try:
        plan = await deps.store.read(plan_local_list, station.id, update_type, limits[LIST_MAX_KEY])
    except ConfigurationError as exc:  # more badges than the station holds
        raise Conflict(exc.message, field=exc.field) from None
    per_message = limits[SEND_MAX_KEY]
    parts = split_plan(plan, per_message)
    total = len(plan.entries) + len(plan.removed)
    sent = entries = removed = 0
    payload: dict[str, Any] = {}
    answer: dict[str, Any] = {}
    accepted: ListPlan | None = None
    for number, part in enumerate(parts, start=1):
        result = await deps.gateway.send(cbid, _command(part))
        payload, answer = result.request, result.answer
        status = str(answer.get("status"))
        progress = {"status": status, "part": number, "parts": len(parts), "total": total}
        progress["version"] = part.version if status == "Accepted" else part.version - 1
        if status != "Accepted":
            _publish(deps, cbid, station.site_id, {**progress, "sent": sent})
            break
        accepted = part
        sent += len(part.entries) + len(part.removed)
        entries += len(part.entries)
        removed += len(part.removed)
        _publish(deps, cbid, station.site_id, {**progress, "sent": sent})
    else:
        status = "Accepted"
    extra: dict[str, Any] = {
        "listVersion": accepted.version if accepted else plan.version - 1,
        "entries": entries,
        "removed": removed,
        "messages": len(parts),
        "sent": sent,
        "total": total,
        "perMessage": per_message,
    }
    if status == "Accepted":
        message = _accepted_message(plan, parts, entries, removed, per_message)
        return ActionResult(
            "SendLocalList", payload, answer, message, True, extra, "send-local-list"
        )
    message = _refused_message(plan, len(parts), number, status, limits, accepted, sent)
    return ActionResult("SendLocalList", payload, answer, message, False, extra, "send-local-list")


def _refused_message(
    plan: ListPlan,
    parts: int,
    number: int,
    status: str,
    limits: dict[str, int | None],
    accepted: ListPlan | None,
    sent: int,
) -> str:
    """What a refusal half-way (or at once) means, and what the station holds now."""
    where = (
        f"The station refused message {number} of {parts} ({status})"
        if parts > 1
        else f"The station answered {status}"
    )
    message = f"{where}: {explain_refusal(status, limits, plan.version + number - 1)}"
    if accepted is None:
        return message + " Its list is unchanged."
    what = "badges" if plan.update_type == "Full" else "changes"
    total = len(plan.entries) + len(plan.removed)
    return message + (
        f" It holds the first {sent} of {total} {what} (list version {accepted.version});"
        " send the list again to complete it."
    )


def _accepted_message(
    plan: ListPlan, parts: list[ListPlan], entries: int, removed: int, per_message: int | None
) -> str:
    version = parts[-1].version
    if len(parts) == 1:
        return (
            f"{plan.update_type} list version {version} accepted "
            f"({entries} badges sent, {removed} removed)."
        )
    return (
        f"{plan.update_type} list version {version} accepted: {entries} badges sent"
        + (f", {removed} removed" if removed else "")
        + f" in {len(parts)} messages (the station takes {per_message} per message)."
    )
