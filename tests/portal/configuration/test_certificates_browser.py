"""In Chromium, at a station connected as the simulator: install root certificates, list
them, delete one from the list; then lower another station's security profile through
the warning and see that station get in. No console errors on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import Station
from gateway import Gateway
from tests.pki import make_authority
from tests.portal.browser import BrowserThread, log_in, screenshot
from tests.portal.conftest import PASSWORD, World, simulated_station

pytestmark = pytest.mark.browser

ROOT = "CentralSystemRootCertificate"


async def test_certificates_are_installed_listed_and_deleted_and_a_profile_lowered(
    chromium: BrowserThread,
    base_url: str,
    serving_gateway: Gateway,
    store: Store,
    world: World,
    nursery: trio.Nursery,
    tmp_path: Path,
) -> None:
    roots = [make_authority(tmp_path / n, f"Operator Root {n}") for n in ("one", "two")]
    serials = [format(r.certificate.serial_number, "x") for r in roots]
    # SOLNA-2 was upgraded to profile 3, but has lost its client certificate: refused
    await store.write(
        lambda: (
            Station.update(security_profile=3).where(Station.id == world.solna_station2).execute()
        )
    )
    station = simulated_station(serving_gateway, "SOLNA-1")
    locked_out = simulated_station(serving_gateway, "SOLNA-2", outlets=1)
    page = await chromium.new_page(base_url)
    problems: list[str] = []

    def watch() -> None:
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        log_in(page, "admin@example.com", PASSWORD)

    with trio.fail_after(90):
        await nursery.start(station.run)
        nursery.start_soon(locked_out.run)  # refused until its profile is lowered
        await station.wait_online()
        await chromium.run(watch)

        def certificates() -> dict[str, Any]:
            page.goto(f"/configuration/control?node=station:{world.solna_station}")
            page.wait_for_selector("body[data-live='1']", state="attached")
            listing = '[data-testid="installed-certificates"]'
            never = page.inner_text(listing)
            install = page.locator('[data-action="install-certificate"]')
            for root in roots:
                install.locator("select[name=certificateType]").select_option(ROOT)
                install.locator("textarea[name=certificate]").fill(root.cert_pem)
                install.locator("button").click()
                page.wait_for_selector(
                    '[data-action="install-certificate"] [data-answer="Accepted"]'
                )
                install.locator(".result-slot").evaluate("slot => { slot.innerHTML = ''; }")
            get = page.locator('[data-action="get-installed-certificate-ids"]')
            get.locator("select[name=certificateType]").select_option(ROOT)
            get.locator("button").click()
            listed = get.locator('[data-testid="action-result"]').inner_text()
            rows = f"{listing} tr[data-certificate-row]"
            page.locator(rows).nth(1).wait_for()  # the list re-read after the answer
            shown = page.inner_text(listing)
            screenshot(page, "certificates-listed")
            page.locator(f'{rows}[data-serial="{serials[0]}"] button').click()
            asked = page.inner_text("#confirm-text")
            page.click("[data-confirm-ok]")
            answer = page.locator('#certificate-answer [data-testid="action-result"]').inner_text()
            page.locator(f'{rows}[data-serial="{serials[0]}"]').wait_for(state="detached")
            left = [r.get_attribute("data-serial") for r in page.locator(rows).all()]
            screenshot(page, "certificates-deleted")
            return {
                "never": never, "listed": listed, "shown": shown, "asked": asked,
                "answer": answer, "left": left,
            }  # fmt: skip

        seen = await chromium.run(certificates)
        assert "never read" in seen["never"]
        assert (
            "The station has 2 certificates of the kind CentralSystemRootCertificate"
            in seen["listed"]
        )
        assert all(serial in seen["shown"] for serial in serials)
        assert serials[0] in seen["asked"]
        assert "The station deleted the certificate." in seen["answer"]
        assert seen["left"] == [serials[1]]
        assert [c.serial_number for c in station.certificates.roots[ROOT]] == [
            roots[1].certificate.serial_number
        ]
        assert not locked_out.online

        def lower() -> dict[str, str]:
            page.goto(f"/configuration/general?node=station:{world.solna_station2}")
            form = page.locator('[data-testid="lower-security-profile"]')
            warning = form.locator('[data-testid="lower-warning"]').inner_text()
            form.locator("select[name=securityProfile]").select_option("0")
            screenshot(page, "security-profile-lower")
            form.locator("button").click()
            asked = page.inner_text("#confirm-text")
            page.click("[data-confirm-ok]")
            page.wait_for_selector('[data-testid="security-profile"]:has-text("0 —")')
            flashed = page.inner_text("body")
            screenshot(page, "security-profile-lowered")
            return {"warning": warning, "asked": asked, "flashed": flashed}

        lowered = await chromium.run(lower)
        await locked_out.wait_online()  # the gateway now accepts it without a certificate
    assert "accept a weaker connection from SOLNA-2" in lowered["warning"]
    assert "weaker connection" in lowered["asked"]
    assert "Security profile lowered from 3 (TLS + client certificate) to 0" in lowered["flashed"]
    assert problems == []
