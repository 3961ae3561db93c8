"""Sending over SMTP against a real server (aiosmtpd on loopback): plain, STARTTLS with a
login, implicit TLS, and the server's own answer when it accepts, refuses or is down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from db.system.mail_settings import MailConfig
from portal.mail.digest import compose_test_message
from portal.mail.smtp import SendError, send_message
from tests.portal.mail.smtp_server import Logins, Recorder, free_port, start_server

NOW = dt.datetime(2026, 12, 3, 6, 0)


def mail_config(port: int, **changes: Any) -> MailConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "user": "",
        "password": "",
        "sender": "portal@example.com",
        "ca_file": "",
        "digest_time": dt.time(7, 0),
        "send_when_empty": False,
        "portal_url": "http://portal.example",
        "time_zone": "UTC",
        "system_name": "Charge Portal",
    }
    values.update(changes)
    return MailConfig(**values)


@pytest.fixture(name="ca")
def _ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(name="ca_file")
def _ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca: trustme.CA) -> Any:
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(name="recorder")
def _recorder() -> Recorder:
    return Recorder()


@pytest.fixture(name="plain_server")
def _plain_server(recorder: Recorder) -> Iterator[int]:
    controller = start_server(recorder)
    yield controller.port
    controller.stop()


async def test_a_plain_server_receives_the_message_and_its_answer_is_reported(
    plain_server: int, recorder: Recorder
) -> None:
    config = mail_config(plain_server)
    answer = await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    assert answer == "250 2.0.0 Ok: queued as TEST1"
    [message] = recorder.to("ops@example.com")
    assert message["Subject"] == "Charge Portal: test e-mail"
    assert recorder.envelopes == [("portal@example.com", ["ops@example.com"])]


async def test_starttls_with_a_login_goes_through_when_the_ca_file_is_trusted(
    ca: trustme.CA, ca_file: str, recorder: Recorder
) -> None:
    logins = Logins("mailer", "s3cret pass")
    controller = start_server(recorder, starttls=server_context(ca), logins=logins)
    try:
        config = mail_config(
            controller.port,
            security="starttls",
            user="mailer",
            password="s3cret pass",
            ca_file=ca_file,
        )
        answer = await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    finally:
        controller.stop()
    assert answer.startswith("250 ")
    assert len(recorder.to("ops@example.com")) == 1
    assert logins.seen == ["mailer"]


async def test_starttls_refuses_a_certificate_no_trusted_ca_signed(
    ca: trustme.CA, recorder: Recorder
) -> None:
    controller = start_server(recorder, starttls=server_context(ca))
    try:
        config = mail_config(controller.port, security="starttls")  # system CAs only
        with pytest.raises(
            SendError, match=r"certificate of 127\.0\.0\.1:\d+ is not trusted"
        ) as err:
            await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    finally:
        controller.stop()
    assert not err.value.temporary
    assert recorder.messages == []


async def test_a_wrong_password_is_the_servers_refusal(
    ca: trustme.CA, ca_file: str, recorder: Recorder
) -> None:
    controller = start_server(
        recorder, starttls=server_context(ca), logins=Logins("mailer", "right")
    )
    try:
        config = mail_config(
            controller.port, security="starttls", user="mailer", password="wrong", ca_file=ca_file
        )
        with pytest.raises(SendError, match=r"login as mailer refused: 535 ") as err:
            await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    finally:
        controller.stop()
    assert not err.value.temporary
    assert recorder.messages == []


async def test_implicit_tls_delivers(ca: trustme.CA, ca_file: str, recorder: Recorder) -> None:
    controller = start_server(recorder, implicit_tls=server_context(ca))
    try:
        config = mail_config(controller.port, security="tls", ca_file=ca_file)
        answer = await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    finally:
        controller.stop()
    assert answer.startswith("250 ")
    assert len(recorder.to("ops@example.com")) == 1


async def test_a_refused_recipient_is_a_permanent_failure_with_the_servers_words(
    plain_server: int, recorder: Recorder
) -> None:
    recorder.refuse_rcpt = "550 5.1.1 <ops@example.com>: Recipient address rejected"
    config = mail_config(plain_server)
    with pytest.raises(SendError) as err:
        await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    assert str(err.value) == (
        "recipient ops@example.com refused: 550 5.1.1 <ops@example.com>: Recipient address rejected"
    )
    assert err.value.code == 550
    assert not err.value.temporary


async def test_try_again_later_is_a_temporary_failure(
    plain_server: int, recorder: Recorder
) -> None:
    recorder.refuse_data = "451 4.3.0 Mail server temporarily unavailable"
    config = mail_config(plain_server)
    with pytest.raises(SendError, match=r"message refused: 451 4\.3\.0") as err:
        await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    assert err.value.temporary


async def test_a_server_that_is_down_is_a_temporary_failure() -> None:
    config = mail_config(free_port())
    with pytest.raises(SendError, match=r"cannot reach the server 127.0.0.1:\d+: ") as err:
        await send_message(config, compose_test_message(config, "ops@example.com", NOW))
    assert err.value.temporary
