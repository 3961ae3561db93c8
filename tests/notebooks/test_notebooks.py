"""Every notebook runs top to bottom (nbclient) against a real portal with demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio

from db import Store
from db.api_tokens import create_token
from db.seed import seed_demo
from gateway import Gateway
from portal import create_app, serve_portal
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


async def _demo_portal(store: Store, nursery: trio.Nursery) -> tuple[str, str, Gateway]:
    await store.write(seed_demo)
    gateway = await start_gateway(store, nursery, command_timeout=10.0)
    station = simulated_station(gateway, "CP-SOLNA-2")
    await nursery.start(station.run)
    await station.wait_online()
    app = create_app(store, gateway, config={"SECRET_KEY": "notebook-test"})
    port = await nursery.start(serve_portal, app, "127.0.0.1", 0)
    _, secret = await store.write(create_token, "notebooks", "support", None, None)
    return f"http://127.0.0.1:{port}", secret, gateway


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
