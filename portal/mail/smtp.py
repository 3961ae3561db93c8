"""Sending one e-mail over SMTP (stdlib ``smtplib`` in a worker thread) and reporting the
server's own answer: the final reply on success, the refusing reply or the network error
on failure, marked temporary (worth retrying) or not."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from functools import partial

import trio

from db.system.mail_settings import MailConfig

__all__ = ["SendError", "send_message", "send_message_sync"]

#: At most two SMTP conversations at once per Trio run: mail never takes the threads that
#: database reads need (a RunVar: a limiter belongs to one run).
_LIMITER: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar("smtp_limiter")


def _limiter() -> trio.CapacityLimiter:
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = trio.CapacityLimiter(2)
        _LIMITER.set(limiter)
        return limiter


class SendError(Exception):
    """The e-mail was not accepted; ``str()`` is the reason as the server gave it."""

    def __init__(self, reason: str, *, temporary: bool, code: int | None = None) -> None:
        super().__init__(reason)
        self.temporary = temporary
        self.code = code


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())


def _refused(step: str, code: int, reply: bytes | str) -> SendError:
    # RFC 5321 §4.2.1: 4yz is a transient failure (try again), 5yz a permanent one
    return SendError(f"{step}: {code} {_text(reply)}", temporary=400 <= code < 500, code=code)


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """Verifying TLS: the system's CAs, or only ``ca_file`` when one is configured."""
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """One AUTH with the best mechanism both sides know (``SMTP.login`` tries every one in
    turn and reports the last failure, which hides the server's answer to the first)."""
    if not smtp.has_extn("auth"):
        raise SendError("the server offers no login (AUTH), but a user is set", temporary=False)
    offered = smtp.esmtp_features["auth"].upper().split()
    smtp.user, smtp.password = user, password
    for mechanism in ("CRAM-MD5", "PLAIN", "LOGIN"):
        if mechanism in offered:
            method = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
            smtp.auth(mechanism, method, initial_response_ok=mechanism != "LOGIN")
            return
    raise SendError(
        f"no login mechanism in common with the server ({' '.join(offered)})", temporary=False
    )


def _converse(
    config: MailConfig, message: EmailMessage, timeout: float, context: ssl.SSLContext
) -> str:
    smtp: smtplib.SMTP
    if config.security == "tls":
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
    with smtp:
        code, reply = smtp.ehlo()
        if code != 250:
            smtp.helo()
        if config.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise SendError(
                    f"the server {config.host}:{config.port} does not offer STARTTLS",
                    temporary=False,
                )
            code, reply = smtp.starttls(context=context)
            smtp.ehlo()
        if config.user:
            _login(smtp, config.user, config.password)
        code, reply = smtp.mail(config.sender)
        if code != 250:
            raise _refused(f"sender {config.sender} refused", code, reply)
        recipients = [a.addr_spec for a in message["To"].addresses]
        for recipient in recipients:
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                raise _refused(f"recipient {recipient} refused", code, reply)
        body = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        code, reply = smtp.data(body)
        if code != 250:
            raise _refused("message refused", code, reply)
        return f"{code} {_text(reply)}"


def send_message_sync(
    config: MailConfig,
    message: EmailMessage,
    *,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> str:
    """Deliver ``message`` to the SMTP server of ``config``; the server's final answer
    (e.g. ``250 2.0.0 Ok: queued as 4F2A``), else ``SendError``."""
    where = f"{config.host}:{config.port}"
    try:
        return _converse(config, message, timeout, context or tls_context(config.ca_file))
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(
            f"login as {config.user} refused: {exc.smtp_code} {_text(exc.smtp_error)}",
            temporary=400 <= exc.smtp_code < 500,
            code=exc.smtp_code,
        ) from None
    except smtplib.SMTPResponseException as exc:  # the greeting, STARTTLS, HELO...
        raise _refused(f"the server {where} answered", exc.smtp_code, exc.smtp_error) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(f"the server {where}: {exc}", temporary=False) from None
    except smtplib.SMTPServerDisconnected as exc:
        raise SendError(
            f"the server {where} closed the connection: {exc}", temporary=True
        ) from None
    except ssl.SSLCertVerificationError as exc:
        raise SendError(
            f"the certificate of {where} is not trusted: {exc.verify_message}", temporary=False
        ) from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS with {where} failed: {exc.reason or exc}", temporary=False) from None
    except TimeoutError:
        raise SendError(
            f"the server {where} did not answer in {timeout:g} s", temporary=True
        ) from None
    except OSError as exc:  # refused, unreachable, unknown host
        reason = exc.strerror or str(exc)
        raise SendError(f"cannot reach the server {where}: {reason}", temporary=True) from None
    except smtplib.SMTPException as exc:
        raise SendError(f"the server {where}: {exc}", temporary=False) from None


async def send_message(
    config: MailConfig,
    message: EmailMessage,
    *,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> str:
    """``send_message_sync`` in a worker thread: the event loop, requests and stations go on
    while the SMTP server thinks. Cancelling abandons the thread (it ends by its timeout)."""
    return await trio.to_thread.run_sync(
        partial(send_message_sync, config, message, timeout=timeout, context=context),
        limiter=_limiter(),
        abandon_on_cancel=True,
    )
