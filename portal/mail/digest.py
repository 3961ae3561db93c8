"""The daily alarm e-mail as a message: plain text and HTML parts (SPEC §7), times in the
system zone, a link to the Alarms page; and the test e-mail of System → General."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from db.system.alarm_digests import DigestAlarm, DigestContent
from db.system.mail_settings import MailConfig
from db.system.timezones import utc_to_local

__all__ = ["compose_digest", "compose_test_message"]

_TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "mail"
_TEXT = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=False,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_HTML = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined)


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def _envelope(config: MailConfig, to: str, subject: str, now: dt.datetime) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config.sender
    message["To"] = to
    message["Date"] = format_datetime(now.replace(tzinfo=dt.UTC))
    return message


def _local(config: MailConfig) -> object:
    def local(value: dt.datetime | None) -> str:
        if value is None:
            return ""
        return utc_to_local(value, config.time_zone).strftime("%Y-%m-%d %H:%M")

    return local


def _station(alarm: DigestAlarm) -> str:
    name = alarm.charge_box_id or "(system)"
    if alarm.station_name and alarm.station_name != alarm.charge_box_id:
        name += f" ({alarm.station_name})"
    if alarm.connector_id:
        name += f", outlet {alarm.connector_id}"
    return name


def _subject(content: DigestContent, config: MailConfig, day: str) -> str:
    scope = f" at {content.site_name}" if content.site_name else ""
    if content.empty:
        return f"{config.system_name}: no active alarms{scope} ({day})"
    plural = "" if content.active_total == 1 else "s"
    cleared = f", {content.cleared_total} cleared" if content.cleared_total else ""
    return (
        f"{config.system_name}: {content.active_total} active alarm{plural}{scope}{cleared} ({day})"
    )


def compose_digest(
    content: DigestContent, config: MailConfig, day: str, *, user_id: int, portal_url: str
) -> EmailMessage:
    """One recipient's digest. Its Message-ID is the same for the same user and day, so a
    copy sent twice (a process dying between the server's 250 and recording it) is one
    message to mail clients that drop duplicates."""
    message = _envelope(config, content.email, _subject(content, config, day), content.as_of)
    message["Message-ID"] = f"<alarm-digest.{day}.{user_id}@{_domain(config.sender)}>"
    values = {
        "c": content,
        "day": day,
        "system_name": config.system_name,
        "zone": config.time_zone,
        "alarms_url": f"{portal_url.rstrip('/')}/alarms/" if portal_url else "",
        "local": _local(config),
        "station": _station,
    }
    message.set_content(_TEXT.get_template("digest.txt").render(values))
    message.add_alternative(_HTML.get_template("digest.html").render(values), subtype="html")
    return message


def compose_test_message(config: MailConfig, to: str, now: dt.datetime) -> EmailMessage:
    message = _envelope(config, to, f"{config.system_name}: test e-mail", now)
    message["Message-ID"] = make_msgid("test", domain=_domain(config.sender))
    message.set_content(
        f"This is a test e-mail from {config.system_name}.\n\n"
        f"It went through {config.host}:{config.port} ({config.security}); the daily alarm"
        f" e-mail will go the same way.\n"
    )
    return message
