"""``chargeportal serve`` runs the daily alarm e-mail in its own nursery: configured from the
environment, it reaches a real SMTP server (aiosmtpd) while the portal keeps answering."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio

from chargeportal.serve import ServeOptions, serve
from db import open_store
from db.schema.models import User
from db.system.alarms import raise_alarm
from tests.portal.mail.smtp_server import Recorder, start_server


def seed() -> None:
    User.create(email="ops@example.com", role="admin", email_at_alarm=True)
    User.create(email="quiet@example.com", role="admin")
    raise_alarm("Fuse", "CP-1", message="fuse blown")


async def test_the_running_server_sends_the_digest_over_smtp(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_store(db_url) as store:
        await store.write(seed)
    recorder = Recorder()
    controller = start_server(recorder)
    monkeypatch.setenv("CHARGEPORTAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CHARGEPORTAL_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("CHARGEPORTAL_SMTP_SECURITY", "none")
    monkeypatch.setenv("CHARGEPORTAL_SMTP_FROM", "portal@example.com")
    monkeypatch.setenv("CHARGEPORTAL_DIGEST_TIME", "00:00")  # due since midnight
    monkeypatch.setenv("CHARGEPORTAL_SMTP_KEY_FILE", str(tmp_path / "smtp.key"))
    options = ServeOptions(
        db=db_url, gateway_port=0, portal_port=0, ftp_port=-1, files_root=str(tmp_path / "f")
    )
    try:
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                _, portal_port = await nursery.start(serve, options)
                await trio.to_thread.run_sync(recorder.received.wait, 20)
                async with httpx.AsyncClient() as client:
                    page = await client.get(f"http://127.0.0.1:{portal_port}/login")
                assert page.status_code == 200
                nursery.cancel_scope.cancel()
    finally:
        controller.stop()
    [message] = recorder.messages
    assert message["To"] == "ops@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "Fuse: CP-1" in text
    assert f"http://127.0.0.1:{portal_port}/alarms/" in text
