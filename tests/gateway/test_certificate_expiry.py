"""A "Certificate expiring" alarm 30 days before a station's client certificate expires."""

from __future__ import annotations

import datetime as dt

from db import Store
from db.schema.models import Alarm, Station, utcnow
from gateway import Gateway
from tests.gateway.conftest import add_station


async def _expiring(store: Store, cbid: str, days: float | None) -> None:
    when = None if days is None else utcnow() + dt.timedelta(days=days)

    def unit() -> None:
        station_id = Station.get_or_none(Station.charge_box_id == cbid)
        if station_id is None:
            add_station(cbid)
        Station.update(certificate_subject=f"CN={cbid}", certificate_expires_at=when).where(
            Station.charge_box_id == cbid
        ).execute()

    await store.write(unit)


async def _alarms(store: Store) -> dict[str, tuple[str, int, bool]]:
    def unit() -> dict[str, tuple[str, int, bool]]:
        rows = Alarm.select().where(Alarm.kind == "Certificate expiring")
        return {a.charge_box_id: (a.message, a.count, a.cleared_at is None) for a in rows}

    return await store.read(unit)


async def test_stations_whose_certificate_expires_within_30_days_raise_one_alarm(
    gateway: Gateway, store: Store
) -> None:
    # 10.25, not on a rounding edge: the gateway's own periodic check may have taken its "now"
    # a moment before these rows were written
    for cbid, days in (("SOON", 10.25), ("LATER", 100), ("GONE", -2), ("NONE", None)):
        await _expiring(store, cbid, days)
    await gateway.certificates.check()
    await gateway.certificates.check()  # again: no second alarm, no count
    alarms = await _alarms(store)
    assert sorted(alarms) == ["GONE", "SOON"]
    assert alarms["SOON"][0].startswith("the client certificate expires on ")
    assert alarms["SOON"][0].endswith("(in 10 days): have the station request a new one")
    assert alarms["GONE"][0].startswith("the client certificate expired on ")
    assert {a[1] for a in alarms.values()} == {1}
    await _expiring(store, "SOON", 400)  # renewed
    await gateway.certificates.check()
    alarms = await _alarms(store)
    assert (alarms["SOON"][2], alarms["GONE"][2]) == (False, True)  # cleared, still active
