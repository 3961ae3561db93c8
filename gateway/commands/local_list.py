"""OCPP 1.6 Local Auth List Management: send the list, ask for its version."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Self

from db.errors import Invalid
from db.ocpp.local_list import (
    ListEntry,
    ListPlan,
    plan_local_list,
    record_accepted,
    set_known_version,
)
from gateway.commands.base import Command, Outcome, Prepare, Target, describe, iso, parse_time
from gateway.commands.core import one_of

__all__ = ["GetLocalListVersion", "SendLocalList"]


def _wire_entry(entry: ListEntry) -> dict[str, Any]:
    info: dict[str, Any] = {"status": entry.status}
    if entry.expiry_date is not None:
        info["expiryDate"] = iso(entry.expiry_date)
    if entry.parent_id_tag:
        info["parentIdTag"] = entry.parent_id_tag
    return {"idTag": entry.id_tag, "idTagInfo": info}


def _entry(item: Any) -> ListEntry | str:
    """A wire list item: an entry, or (without idTagInfo) the tag to remove."""
    if not isinstance(item, dict) or not isinstance(item.get("idTag"), str):
        raise Invalid("Each list item has an idTag.", field="localAuthorizationList")
    info = item.get("idTagInfo")
    if info is None:
        return str(item["idTag"])
    if not isinstance(info, dict) or "status" not in info:
        raise Invalid("idTagInfo has a status.", field="localAuthorizationList")
    expiry = info.get("expiryDate")
    return ListEntry(
        item["idTag"],
        str(info["status"]),
        parse_time(expiry, "expiryDate") if expiry is not None else None,
        str(info.get("parentIdTag") or ""),
    )


@dataclass(frozen=True)
class SendLocalList(Command):
    """Without entries the list is planned from the database (``db.ocpp.local_list``): a Full
    list, or the Differential since the list the station last accepted. Accepted: the
    station's list and version are remembered."""

    action = "SendLocalList"
    update_type: str = "Full"
    list_version: int | None = None
    entries: tuple[ListEntry, ...] | None = None
    removed: tuple[str, ...] = ()

    def check(self) -> None:
        one_of(self.update_type, ("Full", "Differential"), "updateType")
        if self.list_version is not None and self.list_version < 1:
            raise Invalid("listVersion is at least 1.", field="listVersion")

    async def prepare(self, ctx: Prepare) -> Self:
        if self.entries is not None and self.list_version is not None:
            return self
        plan = await ctx.read(plan_local_list, ctx.target.station_id, self.update_type)
        return dataclasses.replace(
            self,
            list_version=self.list_version or plan.version,
            entries=plan.entries if self.entries is None else self.entries,
            removed=plan.removed if self.entries is None else self.removed,
        )

    def ocpp16(self) -> dict[str, Any]:
        items = [_wire_entry(e) for e in self.entries or ()]
        items.extend({"idTag": tag} for tag in self.removed)
        return {
            "listVersion": self.list_version,
            "updateType": self.update_type,
            "localAuthorizationList": items,
        }

    @classmethod
    def from_ocpp(cls, payload: dict[str, Any]) -> Self:
        unknown = set(payload) - {"listVersion", "updateType", "localAuthorizationList"}
        if unknown:
            raise Invalid(f"SendLocalList has no field {min(unknown)}.", field=min(unknown))
        items = [_entry(item) for item in payload.get("localAuthorizationList") or []]
        version = payload.get("listVersion")
        if not isinstance(version, int):
            raise Invalid("listVersion is a whole number.", field="listVersion")
        return cls(
            update_type=str(payload.get("updateType", "")),
            list_version=version,
            entries=tuple(i for i in items if isinstance(i, ListEntry)),
            removed=tuple(i for i in items if isinstance(i, str)),
        )

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        status = answer.get("status")
        entries, removed = self.entries or (), self.removed
        extra = {"listVersion": self.list_version, "entries": len(entries), "removed": len(removed)}
        if status == "Accepted":
            assert self.list_version is not None
            plan = ListPlan(
                target.station_id,
                target.charge_box_id,
                self.update_type,
                self.list_version,
                tuple(entries),
                tuple(removed),
                (),
            )
            record_accepted(plan)
            message = (
                f"{self.update_type} list version {self.list_version} accepted "
                f"({len(entries)} badges sent, {len(removed)} removed)."
            )
            return Outcome(message, True, extra)
        outcome = describe(answer)
        message = outcome.message + (" Send a full list." if status == "VersionMismatch" else "")
        return Outcome(message, False, extra)


@dataclass(frozen=True)
class GetLocalListVersion(Command):
    """The station's list version is remembered (-1 and 0: no list, its entries forgotten)."""

    action = "GetLocalListVersion"

    def apply(self, target: Target, answer: dict[str, Any]) -> Outcome:
        version = int(answer.get("listVersion", 0))
        set_known_version(target.station_id, version)
        return Outcome(f"The station's list version is {version}.", True, {"listVersion": version})
