"""The daily alarm e-mail end to end against a real SMTP server (aiosmtpd on loopback):
who gets it, exactly what each recipient may see, once per day across restarts and
processes, retried while the server is down, recorded in the event log."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store, open_store
from db.schema.models import AlarmDigest, Event, User
from db.system.alarm_digests import claim_digest
from db.system.alarms import clear_alarms, raise_alarm
from db.system.settings import update_settings
from portal.mail import AlarmMailer
from tests.portal.conftest import World, password_hash, seed_world
from tests.portal.mail.smtp_server import Recorder, free_port, start_server

# 07:00 in Stockholm on 3 December is 06:00 UTC
DIGEST_DUE = dt.datetime(2026, 12, 3, 6, 0)
RAISED = dt.datetime(2026, 12, 3, 5, 30)  # 06:30 in Stockholm


class WallClock:
    """UTC "now" that moves with Trio's (mock) clock, starting at ``start``."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self.origin = trio.current_time()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=trio.current_time() - self.origin)


def environ(port: int, **extra: str) -> dict[str, str]:
    return {
        "CHARGEPORTAL_SMTP_HOST": "127.0.0.1",
        "CHARGEPORTAL_SMTP_PORT": str(port),
        "CHARGEPORTAL_SMTP_SECURITY": "none",
        "CHARGEPORTAL_SMTP_FROM": "portal@example.com",
        "CHARGEPORTAL_DIGEST_TIME": "07:00",
        "CHARGEPORTAL_PORTAL_URL": "https://portal.example",
        **extra,
    }


def seed_alarms(world: World) -> None:
    """Active: a fuse at Solna, a temperature alarm at Kista, a failed backup (no site);
    cleared this morning: Solna's No network."""
    update_settings({"system.time_zone": "Europe/Stockholm", "system.name": "Fleet"})
    User.update(email_at_alarm=True).where(
        User.id.in_([world.users["admin"], world.users["site-admin"]])
    ).execute()
    raise_alarm(
        "Fuse",
        "SOLNA-1",
        station_id=world.solna_station,
        site_id=world.solna,
        connector_id=1,
        message="fuse F2 blown",
        now=RAISED,
    )
    raise_alarm(
        "Temperature",
        "KISTA-1",
        station_id=world.kista_station,
        site_id=world.kista,
        message="hot cabinet",
        now=RAISED,
    )
    raise_alarm("Backup failed", "", message="disk full", now=RAISED)
    raise_alarm(
        "No network",
        "SOLNA-2",
        station_id=world.solna_station2,
        site_id=world.solna,
        now=RAISED - dt.timedelta(hours=3),
    )
    clear_alarms("SOLNA-2", ["No network"], now=RAISED)


@pytest.fixture(name="world")
async def _world(store: Store) -> World:
    world = await store.write(seed_world, password_hash())
    await store.write(seed_alarms, world)
    return world


@pytest.fixture(name="recorder")
def _recorder() -> Recorder:
    return Recorder()


@pytest.fixture(name="smtp_port")
def _smtp_port(recorder: Recorder) -> Iterator[int]:
    controller = start_server(recorder)
    yield controller.port
    controller.stop()


def mailer(store: Store, env: dict[str, str], now: Any, tmp_path: Path, **kw: Any) -> AlarmMailer:
    return AlarmMailer(store, key_file=str(tmp_path / "smtp.key"), environ=env, now=now, **kw)


def parts(message: Any) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


async def events(store: Store, prefix: str = "mail.") -> list[tuple[str, str, str]]:
    def query() -> list[tuple[str, str, str]]:
        rows = Event.select().where(Event.kind.startswith(prefix)).order_by(Event.id)
        return [(e.kind, e.severity, e.message) for e in rows]

    return await store.read(query)


@pytest.fixture(name="clock")
def _clock(mock_clock: Any) -> Any:
    mock_clock.autojump_threshold = 0.1  # jump only when idle: SMTP and db threads finish first
    return mock_clock


