"""The operator's command line: provisioning, listing, and clear refusals."""

from __future__ import annotations

import pytest

from chargeportal.cli import main
from db import open_database, verify_password
from db.schema.models import Event, IdTag, Outlet, Site, Station, User


def run(capsys: pytest.CaptureFixture[str], db_url: str, *argv: str) -> tuple[int, str, str]:
    """Run the CLI with ``--db``; (exit status, stdout, stderr)."""
    args = list(argv)
    # --db belongs to the leaf command
    args.extend(["--db", db_url])
    try:
        main(args)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_init_db_creates_an_admin_with_a_printed_password(capsys, db_url) -> None:
    status, out, _ = run(capsys, db_url, "init-db")
    assert status == 0
    line = next(line for line in out.splitlines() if "administrator" in line)
    password = line.split("password ")[1].strip()
    open_database(db_url)
    admin = User.get(User.email == "admin@example.com")
    assert admin.role == "admin"
    assert verify_password(admin.password_hash, password)


def test_init_db_demo_has_three_stations_with_1_2_4_outlets(capsys, db_url) -> None:
    assert run(capsys, db_url, "init-db", "--demo")[0] == 0
    open_database(db_url)
    counts = sorted(Outlet.select().where(Outlet.station == s).count() for s in Station.select())
    assert counts == [1, 2, 4]
    assert IdTag.select().where(IdTag.user.is_null(False)).count() >= 2


def test_init_db_if_new_leaves_an_existing_database_alone(capsys, db_url) -> None:
    run(capsys, db_url, "init-db", "--demo")
    status, out, _ = run(capsys, db_url, "init-db", "--demo", "--if-new")
    assert status == 0
    assert "exists" in out
    open_database(db_url)
    assert User.select().where(User.role == "admin").count() == 1


def test_station_add_list_remove(capsys, db_url) -> None:
    status, out, _ = run(
        capsys,
        db_url,
        "station",
        "add",
        "CP042",
        "--site",
        "Kista",
        "--floor",
        "B1",
        "--outlets",
        "4",
        "--password",
        "s3cret-station-pass",
    )
    assert status == 0, out
    assert "created site Kista" in out
    status, out, _ = run(capsys, db_url, "station", "list")
    assert "CP042" in out
    assert "Kista" in out
    open_database(db_url)
    station = Station.get(Station.charge_box_id == "CP042")
    assert verify_password(station.password_hash, "s3cret-station-pass")
    assert Outlet.select().where(Outlet.station == station).count() == 4
    assert run(capsys, db_url, "station", "remove", "CP042")[0] == 0
    assert Station.get_or_none(Station.charge_box_id == "CP042") is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["station", "add", "CP1", "--outlets", "5"], "1 to 4 outlets"),
        (["station", "add", "bad id!"], "charge box id"),
        (["station", "add", "CP1", "--floor", "B1"], "needs its site"),
        (["station", "remove", "NOPE"], "no station NOPE"),
        (["user", "add", "not-an-email", "--role", "admin"], "not an e-mail"),
        (["user", "add", "a@b.se", "--role", "site-admin"], "needs a site (--site)"),
        (["user", "add", "a@b.se", "--role", "admin", "--password", "short1"], "8 characters"),
        (["user", "add", "a@b.se", "--role", "admin", "--password", "lettersonly"], "digits"),
        (["idtag", "add", "T1", "--expires", "tomorrow"], "ISO 8601"),
        (["idtag", "add", "T1", "--parent", "NOPE"], "no parent id tag"),
        (["idtag", "add", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"], "1 to 20"),
    ],
)
def test_bad_input_is_one_line_and_status_2(capsys, db_url, argv, message) -> None:
    status, _out, err = run(capsys, db_url, *argv)
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_refused_user_leaves_nothing_half_written(capsys, db_url) -> None:
    run(capsys, db_url, "idtag", "add", "1234")
    status, _, err = run(
        capsys, db_url, "user", "add", "ev@x.se", "--role", "ev-user", "--rfid", "1234"
    )
    assert status == 2
    assert "already belongs" in err
    open_database(db_url)
    assert User.get_or_none(User.email == "ev@x.se") is None


def test_user_add_stores_the_rfid_exactly_as_given_and_lists_it(capsys, db_url) -> None:
    status, out, _ = run(
        capsys, db_url, "user", "add", "Ev@Example.com", "--role", "ev-user", "--rfid", "0x1F"
    )
    assert status == 0
    assert "password " in out  # generated, shown once
    status, out, _ = run(capsys, db_url, "user", "list")
    assert "Ev@Example.com" in out  # as typed
    assert " 0x1F" in out  # the same rule as the JSON API: no conversion


def test_idtag_add_follows_the_api_rule_exactly(capsys, db_url) -> None:
    assert run(capsys, db_url, "idtag", "add", "100000C02")[0] == 0
    status, _, err = run(capsys, db_url, "idtag", "add", "X" * 21)
    assert status == 2
    assert "1 to 20 printable ASCII characters" in err
    open_database(db_url)
    assert [t.id_tag for t in IdTag.select()] == ["100000C02"]


