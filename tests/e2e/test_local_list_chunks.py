"""Download RFID badges: a list longer than one SendLocalList goes in chunks within the
station's limits, with progress, and each refusal is explained in words (issue 12, fix 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from db import Store
from db.errors import Conflict
from db.schema.models import IdTag, Station
from tests.e2e.config_rig import Rig, open_rig, seed, wait_until_async


async def _imported(rig: Rig) -> None:
    """Wait for the gateway's import of the station's configuration (first boot)."""
    from db.ocpp.config_keys import key_value

    await wait_until_async(lambda: rig.store.read(key_value, "SIM-1", "SendLocalListMaxLength"))


def _badges(count: int) -> None:
    """``count`` badges in all (1001 from the seed included)."""
    IdTag.insert_many([{"id_tag": str(2000 + n)} for n in range(count - 1)]).execute()


async def test_179_badges_reach_a_station_that_takes_100_per_message(
    store: Store, tmp_path: Path
) -> None:
    ids = await store.write(seed)
    await store.write(_badges, 179)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1")  # SendLocalListMaxLength 100 (simulator)
            await _imported(rig)
            progress = []
            async with rig.gateway.events.subscribe() as events:
                result = await rig.act("SIM-1", "send-local-list", updateType="Full")
                while True:
                    with trio.move_on_after(0.2):
                        event = await events.receive()
                        if event.kind == "locallist.progress":
                            progress.append(event.data)
                        continue
                    break
            assert result.ok, result.message
            assert len(station.local_auth.local_list) == 179
            assert station.local_auth.version == 2
            assert result.extra["listVersion"] == 2
            assert result.extra["messages"] == 2
            assert "179 badges" in result.message
            assert "2 messages" in result.message
            assert [(p["sent"], p["total"]) for p in progress] == [(100, 179), (179, 179)]
            stored = await store.read(lambda: Station.get_by_id(ids["SIM-1"]).local_list_version)
            assert stored == 2

            # one badge blocked, one gone: a Differential brings only the change
            await store.write(
                lambda: IdTag.update(status="Blocked").where(IdTag.id_tag == "2005").execute()
            )
            await store.write(lambda: IdTag.delete().where(IdTag.id_tag == "2006").execute())
            diff = await rig.act("SIM-1", "send-local-list", updateType="Differential")
            assert diff.ok, diff.message
            assert station.local_auth.version == 3
            assert len(station.local_auth.local_list) == 178
            assert station.local_auth.local_list["2005"]["status"] == "Blocked"


async def test_a_list_longer_than_the_station_holds_is_not_sent(
    store: Store, tmp_path: Path
) -> None:
    await store.write(seed)
    await store.write(_badges, 179)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1", config={"LocalAuthListMaxLength": "150"})
            await _imported(rig)
            with pytest.raises(Conflict) as refused:
                await rig.act("SIM-1", "send-local-list", updateType="Full")
            assert "179 badges" in refused.value.message
            assert "150" in refused.value.message
            assert station.local_auth.version == 0


async def test_the_limits_are_asked_of_the_station_when_unknown(
    store: Store, tmp_path: Path
) -> None:
    """The gateway had not imported the configuration: the portal reads the two keys."""
    await store.write(seed)
    await store.write(_badges, 60)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1", config={"SendLocalListMaxLength": "25"})
            await _imported(rig)
            from db.schema.models import ConfigurationKey

            await store.write(lambda: ConfigurationKey.delete().execute())
            result = await rig.act("SIM-1", "send-local-list", updateType="Full")
            assert result.ok, result.message
            assert result.extra["messages"] == 3
            assert len(station.local_auth.local_list) == 60


async def test_a_station_without_a_local_list_is_explained(store: Store, tmp_path: Path) -> None:
    await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            await rig.station("SIM-1", config={"LocalAuthListEnabled": "false"})
            result = await rig.act("SIM-1", "send-local-list", updateType="Full")
            assert not result.ok
            assert result.answer == {"status": "NotSupported"}
            assert "no local authorization list" in result.message
            assert "LocalAuthListEnabled" in result.message


async def test_a_version_mismatch_says_to_send_a_full_list(store: Store, tmp_path: Path) -> None:
    await store.write(seed)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1")
            first = await rig.act("SIM-1", "send-local-list", updateType="Full")
            assert first.ok
            station.local_auth.version = 7  # changed by someone else (another system)
            await store.write(lambda: IdTag.create(id_tag="1007"))
            diff = await rig.act("SIM-1", "send-local-list", updateType="Differential")
            assert not diff.ok
            assert diff.answer == {"status": "VersionMismatch"}
            assert "Send a Full update" in diff.message
            assert "version" in diff.message
            full = await rig.act("SIM-1", "send-local-list", updateType="Full")
            assert full.ok, full.message
            assert set(station.local_auth.local_list) == {"1001", "1007"}


async def test_a_failed_chunk_says_what_the_station_holds(store: Store, tmp_path: Path) -> None:
    """The station refuses the second message: the first part stays, and the words say so."""
    await store.write(seed)
    await store.write(_badges, 150)
    with trio.fail_after(20):
        async with open_rig(store, tmp_path) as rig:
            station = await rig.station("SIM-1", config={"LocalAuthListMaxLength": "120"})
            await _imported(rig)
            from db.schema.models import ConfigurationKey

            # the portal believes the station holds 1000 (a stale key): the station refuses
            await store.write(
                lambda: (
                    ConfigurationKey.update(value="1000")
                    .where(ConfigurationKey.key == "LocalAuthListMaxLength")
                    .execute()
                )
            )
            result = await rig.act("SIM-1", "send-local-list", updateType="Full")
            assert not result.ok
            assert result.answer == {"status": "Failed"}
            assert "message 2 of 2" in result.message
            assert "could not store" in result.message
            assert "100 of 150" in result.message
            assert len(station.local_auth.local_list) == 100
            assert station.local_auth.version == 1
