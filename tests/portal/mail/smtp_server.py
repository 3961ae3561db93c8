"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 (in its own thread and asyncio loop),
recording what it accepts, with plain, STARTTLS and implicit TLS, a login, and refusals."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A port nothing listens on now (aiosmtpd cannot bind port 0: its start-up check
    connects to the port it was given)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Recorder:
    """The handler: keeps every accepted message; ``refuse_rcpt``/``refuse_data`` answer
    with that reply instead (e.g. ``"550 5.1.1 No such user"``)."""

    refuse_rcpt: str = ""
    refuse_data: str = ""
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    received: threading.Event = field(default_factory=threading.Event)  # set at each message

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.refuse_data:
            return self.refuse_data
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.set()
        return f"250 2.0.0 Ok: queued as TEST{len(self.messages)}"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class Logins:
    """aiosmtpd authenticator accepting one user and password."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.seen: list[str] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        self.seen.append(auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "")
        return AuthResult(success=ok, handled=False)


def start_server(
    recorder: Recorder,
    *,
    port: int | None = None,
    starttls: ssl.SSLContext | None = None,
    implicit_tls: ssl.SSLContext | None = None,
    logins: Logins | None = None,
) -> Controller:
    """Start aiosmtpd on 127.0.0.1 (``port`` or a free one); ``controller.port`` says which."""
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs.update(tls_context=starttls, require_starttls=True)
    if implicit_tls is not None:
        kwargs.update(ssl_context=implicit_tls)
    if logins is not None:
        kwargs.update(authenticator=logins, auth_require_tls=starttls is not None)
        if starttls is None and implicit_tls is None:
            kwargs.update(auth_require_tls=False)
    controller = Controller(recorder, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    controller.start()
    return controller