def test_station_passwords_follow_the_api_rule_with_the_same_sentence(capsys, db_url) -> None:
    from db.accounts.passwords import STATION_PASSWORD_RULE

    assert run(capsys, db_url, "station", "add", "CP9")[0] == 0
    status, _, err = run(capsys, db_url, "station", "passwd", "CP9", "--password", "short")
    assert status == 2
    assert STATION_PASSWORD_RULE in err
    status, _, err = run(capsys, db_url, "station", "add", "CP10", "--password", "short")
    assert status == 2
    assert STATION_PASSWORD_RULE in err
    assert (
        run(capsys, db_url, "station", "passwd", "CP9", "--password", "a-long-station-secret")[0]
        == 0
    )


def test_idtag_with_parent_expiry_and_owner(capsys, db_url) -> None:
    run(capsys, db_url, "user", "add", "o@x.se", "--role", "ev-user", "--password", "abcd1234")
    assert run(capsys, db_url, "idtag", "add", "FLEET")[0] == 0
    status, _, err = run(
        capsys,
        db_url,
        "idtag",
        "add",
        "CARD7",
        "--status",
        "Blocked",
        "--expires",
        "2030-01-01T10:00:00+01:00",
        "--parent",
        "FLEET",
        "--user",
        "o@x.se",
    )
    assert status == 0, err
    open_database(db_url)
    tag = IdTag.get(IdTag.id_tag == "CARD7")
    assert tag.status == "Blocked"
    assert tag.parent.id_tag == "FLEET"
    assert tag.expiry_date.isoformat() == "2030-01-01T09:00:00"
    assert tag.user.email == "o@x.se"
    assert Site.select().count() == 0


def test_stats_rebuild_recomputes_the_chart_aggregates(capsys, db_url) -> None:
    assert run(capsys, db_url, "demo-data", "--sessions", "300", "--days", "20")[0] == 0
    database = open_database(db_url)
    total = 'SELECT SUM("sessions"), SUM("energy_wh") FROM "session_hour_site"'
    by_day = 'SELECT SUM("n0" + "n37" + "n95"), SUM("wh12"), COUNT(*) FROM "session_day_site"'
    kept, kept_days = (database.execute_sql(sql).fetchone() for sql in (total, by_day))
    database.execute_sql('DELETE FROM "session_hour_site"')  # lost, or made before the triggers
    database.execute_sql('DELETE FROM "session_day_site"')
    database.close()
    code, out, _ = run(capsys, db_url, "stats", "rebuild")
    assert code == 0
    assert "site-hours" in out
    assert "site-days" in out
    database = open_database(db_url)
    assert database.execute_sql(total).fetchone() == kept
    assert database.execute_sql(by_day).fetchone() == kept_days
    assert kept[0] > 250  # the closed, counted demo sessions
    assert kept_days[2] >= 20
    database.close()


def test_station_security_profile_is_set_on_add_and_with_station_set(capsys, db_url) -> None:
    assert run(capsys, db_url, "station", "add", "SP3", "--security-profile", "3")[0] == 0
    status, _, err = run(capsys, db_url, "station", "set", "SP3", "--security-profile", "2")
    assert status == 2
    assert "Security profile 2 needs a station password" in err
    secret = "a-long-station-secret"
    assert run(capsys, db_url, "station", "passwd", "SP3", "--password", secret)[0] == 0
    status, out, _ = run(capsys, db_url, "station", "set", "SP3", "--security-profile", "2")
    assert (status, out.strip()) == (0, "station SP3: security profile 2 (TLS + password)")
    open_database(db_url)
    assert Station.get(Station.charge_box_id == "SP3").security_profile == 2
    assert run(capsys, db_url, "station", "passwd", "SP3", "--password", "")[0] == 0
    assert Station.get(Station.charge_box_id == "SP3").security_profile == 0  # no password


def test_a_password_on_add_means_security_profile_1(capsys, db_url) -> None:
    assert (
        run(capsys, db_url, "station", "add", "SP1", "--password", "a-long-station-secret")[0] == 0
    )
    open_database(db_url)
    assert Station.get(Station.charge_box_id == "SP1").security_profile == 1


def test_station_set_logs_a_profile_change_in_the_event_log(capsys, db_url) -> None:
    """As the portal's form does: who (the command line), from, to; lowering a warning."""
    assert run(capsys, db_url, "station", "add", "SPL", "--security-profile", "3")[0] == 0
    assert run(capsys, db_url, "station", "set", "SPL", "--security-profile", "0")[0] == 0
    assert run(capsys, db_url, "station", "set", "SPL", "--security-profile", "0")[0] == 0
    open_database(db_url)
    events = [
        (e.severity, e.charge_box_id, e.message)
        for e in Event.select().where(Event.kind == "station.security").order_by(Event.id)
    ]
    assert events == [
        (
            "warning",
            "SPL",
            "security profile lowered from 3 (TLS + client certificate) to 0 (no"
            " authentication) by the command line (chargeportal station set): the gateway now"
            " accepts a weaker connection from SPL",
        )
    ]