async def test_each_recipient_gets_exactly_the_alarms_he_may_see(
    store: Store, world: World, smtp_port: int, recorder: Recorder, tmp_path: Path
) -> None:
    job = mailer(store, environ(smtp_port), WallClock(DIGEST_DUE), tmp_path)
    await job.tick()
    assert sorted(m["To"] for m in recorder.messages) == [
        "admin@example.com",
        "site-admin@example.com",
    ]  # no flag: other-site-admin, ev-user, support

    [admin] = recorder.to("admin@example.com")
    assert admin["Subject"] == "Fleet: 3 active alarms, 1 cleared (2026-12-03)"
    assert admin["From"] == "portal@example.com"
    for part in parts(admin):
        for seen in ("Fuse", "SOLNA-1", "Solna one", "outlet 1", "fuse F2 blown", "Solna"):
            assert seen in part
        for seen in ("Temperature", "KISTA-1", "Kista", "hot cabinet"):
            assert seen in part
        assert "Backup failed" in part
        assert "disk full" in part
        assert "No network" in part
        assert "SOLNA-2" in part
        assert "2026-12-03 06:30" in part  # raised, in Stockholm time
        assert "https://portal.example/alarms/" in part
        assert "Europe/Stockholm" in part
    text, _ = parts(admin)
    assert "Active alarms (3):" in text
    assert "Cleared since" in text

    [site_admin] = recorder.to("site-admin@example.com")
    assert site_admin["Subject"] == "Fleet: 1 active alarm at Solna, 1 cleared (2026-12-03)"
    for part in parts(site_admin):
        assert "Fuse" in part
        assert "SOLNA-1" in part
        assert "fuse F2 blown" in part
        assert "No network" in part
        assert "SOLNA-2" in part
        for unseen in ("Kista", "KISTA", "Temperature", "hot cabinet", "Backup", "disk full"):
            assert unseen not in part
        assert "https://portal.example/alarms/" in part

    logged = await events(store)
    assert [(kind, severity) for kind, severity, _ in logged] == [("mail.sent", "info")] * 2
    assert all("250 2.0.0 Ok: queued as TEST" in message for _, _, message in logged)


async def test_nothing_is_sent_before_the_digest_time_of_the_system_zone(
    store: Store, world: World, smtp_port: int, recorder: Recorder, tmp_path: Path
) -> None:
    job = mailer(
        store, environ(smtp_port), WallClock(DIGEST_DUE - dt.timedelta(minutes=5)), tmp_path
    )
    delay = await job.tick()
    assert recorder.messages == []
    assert delay == pytest.approx(60)  # the pass interval (the due time is 300 s away)
    job = mailer(
        store, environ(smtp_port), WallClock(DIGEST_DUE - dt.timedelta(seconds=20)), tmp_path
    )
    assert await job.tick() == pytest.approx(20, abs=0.01)


async def test_one_digest_per_day_across_a_restart_and_the_next_day_lists_what_cleared_since(
    db_url: str, smtp_port: int, recorder: Recorder, tmp_path: Path
) -> None:
    async with open_store(db_url) as first:
        world = await first.write(seed_world, password_hash())
        await first.write(seed_alarms, world)
        await mailer(first, environ(smtp_port), WallClock(DIGEST_DUE), tmp_path).tick()
    assert len(recorder.messages) == 2
    later = DIGEST_DUE + dt.timedelta(hours=5)
    async with open_store(db_url) as restarted:
        await mailer(restarted, environ(smtp_port), WallClock(later), tmp_path).tick()
        assert len(recorder.messages) == 2

        await restarted.write(lambda: clear_alarms("SOLNA-1", ["Fuse"], now=later))
        next_day = DIGEST_DUE + dt.timedelta(days=1)
        await mailer(restarted, environ(smtp_port), WallClock(next_day), tmp_path).tick()
    first_one, second = recorder.to("site-admin@example.com")
    assert "2026-12-04" in second["Subject"]
    text, _ = parts(second)
    assert "No active alarms." in text
    assert "Cleared since 2026-12-03 07:00 (1):" in text  # since the previous digest
    assert "Fuse: SOLNA-1" in text
    assert "No network" not in text
    assert second["Message-ID"] != first_one["Message-ID"]


async def test_a_digest_claimed_by_a_process_that_died_is_sent_once_its_lease_runs_out(
    clock: Any, store: Store, world: World, smtp_port: int, recorder: Recorder, tmp_path: Path
) -> None:
    now = WallClock(DIGEST_DUE)
    job = mailer(store, environ(smtp_port), now, tmp_path, lease=dt.timedelta(minutes=10))
    from db.system.alarm_digests import plan_digests

    await store.write(plan_digests, "2026-12-03", now())
    died = await store.write(claim_digest, "dead-process", now(), dt.timedelta(minutes=10))
    assert died is not None
    await job.tick()
    assert len(recorder.messages) == 1  # the other recipient's
    await trio.sleep(590)
    await job.tick()
    assert len(recorder.messages) == 1  # the lease still holds
    await trio.sleep(11)
    await job.tick()
    assert sorted(m["To"] for m in recorder.messages) == [
        "admin@example.com",
        "site-admin@example.com",
    ]
    await trio.sleep(3600)
    await job.tick()
    assert len(recorder.messages) == 2


