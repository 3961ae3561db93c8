"""Issue 12's queries on PostgreSQL: badge pages by keyset and search, a site's charging
users, the local list in one query, alarm acknowledgement and Not registered."""

from __future__ import annotations

import datetime as dt

from db import Store
from db.accounts.accounts import get_user_by_email, list_users, same_email, visitors_since
from db.accounts.id_tags import page_id_tags
from db.ocpp.local_list import wanted_entries
from db.schema.models import Alarm, ChargingSession, IdTag, Station, User, utcnow
from db.system.alarm_actions import acknowledge_alarm, check_registrations, clear_by_hand
from db.system.alarms import raise_alarm
from db.topology.nodes import create_site, create_station


def _world() -> dict[str, int]:
    solna, kista = create_site("Solna"), create_site("Kista")
    station = create_station("CP1", site_id=solna)
    owner = User.create(email="Owner@Example.com", role="ev-user")
    User.create(email="kista@example.com", role="ev-user", site=kista)
    parent = IdTag.create(id_tag="PARENT", status="Blocked")
    IdTag.insert_many([{"id_tag": f"{n:04d}"} for n in range(120)]).execute()
    IdTag.update(user=owner, parent=parent).where(IdTag.id_tag == "0042").execute()
    start = utcnow() - dt.timedelta(days=3)
    ChargingSession.create(
        charge_box_id="CP1",
        site=solna,
        connector_id=1,
        user=owner,
        start_time=start,
        meter_start=0,
    )
    Station.update(created_at=utcnow() - dt.timedelta(days=2)).where(
        Station.id == station
    ).execute()
    return {"solna": solna, "station": station}


async def test_badges_users_list_and_alarms_on_postgres(store: Store) -> None:
    ids = await store.write(_world)
    first = await store.read(lambda: page_id_tags(None, limit=50))
    assert (len(first.rows), first.total, first.has_next) == (50, 121, True)
    second = await store.read(lambda: page_id_tags(None, after=first.last or "", limit=50))
    assert second.rows[0]["idTag"] > (first.last or "")
    back = await store.read(lambda: page_id_tags(None, before=second.first or "", limit=50))
    assert [r["idTag"] for r in back.rows] == [r["idTag"] for r in first.rows]
    found = await store.read(lambda: page_id_tags(None, q="owner@example"))
    assert [r["idTag"] for r in found.rows] == ["0042"]  # e-mail, case-insensitive

    rows, _ = await store.read(
        lambda: list_users(ids["solna"], visitors_since=visitors_since(), limit=50)
    )
    assert [(r.email, r.visitor) for r in rows] == [("Owner@Example.com", True)]

    wanted = await store.read(wanted_entries, ids["station"])
    assert wanted["0042"].status == "Blocked"  # the parent's status
    assert wanted["0001"].status == "Accepted"

    changes = await store.write(lambda: check_registrations(set()))
    assert [(cbid, c.raised) for cbid, _, c in changes] == [("CP1", True)]
    alarm_id = changes[0][2].alarm_id
    await store.write(lambda: acknowledge_alarm(alarm_id, by="a@example.com", comment="hm"))
    stranger = await store.write(lambda: raise_alarm("Not registered", "STRANGER").alarm_id)
    await store.write(lambda: clear_by_hand(stranger, by="a@example.com"))
    cleared = await store.write(lambda: check_registrations({"CP1"}))
    assert [(cbid, c.raised) for cbid, _, c in cleared] == [("CP1", False)]
    states = await store.read(
        lambda: {(a.charge_box_id, a.cleared_at is None, a.ack_comment) for a in Alarm.select()}
    )
    assert states == {("CP1", False, "hm"), ("STRANGER", False, "")}


def _login_plan() -> str:
    database = User._meta.database
    sql, params = User.select().where(same_email("OWNER@example.com")).sql()
    with database.atomic():  # a few rows: the planner would rather scan, unless told not to
        database.execute_sql("SET LOCAL enable_seqscan = off")
        rows = database.execute_sql(f"EXPLAIN {sql}", params).fetchall()
    return " | ".join(row[0] for row in rows)


async def test_login_ignores_case_and_can_use_the_lower_email_index(store: Store) -> None:
    await store.write(_world)
    found = await store.read(get_user_by_email, "owner@EXAMPLE.com")
    assert found is not None
    assert found.email == "Owner@Example.com"
    assert "user_email_lower" in await store.write(_login_plan)
