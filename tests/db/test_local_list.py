"""The local authorization list: which tags, full vs differential, versions."""

from __future__ import annotations

import datetime as dt

import pytest

from db import Store
from db.config_errors import ConfigurationError
from db.ocpp.local_list import (
    ListEntry,
    ListPlan,
    diff_entries,
    plan_local_list,
    record_accepted,
    split_plan,
)
from db.schema.models import ConfigurationKey, IdTag, Station, User, utcnow
from db.topology.nodes import create_site, create_station


async def _setup(store: Store) -> int:
    def build() -> int:
        solna = create_site("Solna")
        kista = create_site("Kista")
        station = create_station("CP1", site_id=solna)
        ev = User.create(email="ev@x.se", role="ev-user")
        own_admin = User.create(email="sa@x.se", role="site-admin", site=solna)
        other_admin = User.create(email="other@x.se", role="site-admin", site=kista)
        IdTag.create(id_tag="1001", user=ev)
        IdTag.create(id_tag="1002", user=own_admin)
        IdTag.create(id_tag="1003", user=other_admin)
        IdTag.create(id_tag="1004", status="Blocked")
        IdTag.create(id_tag="1005", expiry_date=utcnow() - dt.timedelta(days=1))
        return station

    return await store.write(build)


async def test_full_list_holds_every_tag_except_other_sites_admins(store: Store) -> None:
    station = await _setup(store)
    plan = await store.read(plan_local_list, station, "Full")
    statuses = {e.id_tag: e.status for e in plan.entries}
    assert statuses == {
        "1001": "Accepted",
        "1002": "Accepted",
        "1004": "Blocked",
        "1005": "Expired",
    }
    assert plan.version == 1
    assert plan.removed == ()


async def test_differential_sends_only_changes_and_removals(store: Store) -> None:
    station = await _setup(store)
    await store.write(record_accepted, await store.read(plan_local_list, station, "Full"))
    assert await store.read(lambda: Station.get_by_id(station).local_list_version) == 1

    def change() -> None:
        IdTag.update(status="Blocked").where(IdTag.id_tag == "1001").execute()
        IdTag.delete().where(IdTag.id_tag == "1002").execute()
        IdTag.create(id_tag="1006")

    await store.write(change)
    plan = await store.read(plan_local_list, station, "Differential")
    assert [(e.id_tag, e.status) for e in plan.entries] == [
        ("1001", "Blocked"),
        ("1006", "Accepted"),
    ]
    assert plan.removed == ("1002",)
    assert plan.version == 2
    await store.write(record_accepted, plan)
    again = await store.read(plan_local_list, station, "Differential")
    assert (again.entries, again.removed, again.version) == ((), (), 3)


def test_diff_of_identical_lists_is_empty() -> None:
    entries = {"1": ListEntry("1", "Accepted")}
    assert diff_entries(entries, dict(entries)) == ([], [])
    assert diff_entries({}, entries) == ([ListEntry("1", "Accepted")], [])


async def test_a_list_longer_than_the_station_takes_is_refused(store: Store) -> None:
    station = await _setup(store)
    await store.write(
        lambda: ConfigurationKey.create(station=station, key="LocalAuthListMaxLength", value="2")
    )
    with pytest.raises(ConfigurationError, match="LocalAuthListMaxLength 2"):
        await store.read(plan_local_list, station, "Full")


def test_a_long_differential_goes_in_messages_removals_first() -> None:
    plan = ListPlan(
        station_id=1,
        charge_box_id="CP1",
        update_type="Differential",
        version=5,
        entries=tuple(ListEntry(str(n), "Accepted") for n in range(3)),
        removed=("9", "8"),
        wanted=(),
    )
    parts = split_plan(plan, 2)
    assert [(p.update_type, p.version) for p in parts] == [
        ("Differential", 5),
        ("Differential", 6),
        ("Differential", 7),
    ]
    assert [p.removed for p in parts] == [("9", "8"), (), ()]
    assert [len(p.entries) for p in parts] == [0, 2, 1]
    assert split_plan(plan, None) == [plan]
    assert split_plan(plan, 5) == [plan]


def test_a_long_full_list_is_a_full_message_then_differential_ones() -> None:
    entries = tuple(ListEntry(str(n), "Accepted") for n in range(179))
    plan = ListPlan(1, "CP1", "Full", 1, entries, (), entries)
    parts = split_plan(plan, 100)
    assert [(p.update_type, p.version, len(p.entries)) for p in parts] == [
        ("Full", 1, 100),
        ("Differential", 2, 79),
    ]
