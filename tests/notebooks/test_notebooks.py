"""Every notebook runs top to bottom (nbclient) against a real portal with demo data."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from db import Store
from db.accounts.api_tokens import create_token
from db.demo.demo_data import generate_sessions
from db.demo.seed import seed_demo
from gateway import Gateway
from portal import create_app, serve_portal
from portalclient import PortalClient
from tests.portal.conftest import simulated_station, start_gateway

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_carry_no_outputs(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    with_output = [
        i
        for i, cell in enumerate(cells)
        if cell.get("outputs") or cell.get("execution_count") is not None
    ]
    assert not with_output, f"{path.name}: strip the outputs of cells {with_output}"
    assert cells[0]["cell_type"] == "markdown", f"{path.name} opens with what it is for"


def _charge_once(client: PortalClient) -> None:
    """One real session on CP-SOLNA-2, plugged in (remote start, meter values, remote stop)."""
    uuid = client.outlets(chargeBoxId="CP-SOLNA-2")[0]["uuid"]
    answer = client.request("POST", f"/outlets/{uuid}/start", body={"idTag": "1000001"})
    assert answer["answer"] == {"status": "Accepted"}, answer
    session_id = None
    for _ in range(150):
        kept = client.messages("CP-SOLNA-2", action="StartTransaction")
        starts = [  # the answer's transactionId is the session's id
            json.loads(m["payload"])[2]["transactionId"]
            for m in kept
            if m["messageType"] == "CallResult"
        ]
        if starts and len(client.meter_values(starts[-1])) >= 2:
            session_id = starts[-1]
            break
        time.sleep(0.2)
    live = client.station("CP-SOLNA-2")["live"]
    assert session_id is not None, f"no StartTransaction and meter values: {kept} {live}"
    client.request("POST", f"/outlets/{uuid}/stop", body={})
    for _ in range(150):
        if any(m["action"] == "StopTransaction" for m in client.session_messages(session_id)):
            return
        time.sleep(0.2)
    raise AssertionError(f"session {session_id} did not end")


async def _until(client: PortalClient, ready: Callable[[PortalClient], bool]) -> None:
    with trio.fail_after(20):
        for _ in range(1000):
            if await trio.to_thread.run_sync(ready, client):
                return
            await trio.sleep(0.1)


async def _demo_portal(store: Store, nursery: trio.Nursery) -> tuple[str, str, Gateway]:
    await store.write(seed_demo)
    await store.read(lambda: generate_sessions(store.database, 300, seed=3, days=14))
    gateway = await start_gateway(store, nursery, command_timeout=10.0)
    station = simulated_station(gateway, "CP-SOLNA-2")
    await nursery.start(station.run)
    await station.wait_online()
    await station.plug_in(1)  # the driver plugs in; the remote start below starts charging
    app = create_app(store, gateway, config={"SECRET_KEY": "notebook-test"})
    port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
    _, secret = await store.write(create_token, "notebooks", "support", None, None)
    url = f"http://127.0.0.1:{port}"
    client = PortalClient(url, secret)
    await trio.to_thread.run_sync(_charge_once, client)
    # one alarm raised and cleared (the history), then one left active
    station.set_fault(2, "fuse")
    await _until(client, lambda c: len(list(c.alarms("active"))) == 1)
    station.clear_fault(2)
    await _until(client, lambda c: len(list(c.alarms("cleared"))) == 1)
    station.set_fault(2, "hardware")
    await _until(client, lambda c: len(list(c.alarms("active"))) == 1)
    return url, secret, gateway


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
async def test_notebook_runs_against_a_demo_portal(
    path: Path, store: Store, nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat", reason="the [notebooks] extra is not installed")
    nbclient = pytest.importorskip("nbclient", reason="the [notebooks] extra is not installed")
    pytest.importorskip("ipykernel", reason="the [notebooks] extra is not installed")
    pytest.importorskip("pandas", reason="the [notebooks] extra is not installed")
    url, token, _ = await _demo_portal(store, nursery)
    monkeypatch.setenv("CHARGEPORTAL_URL", url)
    monkeypatch.setenv("CHARGEPORTAL_TOKEN", token)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)

    def run() -> None:
        client = nbclient.NotebookClient(
            notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": "."}}
        )
        client.execute()

    await trio.to_thread.run_sync(run)
    printed = "".join(
        out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", [])
    )
    assert "checked" in printed
    for nothing in ("checked 0 ", " 0 meter values"):
        assert nothing not in printed, "the demo portal gives every check something to check"
