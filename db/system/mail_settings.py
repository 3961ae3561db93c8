"""SMTP and alarm e-mail settings (SPEC §7): stored, overridden by the environment, password
encrypted with a key kept outside the database.

Every setting lives in the ``setting`` table under a ``mail.*`` key, unless the environment
variable named beside it is set: a deployment configures the server there, and the System →
General tab shows such a value read-only. The SMTP password is never stored in clear: either
it comes from ``CHARGEPORTAL_SMTP_PASSWORD`` (never written anywhere), or it is encrypted
with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key in a file outside
the database (mode 0600, made on the first save). A copy of the database or a backup alone
then does not reveal the password; the key file stays on the server.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from db.config_errors import ConfigurationError
from db.schema.models import Setting
from db.system.settings import get_setting

__all__ = [
    "MAIL_SETTINGS",
    "SECURITY_MODES",
    "MailConfig",
    "MailSettingSpec",
    "default_key_file",
    "load_mail_config",
    "mail_settings_view",
    "update_mail_settings",
]

SECURITY_MODES = ("none", "starttls", "tls")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
PASSWORD_KEY = "mail.smtp_password"
_TOKEN_PREFIX = "fernet:"


@dataclass(frozen=True)
class MailSettingSpec:
    key: str
    label: str
    default: str
    env: str
    help: str = ""


#: The e-mail settings in the order the General tab shows them (the password is apart).
MAIL_SETTINGS: tuple[MailSettingSpec, ...] = (
    MailSettingSpec(
        "mail.smtp_host",
        "SMTP server",
        "",
        "CHARGEPORTAL_SMTP_HOST",
        "Host name or address of the mail server; empty: no e-mail is sent.",
    ),
    MailSettingSpec(
        "mail.smtp_security",
        "Connection security",
        "starttls",
        "CHARGEPORTAL_SMTP_SECURITY",
        "none: plain SMTP; starttls: upgrade to TLS (port 587); tls: TLS from the start (465).",
    ),
    MailSettingSpec(
        "mail.smtp_port",
        "SMTP port",
        "",
        "CHARGEPORTAL_SMTP_PORT",
        "Empty: 25, 587 or 465 after the connection security.",
    ),
    MailSettingSpec(
        "mail.smtp_user", "SMTP user", "", "CHARGEPORTAL_SMTP_USER", "Empty: no login."
    ),
    MailSettingSpec(
        "mail.sender",
        "Sender address",
        "",
        "CHARGEPORTAL_SMTP_FROM",
        "The From of every e-mail, e.g. charge-portal@example.com.",
    ),
    MailSettingSpec(
        "mail.smtp_ca_file",
        "Trusted CA file",
        "",
        "CHARGEPORTAL_SMTP_CA_FILE",
        "PEM file of the CA that signed the mail server's certificate; "
        "empty: the system's trusted CAs.",
    ),
    MailSettingSpec(
        "mail.digest_time",
        "Alarm e-mail at",
        "07:00",
        "CHARGEPORTAL_DIGEST_TIME",
        "Local time (HH:MM, system time zone) of the daily e-mail to users with Email at alarm.",
    ),
    MailSettingSpec(
        "mail.digest_when_empty",
        "When there are no alarms",
        "skip",
        "CHARGEPORTAL_DIGEST_WHEN_EMPTY",
        "skip: no e-mail that day; send: an e-mail saying so.",
    ),
    MailSettingSpec(
        "mail.portal_url",
        "Portal address in e-mails",
        "",
        "CHARGEPORTAL_PORTAL_URL",
        "e.g. https://portal.example.com; the e-mail links to its Alarms page.",
    ),
)
_BY_KEY = {spec.key: spec for spec in MAIL_SETTINGS}
PASSWORD_ENV = "CHARGEPORTAL_SMTP_PASSWORD"
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


@dataclass(frozen=True)
class MailConfig:
    """The effective settings for sending (environment over database over default)."""

    host: str
    port: int
    security: str  # one of SECURITY_MODES
    user: str
    password: str
    sender: str
    ca_file: str
    digest_time: dt.time
    send_when_empty: bool
    portal_url: str
    time_zone: str
    system_name: str
    problem: str = ""  # why nothing can be sent (no server, a password that cannot be read)

    @property
    def ready(self) -> bool:
        return bool(self.host and self.sender and not self.problem)


# --- the password's key ---------------------------------------------------------------


def _key(key_file: str | os.PathLike[str], *, create: bool) -> bytes | None:
    path = Path(key_file)
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        if not create:
            return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: two processes saving at once keep one key (the loser reads the winner's)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    return key


def encrypt_password(password: str, key_file: str | os.PathLike[str]) -> str:
    key = _key(key_file, create=True)
    assert key is not None
    return _TOKEN_PREFIX + Fernet(key).encrypt(password.encode()).decode()


def decrypt_password(stored: str, key_file: str | os.PathLike[str]) -> str:
    """The clear password of a stored token; ``ValueError`` saying why it cannot be read."""
    if not stored.startswith(_TOKEN_PREFIX):
        raise ValueError("the stored SMTP password is not in the expected form: enter it again")
    key = _key(key_file, create=False)
    if key is None:
        raise ValueError(f"the key file {key_file} is missing: enter the SMTP password again")
    try:
        return Fernet(key).decrypt(stored[len(_TOKEN_PREFIX) :].encode()).decode()
    except (InvalidToken, ValueError):
        raise ValueError(
            f"the SMTP password was saved with another key than {key_file}: enter it again"
        ) from None


# --- reading --------------------------------------------------------------------------


def _stored() -> dict[str, str]:
    keys = [*_BY_KEY, PASSWORD_KEY]
    return {row.key: row.value for row in Setting.select().where(Setting.key.in_(keys))}


def _effective(stored: dict[str, str], environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """key -> (value, source) where source is the environment variable's name, or ""."""
    values = {}
    for spec in MAIL_SETTINGS:
        if environ.get(spec.env, "").strip():
            values[spec.key] = (environ[spec.env].strip(), spec.env)
        else:
            values[spec.key] = (stored.get(spec.key, spec.default), "")
    return values


