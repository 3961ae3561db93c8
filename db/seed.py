"""Demo data for a new installation: a site, a floor, three stations, RFID users, news."""

from __future__ import annotations

from dataclasses import dataclass, field

from db.models import News, Service, Setting, User
from db.provisioning import create_id_tag, create_station, create_user

DEMO_SITE = "Solna"
DEMO_FLOOR = "Garage level 1"
DEMO_STATIONS = (("CP-SOLNA-1", 1), ("CP-SOLNA-2", 2), ("CP-SOLNA-4", 4))
DEMO_USERS = (
    ("anna.berg@example.com", "1000001", "Anna", "Berg"),
    ("erik.lind@example.com", "1000002", "Erik", "Lind"),
)
DEFAULT_SETTINGS = {
    "system_name": "Charge Portal",
    "description": "EV charging fleet",
    "ftp_address": "",
    "ocpp15_address": "",
    "ocpp16_address": "",
}


@dataclass
class Seeded:
    admin_email: str | None = None
    admin_password: str | None = None
    lines: list[str] = field(default_factory=list)


def ensure_settings() -> None:
    for key, value in DEFAULT_SETTINGS.items():
        Setting.get_or_create(key=key, defaults={"value": value})


def create_first_admin(email: str = "admin@example.com") -> Seeded:
    """The first administrator with a random password, unless an administrator exists."""
    seeded = Seeded()
    if User.select().where(User.role == "admin").exists():
        return seeded
    created = create_user(email, "admin", first_name="Portal", last_name="Administrator")
    seeded.admin_email = email
    seeded.admin_password = created.password
    return seeded


def seed_demo() -> list[str]:
    """The demo topology; returns what was created, one line each."""
    lines = []
    for index, (cbid, outlets) in enumerate(DEMO_STATIONS):
        create_station(
            cbid,
            site=DEMO_SITE,
            floor=DEMO_FLOOR,
            outlets=outlets,
            name=f"Solna garage {index + 1}",
            mode="OPEN" if outlets == 1 else "RFID",
        )
        lines.append(f"station {cbid} with {outlets} outlet(s) at {DEMO_SITE} / {DEMO_FLOOR}")
    for email, rfid, first, last in DEMO_USERS:
        created = create_user(email, "ev-user", rfid=rfid, first_name=first, last_name=last)
        lines.append(f"EV user {email} with RFID {rfid} (password {created.password})")
    create_id_tag("DEMOBLOCKED", status="Blocked")
    lines.append("id tag DEMOBLOCKED (Blocked)")
    Service.get_or_create(
        name="Public map", defaults={"kind": "map", "description": "Publishes stations on a map"}
    )
    Service.get_or_create(
        name="Payment", defaults={"kind": "payment", "description": "Pay-per-session service"}
    )
    News.create(title="Welcome to Charge Portal", body="Demo data has been loaded.")
    return lines
