"""The alarm e-mail on PostgreSQL: what a site administrator's digest may hold, and three
server processes at once sending each digest once (the claim's UPDATE under row locks)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
import trio

from db import Store
from db.system.alarm_digests import claim_digest, digest_content, plan_digests
from tests.portal.conftest import World, password_hash, seed_world
from tests.portal.mail.smtp_server import Recorder, start_server
from tests.portal.mail.test_alarm_digest import DIGEST_DUE, environ, run_at_once, seed_alarms

pytestmark = pytest.mark.postgres


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


async def test_a_site_administrators_digest_holds_only_his_sites_alarms(
    store: Store, world: World
) -> None:
    content = await store.read(digest_content, world.users["site-admin"], DIGEST_DUE)
    assert [(a.kind, a.charge_box_id, a.site_name) for a in content.active] == [
        ("Fuse", "SOLNA-1", "Solna")
    ]
    assert [(a.kind, a.charge_box_id) for a in content.cleared] == [("No network", "SOLNA-2")]
    admin = await store.read(digest_content, world.users["admin"], DIGEST_DUE)
    assert sorted(a.kind for a in admin.active) == ["Backup failed", "Fuse", "Temperature"]


async def test_a_claimed_digest_is_not_claimed_again_until_its_lease_ends(
    store: Store, world: World
) -> None:
    lease = dt.timedelta(minutes=10)
    assert await store.write(plan_digests, "2026-12-03", DIGEST_DUE) == 2
    assert await store.write(plan_digests, "2026-12-03", DIGEST_DUE) == 0
    first = await store.write(claim_digest, "a", DIGEST_DUE, lease)
    second = await store.write(claim_digest, "b", DIGEST_DUE, lease)
    assert first is not None
    assert second is not None
    assert first.id != second.id
    assert await store.write(claim_digest, "c", DIGEST_DUE, lease) is None
    later = DIGEST_DUE + lease + dt.timedelta(seconds=1)
    again = await store.write(claim_digest, "c", later, lease)
    assert again is not None


@pytest.mark.slow  # three Python processes start
async def test_three_server_processes_at_once_send_each_digest_once(
    db_url: str, world: World, smtp_port: int, recorder: Recorder
) -> None:
    args = json.dumps([db_url, "/nonexistent/key", environ(smtp_port), DIGEST_DUE.isoformat()])
    sent = await trio.to_thread.run_sync(run_at_once, args, 3)
    assert sorted(m["To"] for m in recorder.messages) == [
        "admin@example.com",
        "site-admin@example.com",
    ]
    assert sum(sent) == 2
