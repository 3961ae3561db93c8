"""The local authorization list of a station (SendLocalList): what it should hold, what it holds.

Which tags a station's list holds (the rule):

* every id tag the central system knows, with the status an Authorize would get now
  (``db.ocpp.authorization.tag_authorization``: Accepted, Blocked, Expired, Invalid by the
  tag's own status, expiry and parent) — so a station offline decides as the portal
  would online, and a blocked badge is refused offline too;
* except tags of users bound to *another* site (site administrators of other sites:
  SPEC §2 says nothing of another site concerns them).

Tags of EV users, administrators and support users (no site) and unassigned badges are
system-wide, exactly as online authorization treats them. A differential update sends
what changed since the list last accepted by the station (``LocalListEntry``) and
removes what is gone; the version is the station's last accepted version + 1.

A station takes at most ``SendLocalListMaxLength`` entries per message and holds at most
``LocalAuthListMaxLength``: ``split_plan`` cuts a plan into messages within the first (a
Full update, then Differential ones; removals before additions so the list never grows
past its final size), each with the next version, each recorded when accepted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import JOIN

from db.config_errors import ConfigurationError
from db.ocpp.authorization import status_now
from db.schema.models import ConfigurationKey, IdTag, LocalListEntry, Station, User, utcnow
from db.topology.nodes import get_station

_to_datetime = IdTag.expiry_date.python_value  # SQLite hands back text, PostgreSQL datetimes


@dataclass(frozen=True)
class ListEntry:
    id_tag: str
    status: str
    expiry_date: dt.datetime | None = None
    parent_id_tag: str = ""


@dataclass(frozen=True)
class ListPlan:
    """What a SendLocalList will carry: the version, the entries to send, the tags to drop."""

    station_id: int
    charge_box_id: str
    update_type: str  # Full | Differential
    version: int
    entries: tuple[ListEntry, ...]
    removed: tuple[str, ...]
    wanted: tuple[ListEntry, ...]


def wanted_entries(
    station_id: int, *, now: dt.datetime | None = None, accepted_first: int | None = None
) -> dict[str, ListEntry]:
    """The list the station should hold now, by the rule above: one query for every tag
    and its parent (100,000 badges in well under a second). ``accepted_first``: only up
    to that many tags whose own status is Accepted (a hint list, not a download)."""
    station = get_station(station_id)
    now = now or utcnow()
    other_site_users = User.select(User.id).where(
        User.site.is_null(False) & (User.site != station.site_id)
        if station.site_id is not None
        else User.site.is_null(False)
    )
    parent = IdTag.alias("parent")
    query = (
        IdTag.select(
            IdTag.id_tag,
            IdTag.status,
            IdTag.expiry_date,
            parent.id_tag.alias("parent_tag"),
            parent.status.alias("parent_status"),
            parent.expiry_date.alias("parent_expiry"),
        )
        .join(parent, JOIN.LEFT_OUTER, on=(IdTag.parent == parent.id))
        .where(IdTag.user.is_null() | IdTag.user.not_in(other_site_users))
        .order_by(IdTag.id_tag)
    )
    if accepted_first is not None:
        query = query.where(IdTag.status == "Accepted").limit(accepted_first)
    result = {}
    for row in query.dicts().iterator():
        expiry = _to_datetime(row["expiry_date"])
        parent_expiry = _to_datetime(row["parent_expiry"])
        status = status_now(
            row["status"], expiry, row["parent_tag"], row["parent_status"], parent_expiry, now
        )
        # what Authorize answers: the tag's own expiry, the parent's id tag
        result[row["id_tag"]] = ListEntry(row["id_tag"], status, expiry, row["parent_tag"] or "")
    return result


def sent_entries(station_id: int) -> dict[str, ListEntry]:
    """The list the station last accepted."""
    return {
        row.id_tag: ListEntry(row.id_tag, row.status, row.expiry_date, row.parent_id_tag)
        for row in LocalListEntry.select().where(LocalListEntry.station == station_id)
    }


def diff_entries(
    previous: dict[str, ListEntry], wanted: dict[str, ListEntry]
) -> tuple[list[ListEntry], list[str]]:
    """(entries new or changed, tags to remove) turning ``previous`` into ``wanted``."""
    changed = [entry for tag, entry in sorted(wanted.items()) if previous.get(tag) != entry]
    removed = sorted(set(previous) - set(wanted))
    return changed, removed


SEND_MAX_KEY = "SendLocalListMaxLength"
LIST_MAX_KEY = "LocalAuthListMaxLength"


def positive_int(value: object) -> int | None:
    """A configuration value as a positive whole number (None: unknown or nonsense)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 else None


