"""System → General, e-mail: SMTP settings saved (the password encrypted under a key outside
the database), environment variables shown read-only, and *Send test e-mail* reporting what
a real SMTP server (aiosmtpd) answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from db import Store
from db.schema.models import Event, Setting
from db.system.mail_settings import load_mail_config
from portal import create_app
from tests.portal.conftest import World, login, post
from tests.portal.mail.smtp_server import Recorder, free_port, start_server


@pytest.fixture(name="key_file")
def _key_file(tmp_path: Path) -> Path:
    return tmp_path / "secrets" / "smtp.key"


@pytest.fixture(name="app")
def _app(store: Store, gateway: Any, key_file: Path) -> Any:
    return create_app(
        store,
        gateway,
        config={"SECRET_KEY": "test-secret", "TESTING": True, "SMTP_KEY_FILE": str(key_file)},
    )


@pytest.fixture(name="recorder")
def _recorder() -> Recorder:
    return Recorder()


@pytest.fixture(name="smtp_port")
def _smtp_port(recorder: Recorder) -> Iterator[int]:
    controller = start_server(recorder)
    yield controller.port
    controller.stop()


def settings(port: int, **extra: str) -> dict[str, str]:
    return {
        "mail.smtp_host": "127.0.0.1",
        "mail.smtp_port": str(port),
        "mail.smtp_security": "none",
        "mail.smtp_user": "",
        "mail.sender": "portal@example.com",
        "mail.smtp_ca_file": "",
        "mail.digest_time": "6:30",
        "mail.digest_when_empty": "skip",
        "mail.portal_url": "https://portal.example",
        **extra,
    }


async def test_the_admin_saves_smtp_settings_and_the_password_is_stored_encrypted(
    client: Any, store: Store, world: World, key_file: Path
) -> None:
    await login(client, world.emails["admin"])
    response = await post(
        client,
        "/configuration/system/mail",
        settings(2525, **{"mail.smtp_password": "hunter2-secret", "mail.smtp_user": "mailer"}),
    )
    assert response.status_code == 302
    stored = await store.read(lambda: {s.key: s.value for s in Setting.select()})
    assert stored["mail.smtp_host"] == "127.0.0.1"
    assert stored["mail.digest_time"] == "06:30"
    assert "hunter2" not in stored["mail.smtp_password"]
    assert stored["mail.smtp_password"].startswith("fernet:")
    assert (await trio.Path(key_file).stat()).st_mode & 0o777 == 0o600
    config = await store.read(load_mail_config, str(key_file), {})
    assert (config.user, config.password, config.port) == ("mailer", "hunter2-secret", 2525)

    page = await (await client.get("/configuration/general")).get_data(as_text=True)
    assert "hunter2" not in page
    assert "a password is saved: leave empty to keep it" in page
    # saving again without a password keeps it
    await post(client, "/configuration/system/mail", settings(2526))
    config = await store.read(load_mail_config, str(key_file), {})
    assert (config.password, config.port) == ("hunter2-secret", 2526)


async def test_a_password_saved_under_another_key_is_a_clear_problem(
    client: Any, store: Store, world: World, key_file: Path
) -> None:
    await login(client, world.emails["admin"])
    await post(client, "/configuration/system/mail", settings(25, **{"mail.smtp_password": "pw"}))
    await trio.Path(key_file).unlink()
    config = await store.read(load_mail_config, str(key_file), {})
    assert not config.ready
    assert f"the key file {key_file} is missing: enter the SMTP password again" in config.problem


async def test_bad_values_are_refused_next_to_their_field(client: Any, world: World) -> None:
    await login(client, world.emails["admin"])
    for field, value, message in (
        ("mail.smtp_port", "70000", "A port from 1 to 65535, or empty."),
        ("mail.smtp_security", "ssl", "Connection security is none, starttls or tls."),
        ("mail.sender", "not an address", "Not an e-mail address"),
        ("mail.digest_time", "25:00", "A time of day as HH:MM"),
    ):
        response = await post(client, "/configuration/system/mail", settings(25, **{field: value}))
        assert response.status_code == 400
        assert message in await response.get_data(as_text=True)


async def test_settings_from_the_environment_win_and_are_shown_read_only(
    client: Any, store: Store, world: World, monkeypatch: pytest.MonkeyPatch, key_file: Path
) -> None:
    monkeypatch.setenv("CHARGEPORTAL_SMTP_HOST", "smtp.deploy.example")
    monkeypatch.setenv("CHARGEPORTAL_SMTP_PASSWORD", "from-env")
    await login(client, world.emails["admin"])
    page = await (await client.get("/configuration/general")).get_data(as_text=True)
    assert 'value="smtp.deploy.example"' in page
    assert "Set by the environment variable <code>CHARGEPORTAL_SMTP_HOST</code>" in page
    assert "CHARGEPORTAL_SMTP_PASSWORD</code> (never stored)" in page
    await post(client, "/configuration/system/mail", settings(25))  # host from the form ignored
    config = await store.read(load_mail_config, str(key_file))
    assert (config.host, config.password) == ("smtp.deploy.example", "from-env")
    stored = await store.read(lambda: {s.key for s in Setting.select()})
    assert "mail.smtp_host" not in stored
    assert "mail.smtp_password" not in stored


async def test_send_test_e_mail_shows_the_servers_answer(
    client: Any, store: Store, world: World, smtp_port: int, recorder: Recorder
) -> None:
    await login(client, world.emails["admin"])
    await post(client, "/configuration/system/mail", settings(smtp_port))
    response = await post(client, "/configuration/system/mail/test", {"to": "ops@example.com"})
    assert response.status_code == 200
    page = await response.get_data(as_text=True)
    assert (
        "Test e-mail to ops@example.com: the server answered 250 2.0.0 Ok: queued as TEST1" in page
    )
    [message] = recorder.messages
    assert message["To"] == "ops@example.com"
    logged = await store.read(
        lambda: [e.message for e in Event.select().where(Event.kind == "mail.test")]
    )
    assert logged == [
        "Test e-mail to ops@example.com: the server answered 250 2.0.0 Ok: queued as TEST1"
    ]


async def test_send_test_e_mail_shows_a_refusal_and_a_server_that_is_down(
    client: Any, world: World, smtp_port: int, recorder: Recorder
) -> None:
    await login(client, world.emails["admin"])
    recorder.refuse_rcpt = "550 5.7.1 Relaying denied"
    await post(client, "/configuration/system/mail", settings(smtp_port))
    response = await post(client, "/configuration/system/mail/test", {"to": "ops@example.com"})
    assert response.status_code == 502
    assert (
        "Test e-mail to ops@example.com not sent: recipient ops@example.com refused:"
        " 550 5.7.1 Relaying denied" in await response.get_data(as_text=True)
    )
    down = free_port()
    await post(client, "/configuration/system/mail", settings(down))
    response = await post(client, "/configuration/system/mail/test", {"to": "ops@example.com"})
    assert response.status_code == 502
    assert f"cannot reach the server 127.0.0.1:{down}" in await response.get_data(as_text=True)


async def test_without_a_server_the_test_button_says_so(client: Any, world: World) -> None:
    await login(client, world.emails["admin"])
    response = await post(client, "/configuration/system/mail/test", {"to": "ops@example.com"})
    assert response.status_code == 400
    assert "Nothing can be sent: no SMTP server is configured." in await response.get_data(
        as_text=True
    )


async def test_the_general_tab_shows_how_the_last_digests_went(
    client: Any, store: Store, world: World
) -> None:
    import datetime as dt

    from db.schema.models import User
    from db.system.alarm_digests import claim_digest, finish_digest, plan_digests

    def two_digests() -> None:
        User.update(email_at_alarm=True).where(
            User.id.in_([world.users["admin"], world.users["site-admin"]])
        ).execute()
        now = dt.datetime(2026, 12, 3, 7, 0)
        plan_digests("2026-12-03", now)
        lease = dt.timedelta(minutes=10)
        first, second = claim_digest("w", now, lease), claim_digest("w", now, lease)
        assert first is not None
        assert second is not None
        finish_digest(first, "w", "sent", "250 OK", now)
        finish_digest(second, "w", "failed", "recipient refused: 550 No such user", now)

    await login(client, world.emails["admin"])
    page = await (await client.get("/configuration/general")).get_data(as_text=True)
    assert "Last alarm e-mail:\n    none yet." in page
    await store.write(two_digests)
    page = await (await client.get("/configuration/general")).get_data(as_text=True)
    assert "2026-12-03: 1 sent, 1 failed" in page
    assert "recipient refused: 550 No such user" in page
