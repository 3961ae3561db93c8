"""A small, hand-checked set of sessions shared by the db and portal statistics tests.

Sites Solna (floor F1 with station CP-A1, street station CP-A2) and Kista (CP-B1);
EV users alice (tag 1001) and bob (tag 2002); a site administrator of Solna.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from db.schema.models import (
    ChargingSession,
    Floor,
    IdTag,
    MeterSample,
    OcppMessage,
    Outlet,
    Site,
    Station,
    User,
)

NOW = dt.datetime(2026, 3, 21, 12, 0, 0)


@dataclass
class Dataset:
    ids: dict[str, int] = field(default_factory=dict)  # session name -> id
    sites: dict[str, int] = field(default_factory=dict)
    stations: dict[str, int] = field(default_factory=dict)
    outlets: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    floor: int = 0


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


#: name, start, end (None = running), energy Wh, station, connector, user, tag
SESSIONS = [
    ("s1", "2026-03-16 08:00:00", "2026-03-16 09:30:00", 10_000, "CP-A1", 1, "alice", "1001"),
    ("s2", "2026-03-16 10:00:00", "2026-03-16 10:06:04", 1_500, "CP-A1", 2, None, ""),
    ("s3", "2026-03-17 15:38:36", "2026-03-17 17:11:37", 4_800, "CP-A2", 1, "bob", "2002"),
    ("s4", "2026-03-18 09:28:31", "2026-03-18 14:45:21", 16_400, "CP-B1", 1, "alice", "1001"),
    ("s5", "2026-03-19 20:00:00", "2026-03-20 06:00:00", 46_500, "CP-B1", 1, None, ""),
    # tag 2002 presented, the session not attributed to a user: bob sees it through his tag
    ("s6", "2026-03-20 12:00:00", "2026-03-20 13:00:00", 7_000, "CP-A1", 1, None, "2002"),
    ("s7", "2026-03-21 11:00:00", None, 2_500, "CP-A2", 1, "alice", "1001"),
    ("s8", "2026-03-16 08:00:00", "2026-03-16 08:30:00", 2_000, "CP-B1", 1, None, ""),
]


def build_dataset() -> Dataset:
    """Create the dataset (call inside a worker thread / ``store.write``)."""
    data = Dataset()
    solna = Site.create(name="Solna")
    kista = Site.create(name="Kista")
    data.sites = {"Solna": solna.id, "Kista": kista.id}
    floor = Floor.create(site=solna, name="F1")
    data.floor = floor.id
    stations = {
        "CP-A1": Station.create(
            charge_box_id="CP-A1", name="Solna Garage 1", site=solna, floor=floor
        ),
        "CP-A2": Station.create(charge_box_id="CP-A2", name="Solna Street", site=solna),
        "CP-B1": Station.create(charge_box_id="CP-B1", name="Kista Plaza", site=kista),
    }
    data.stations = {k: v.id for k, v in stations.items()}
    for cbid, connectors in (("CP-A1", (1, 2)), ("CP-A2", (1,)), ("CP-B1", (1,))):
        for c in connectors:
            data.outlets[f"{cbid}/{c}"] = Outlet.create(station=stations[cbid], connector_id=c).id
    alice = User.create(email="alice@example.com", role="ev-user")
    bob = User.create(email="bob@example.com", role="ev-user")
    sam = User.create(email="sam@example.com", role="site-admin", site=solna)
    data.users = {"alice": alice.id, "bob": bob.id, "sam": sam.id}
    IdTag.create(id_tag="1001", user=alice)
    IdTag.create(id_tag="2002", user=bob)
    meter = 1000
    for name, start, end, energy, cbid, connector, user, tag in SESSIONS:
        station = stations[cbid]
        session = ChargingSession.create(
            station=station,
            charge_box_id=cbid,
            station_name=station.name,
            site=station.site_id,
            site_name="Solna" if station.site_id == solna.id else "Kista",
            outlet=data.outlets[f"{cbid}/{connector}"],
            connector_id=connector,
            id_tag=tag,
            user=data.users[user] if user else None,
            user_email=f"{user}@example.com" if user else "",
            authentication=1 if tag else 0,
            start_time=t(start),
            end_time=t(end) if end else None,
            meter_start=meter,
            meter_stop=meter + energy if end else None,
            meter_last=meter + energy,
            energy_wh=energy if end else 0,
            server_date=t(start) + dt.timedelta(seconds=1),
        )
        data.ids[name] = session.id
        meter += energy + 100
    s7 = data.ids["s7"]
    for minute, value, power in ((0, 0, 0), (30, 1200, 2400), (60, 2500, 2600)):
        stamp = t("2026-03-21 11:00:00") + dt.timedelta(minutes=minute)
        MeterSample.create(
            session=s7,
            station=stations["CP-A2"],
            connector_id=1,
            timestamp=stamp,
            value=str(ChargingSession.get_by_id(s7).meter_start + value),
        )
        MeterSample.create(
            session=s7,
            station=stations["CP-A2"],
            connector_id=1,
            timestamp=stamp,
            measurand="Power.Active.Import",
            unit="W",
            value=str(power),
        )
    OcppMessage.create(
        station=stations["CP-A2"],
        charge_box_id="CP-A2",
        session=s7,
        received_at=t("2026-03-21 11:00:01"),
        direction="in",
        action="StartTransaction",
        unique_id="u-1",
        payload='{"connectorId": 1, "idTag": "1001"}',
    )
    return data
