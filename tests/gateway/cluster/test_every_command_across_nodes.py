"""Every central-system command kind, sent from a portal node to stations held by two
other nodes: the payload each station receives, the answer, and the database afterwards
(recorded once, by the node that holds the station)."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import ChargingProfile, IdTag, Reservation
from gateway.commands import BY_KEBAB
from tests.gateway.cluster.rig import start_node, wait_until
from tests.gateway.conftest import add_station
from tests.gateway.ocpp_client import open_station
from tests.portal.test_every_command import CASES, _rows_the_cases_change

pytestmark = pytest.mark.postgres


def _rows_for(station_id: int) -> None:
    Reservation.delete().execute()
    ChargingProfile.delete().execute()
    IdTag.delete().where(IdTag.id_tag == "7777").execute()
    _rows_the_cases_change(station_id)


async def test_every_command_kind_reaches_a_station_on_either_node(store: Store, nursery) -> None:
    ids = await store.write(lambda: {cbid: add_station(cbid) for cbid in ("ON-A", "ON-B")})
    a = await start_node(nursery, store, "node-a")
    b = await start_node(nursery, store, "node-b")
    portal = await start_node(nursery, store, "portal", gateway=False)
    for node, cbid in ((a, "ON-A"), (b, "ON-B")):
        await store.write(_rows_for, ids[cbid])
        assert node.port is not None
        async with open_station(node.port, cbid) as station:
            await station.result("Heartbeat", {})
            await wait_until(lambda cbid=cbid: portal.cluster.holder(cbid) is not None)
            assert portal.cluster.holder(cbid) == node.name
            for case in CASES:
                received: list[Any] = []

                async def answer(case=case, received=received) -> None:
                    call = await station.next_call()
                    received.append(call)
                    await station.answer(call, case.answer)

                with trio.fail_after(10):
                    async with trio.open_nursery() as answers:
                        answers.start_soon(answer)
                        portal.api.check_payload(BY_KEBAB[case.action].action, case.payload)
                        command = BY_KEBAB[case.action].from_ocpp(case.payload)
                        result = await portal.api.send(cbid, command, timeout=5)
                assert result.answer == case.answer, case.action
                [(_, _, action, payload)] = received
                assert (action, payload) == (BY_KEBAB[case.action].action, case.payload)
                if case.after is not None:
                    assert await store.read(case.after, ids[cbid]) == case.expected, cbid