CHILD = """
import datetime as dt, json, sys
import trio
from db import open_store
from portal.mail import AlarmMailer

async def main(url, key_file, env, now):
    async with open_store(url, create=False) as store:
        job = AlarmMailer(store, key_file=key_file, environ=env, now=lambda: now)
        print("ready", flush=True)
        sys.stdin.readline()
        await job.tick()
        print(job.sent, flush=True)

url, key_file, env, now = json.loads(sys.argv[1])
trio.run(main, url, key_file, env, dt.datetime.fromisoformat(now))
"""


def run_at_once(args: str, processes: int) -> list[int]:
    """Start ``processes`` server processes, let them all tick at once; what each sent."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[3],
        )
        for _ in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
        for child in children:  # all at once
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        return [int(child.communicate(timeout=60)[0].strip()) for child in children]
    finally:
        for child in children:
            child.kill()


@pytest.mark.slow  # three Python processes start (about 10 s on a loaded machine)
async def test_three_server_processes_at_once_send_each_digest_once(
    db_url: str, world: World, smtp_port: int, recorder: Recorder, tmp_path: Path
) -> None:
    args = json.dumps([db_url, str(tmp_path / "k"), environ(smtp_port), DIGEST_DUE.isoformat()])
    sent = await trio.to_thread.run_sync(run_at_once, args, 3)
    assert sorted(m["To"] for m in recorder.messages) == [
        "admin@example.com",
        "site-admin@example.com",
    ]
    assert sum(sent) == 2


async def test_a_server_that_is_down_is_retried_with_backoff_until_it_answers(
    clock: Any, store: Store, world: World, recorder: Recorder, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there yet
    job = mailer(store, environ(port), WallClock(DIGEST_DUE), tmp_path, backoff=(30, 60, 120))
    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(job.run)
        while job.retried < 4:  # two rounds of two recipients: after 0 s and 30 s
            await job.next_outcome()
        assert 30 <= trio.current_time() - start < 60
        controller = start_server(recorder, port=port)
        try:
            while job.sent < 2:
                await job.next_outcome()
        finally:
            controller.stop()
        nursery.cancel_scope.cancel()
    assert 90 <= trio.current_time() - start < 120  # the third attempt came 60 s later
    logged = await events(store)
    retries = [message for kind, severity, message in logged if kind == "mail.retry"]
    assert len(retries) == 4
    assert all(f"cannot reach the server 127.0.0.1:{port}" in m for m in retries)
    assert "next attempt in 30 s" in retries[0]
    assert "next attempt in 60 s" in retries[-1]
    assert [kind for kind, _, _ in logged][-2:] == ["mail.sent", "mail.sent"]


async def test_a_refusal_is_recorded_as_failed_with_the_servers_words_and_not_retried(
    clock: Any, store: Store, world: World, smtp_port: int, recorder: Recorder, tmp_path: Path
) -> None:
    recorder.refuse_rcpt = "550 5.1.1 Mailbox unavailable"
    job = mailer(store, environ(smtp_port), WallClock(DIGEST_DUE), tmp_path)
    await job.tick()
    assert job.failed == 2
    assert job.retried == 0
    recorder.refuse_rcpt = ""
    await trio.sleep(3600)
    await job.tick()
    assert recorder.messages == []
    failed = [e for e in await events(store) if e[0] == "mail.failed"]
    assert len(failed) == 2
    assert all(severity == "error" for _, severity, _ in failed)
    assert any(
        "to admin@example.com not sent: recipient admin@example.com refused:"
        " 550 5.1.1 Mailbox unavailable" in message
        for _, _, message in failed
    )
    statuses = await store.read(lambda: sorted(d.status for d in AlarmDigest.select()))
    assert statuses == ["failed", "failed"]


async def test_no_e_mail_when_there_is_nothing_to_say_unless_configured(
    store: Store, smtp_port: int, recorder: Recorder, tmp_path: Path
) -> None:
    world = await store.write(seed_world, password_hash())

    def flag_the_admin() -> None:
        update_settings({"system.time_zone": "Europe/Stockholm"})
        User.update(email_at_alarm=True).where(User.id == world.users["admin"]).execute()

    await store.write(flag_the_admin)
    await mailer(store, environ(smtp_port), WallClock(DIGEST_DUE), tmp_path).tick()
    assert recorder.messages == []
    assert await store.read(lambda: [d.status for d in AlarmDigest.select()]) == ["skipped"]

    send_anyway = environ(smtp_port, CHARGEPORTAL_DIGEST_WHEN_EMPTY="send")
    next_day = DIGEST_DUE + dt.timedelta(days=1)
    await mailer(store, send_anyway, WallClock(next_day), tmp_path).tick()
    [message] = recorder.messages
    assert message["Subject"] == "Charge Portal: no active alarms (2026-12-04)"
    assert "No active alarms." in parts(message)[0]
