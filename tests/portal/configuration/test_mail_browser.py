"""System → General in a real browser: an administrator fills the E-mail card, saves, and
*Send test e-mail* shows what the SMTP server (aiosmtpd on loopback) answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store
from gateway import Gateway
from portal import create_app, serve_portal
from tests.portal.browser import BrowserThread, screenshot
from tests.portal.conftest import PASSWORD, World
from tests.portal.mail.smtp_server import Recorder, start_server


@pytest.fixture(name="browser_app")
def _browser_app(store: Store, gateway: Gateway, tmp_path: Path) -> Any:
    config = {
        "SECRET_KEY": "test",
        "TESTING": True,
        "FILES_ROOT": str(tmp_path / "files"),
        "SMTP_KEY_FILE": str(tmp_path / "smtp.key"),
    }
    return create_app(store, gateway, config=config)


@pytest.fixture(name="recorder")
def _recorder() -> Recorder:
    return Recorder()


@pytest.fixture(name="smtp_port")
def _smtp_port(recorder: Recorder) -> Iterator[int]:
    controller = start_server(recorder)
    yield controller.port
    controller.stop()


@pytest.mark.browser
async def test_an_administrator_sets_up_smtp_and_sees_the_servers_answer(
    chromium: BrowserThread,
    browser_app: Any,
    store: Store,
    world: World,
    smtp_port: int,
    recorder: Recorder,
    nursery: trio.Nursery,
) -> None:
    port = await nursery.start(serve_portal, browser_app, "127.0.0.1", 0)
    page = await chromium.new_page(f"http://127.0.0.1:{port}")

    def steps() -> dict[str, str]:
        page.goto("/login")
        page.fill("input[name=email]", "admin@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector('[data-testid="logout"]', state="attached")
        page.goto("/configuration/general")
        card = page.locator('[data-testid="system-mail"]')
        card.locator('input[name="mail.smtp_host"]').fill("127.0.0.1")
        card.locator('input[name="mail.smtp_port"]').fill(str(smtp_port))
        card.locator('select[name="mail.smtp_security"]').select_option("none")
        card.locator('input[name="mail.sender"]').fill("portal@example.com")
        card.locator('input[name="mail.smtp_password"]').fill("not-shown-again")
        card.locator('button:has-text("Save e-mail settings")').click()
        page.wait_for_selector(".notice.success")
        saved = page.inner_text(".notice.success")
        placeholder = page.get_attribute('input[name="mail.smtp_password"]', "placeholder") or ""
        test = page.locator('[data-testid="system-mail-test"]')
        test.locator('input[name="to"]').fill("ops@example.com")
        test.locator('button:has-text("Send test e-mail")').click()
        page.wait_for_selector(".notice.success")
        screenshot(page, "config-general-mail-test")
        return {
            "saved": saved,
            "placeholder": placeholder,
            "answer": page.inner_text(".notice.success"),
            "html": page.content(),
        }

    with trio.fail_after(60):
        seen = await chromium.run(steps)
    assert "E-mail settings saved." in seen["saved"]
    assert seen["placeholder"] == "a password is saved: leave empty to keep it"
    assert "not-shown-again" not in seen["html"]
    assert (
        "Test e-mail to ops@example.com: the server answered 250 2.0.0 Ok: queued as TEST1"
        in (seen["answer"])
    )
    assert [m["To"] for m in recorder.messages] == ["ops@example.com"]