def _port(value: str, security: str) -> int:
    return int(value) if value.strip() else DEFAULT_PORTS.get(security, 25)


def _time(value: str) -> dt.time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f"not a time of day (HH:MM): {value!r}")
    return dt.time(int(match[1]), int(match[2]))


def load_mail_config(
    key_file: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> MailConfig:
    """The settings to send with; ``problem`` says why sending is impossible, if it is."""
    environ = os.environ if environ is None else environ
    stored = _stored()
    values = {key: value for key, (value, _) in _effective(stored, environ).items()}
    problems = []
    security = values["mail.smtp_security"].lower()
    if security not in SECURITY_MODES:
        problems.append(f"unknown connection security {security!r}")
        security = "starttls"
    try:
        port = _port(values["mail.smtp_port"], security)
    except ValueError:
        problems.append(f"SMTP port {values['mail.smtp_port']!r} is not a number")
        port = DEFAULT_PORTS[security]
    try:
        digest_time = _time(values["mail.digest_time"])
    except ValueError as exc:
        problems.append(str(exc))
        digest_time = dt.time(7, 0)
    password = environ.get(PASSWORD_ENV, "")
    if not password and stored.get(PASSWORD_KEY):
        try:
            password = decrypt_password(stored[PASSWORD_KEY], key_file)
        except ValueError as exc:
            problems.append(str(exc))
    if not values["mail.smtp_host"]:
        problems.append("no SMTP server is configured")
    elif not values["mail.sender"]:
        problems.append("no sender address is configured")
    return MailConfig(
        host=values["mail.smtp_host"],
        port=port,
        security=security,
        user=values["mail.smtp_user"],
        password=password,
        sender=values["mail.sender"],
        ca_file=values["mail.smtp_ca_file"],
        digest_time=digest_time,
        send_when_empty=values["mail.digest_when_empty"].lower() == "send",
        portal_url=values["mail.portal_url"].rstrip("/"),
        time_zone=get_setting("system.time_zone"),
        system_name=get_setting("system.name"),
        problem="; ".join(problems),
    )


def mail_settings_view(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the General tab shows: values, which come from the environment, whether a
    password is set (never the password itself)."""
    environ = os.environ if environ is None else environ
    stored = _stored()
    effective = _effective(stored, environ)
    return {
        "specs": MAIL_SETTINGS,
        "values": {key: value for key, (value, _) in effective.items()},
        "sources": {key: source for key, (_, source) in effective.items() if source},
        "password_set": bool(environ.get(PASSWORD_ENV) or stored.get(PASSWORD_KEY)),
        "password_source": PASSWORD_ENV if environ.get(PASSWORD_ENV) else "",
        "security_modes": SECURITY_MODES,
    }


# --- writing --------------------------------------------------------------------------


def _check(key: str, value: str) -> str:
    value = value.strip()
    if key == "mail.smtp_security" and value.lower() not in SECURITY_MODES:
        raise ConfigurationError("Connection security is none, starttls or tls.", field=key)
    if key == "mail.smtp_port" and value and not (value.isdigit() and 0 < int(value) < 65536):
        raise ConfigurationError("A port from 1 to 65535, or empty.", field=key)
    if key == "mail.smtp_host" and any(c.isspace() for c in value):
        raise ConfigurationError("A host name has no spaces.", field=key)
    if key == "mail.sender" and value and not _ADDRESS.match(value):
        raise ConfigurationError(f"Not an e-mail address: {value!r}", field=key)
    if key == "mail.digest_time":
        try:
            return _time(value).strftime("%H:%M")
        except ValueError:
            raise ConfigurationError("A time of day as HH:MM, e.g. 07:00.", field=key) from None
    if key == "mail.digest_when_empty" and value.lower() not in ("skip", "send"):
        raise ConfigurationError("skip or send.", field=key)
    if key == "mail.portal_url" and value and not re.match(r"^https?://[^\s/]+", value):
        raise ConfigurationError("An address starting with http:// or https://", field=key)
    if key == "mail.smtp_ca_file" and value and not Path(value).is_file():
        raise ConfigurationError(f"No such file on the server: {value}", field=key)
    return value.lower() if key in ("mail.smtp_security", "mail.digest_when_empty") else value


def update_mail_settings(
    changes: Mapping[str, str],
    key_file: str | os.PathLike[str],
    *,
    password: str | None = None,
    clear_password: bool = False,
) -> None:
    """Validate then store ``changes`` (all or nothing); ``password``: a new one (None or
    empty: keep the stored one), encrypted under ``key_file``."""
    unknown = sorted(set(changes) - set(_BY_KEY))
    if unknown:
        raise ConfigurationError(f"Unknown setting(s): {', '.join(unknown)}")
    checked = {key: _check(key, str(value)) for key, value in changes.items()}
    if password:
        if len(password) > 1024:
            raise ConfigurationError("That password is too long.", field=PASSWORD_KEY)
        checked[PASSWORD_KEY] = encrypt_password(password, key_file)
    elif clear_password:
        checked[PASSWORD_KEY] = ""
    for key, value in checked.items():
        Setting.insert(key=key, value=value).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: value}
        ).execute()


def default_key_file() -> str:
    """The SMTP password's key file: ``CHARGEPORTAL_SMTP_KEY_FILE``, else
    ``var/secrets/smtp.key`` (beside ``var/files``, outside the database)."""
    return os.environ.get("CHARGEPORTAL_SMTP_KEY_FILE", "").strip() or "var/secrets/smtp.key"
