"""What the gateway reads about connecting stations: one query for many."""

from __future__ import annotations

from pathlib import Path

from db import migrate, open_database
from db.ocpp.ocpp_records import find_station, find_stations
from db.schema.models import Site, Station


def test_find_stations_answers_in_the_order_asked_with_none_for_unknown(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/f.sqlite3")
    migrate(database)
    Station.create(charge_box_id="CP1", site=Site.create(name="Solna"))
    Station.create(charge_box_id="CP2", password_hash="$argon2id$x")
    found = find_stations(["CP2", "NOPE", "CP1", "CP2"])
    assert [r.charge_box_id if r else None for r in found] == ["CP2", None, "CP1", "CP2"]
    assert found[2] is not None
    assert found[2].site_name == "Solna"
    assert found[0] is not None
    assert found[0].password_hash == "$argon2id$x"
    assert find_station("NOPE") is None
    many = find_stations([f"X{i}" for i in range(1200)] + ["CP1"])  # more than one query
    assert many[-1] is not None
    assert many[:-1] == [None] * 1200
    database.close()
