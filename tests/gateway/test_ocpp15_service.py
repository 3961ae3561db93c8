"""spyne inside the gateway: a SOAP request never triggers a full garbage collection."""

from __future__ import annotations

import gc
from typing import Any

import pytest
import spyne.context

from gateway.ocpp15.service import call_wsgi, wsgi_app
from tests.gateway.ocpp15_rig import envelope


def test_a_request_through_spyne_runs_no_full_garbage_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # spyne calls gc.collect() when a request ends, at most once a second: in a gateway
    # holding thousands of stations that froze every station for a full collection.
    collections: list[Any] = []
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args) or 0)
    monkeypatch.setattr(spyne.context, "_LAST_GC_RUN", 0.0)  # "long ago"
    status, data = call_wsgi(
        wsgi_app(),
        envelope("<cs:heartbeatRequest/>"),
        lambda name, payload: {"currentTime": "2026-01-05T08:00:00Z"},
    )
    assert status == 200
    assert b"heartbeatResponse" in data
    assert collections == []