def _key_value(station_id: int, key: str) -> int | None:
    row = ConfigurationKey.get_or_none(
        (ConfigurationKey.station == station_id) & (ConfigurationKey.key == key)
    )
    return positive_int(row.value) if row is not None and row.value is not None else None


def list_limits(station_id: int) -> dict[str, int | None]:
    """The station's two list limits as last read from it (None: never read)."""
    return {key: _key_value(station_id, key) for key in (SEND_MAX_KEY, LIST_MAX_KEY)}


def plan_local_list(
    station_id: int, update_type: str = "Full", list_max: int | None = None
) -> ListPlan:
    """What to send to bring the station's list up to date (full or differential);
    ``list_max``: the station's LocalAuthListMaxLength (None: the stored key, if any)."""
    if update_type not in ("Full", "Differential"):
        raise ConfigurationError("The update is Full or Differential.", field="update_type")
    station = get_station(station_id)
    wanted = wanted_entries(station_id)
    limit = list_max if list_max is not None else _key_value(station_id, LIST_MAX_KEY)
    if limit is not None and len(wanted) > limit:
        raise ConfigurationError(
            f"{len(wanted)} badges do not fit the station's list (LocalAuthListMaxLength "
            f"{limit}): nothing was sent. Block or remove badges the station need not know."
        )
    if update_type == "Full":
        entries, removed = list(wanted.values()), list[str]()
    else:
        entries, removed = diff_entries(sent_entries(station_id), wanted)
    return ListPlan(
        station_id=station.id,
        charge_box_id=station.charge_box_id,
        update_type=update_type,
        version=int(station.local_list_version or 0) + 1,
        entries=tuple(entries),
        removed=tuple(removed),
        wanted=tuple(wanted.values()),
    )


def split_plan(plan: ListPlan, per_message: int | None) -> list[ListPlan]:
    """``plan`` as messages of at most ``per_message`` entries (None: one message).

    A Full plan becomes a Full message with the first entries, then Differential ones
    adding the rest; a Differential plan sends its removals first. Versions follow on.
    """
    items: list[ListEntry | str] = [*plan.removed, *plan.entries]
    if per_message is None or len(items) <= per_message:
        return [plan]
    parts = []
    for index, start in enumerate(range(0, len(items), per_message)):
        chunk = items[start : start + per_message]
        parts.append(
            ListPlan(
                station_id=plan.station_id,
                charge_box_id=plan.charge_box_id,
                update_type=plan.update_type if index == 0 else "Differential",
                version=plan.version + index,
                entries=tuple(e for e in chunk if isinstance(e, ListEntry)),
                removed=tuple(e for e in chunk if isinstance(e, str)),
                wanted=plan.wanted,
            )
        )
    return parts


def record_accepted(plan: ListPlan) -> None:
    """The station accepted ``plan``: remember its list and version."""
    station = get_station(plan.station_id)
    if plan.update_type == "Full":
        LocalListEntry.delete().where(LocalListEntry.station == station).execute()
        keep = {e.id_tag: e for e in plan.entries}
    else:
        keep = sent_entries(station.id)
        for tag in plan.removed:
            keep.pop(tag, None)
        keep.update({e.id_tag: e for e in plan.entries})
        LocalListEntry.delete().where(LocalListEntry.station == station).execute()
    if keep:
        LocalListEntry.insert_many(
            [
                {
                    "station": station.id,
                    "id_tag": e.id_tag,
                    "status": e.status,
                    "expiry_date": e.expiry_date,
                    "parent_id_tag": e.parent_id_tag,
                }
                for e in keep.values()
            ]
        ).execute()
    station.local_list_version = plan.version
    station.save(only=[Station.local_list_version])


def set_known_version(station_id: int, version: int) -> None:
    """A GetLocalListVersion answer: keep the station's own version (-1/0: no list)."""
    station = get_station(station_id)
    station.local_list_version = max(0, version)
    station.save(only=[Station.local_list_version])
    if version <= 0:
        LocalListEntry.delete().where(LocalListEntry.station == station).execute()
